/**
 * A small on-disk cache of JSON results keyed by a configuration object, so re-running a notebook reuses
 * finished runs (notebook 05's sweep). The key is the SHA-1 of the object's canonical JSON (keys sorted); each
 * entry is `<dir>/<hash>.json` holding `{ key, value }`, written atomically.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { writeJsonAtomic } from '../util/files';

/** JSON with object keys sorted at every level (stable across key order). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return (
      '{' +
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k]))
        .join(',') +
      '}'
    );
  }
  return JSON.stringify(v) ?? 'null';
}

/** The cache key (hex SHA-1, 16 characters) of a configuration object. */
export function cacheKey(key: unknown): string {
  return createHash('sha1').update(canonicalJson(key)).digest('hex').slice(0, 16);
}

/**
 * The cached value for `key` in `dir`, or `compute()`'s value stored there. Returns it with `cached` telling
 * which. An entry whose stored key differs (a hash collision or a hand-edited file) is recomputed.
 */
export async function cachedJson<T>(
  dir: string,
  key: unknown,
  compute: () => Promise<T> | T,
): Promise<{ value: T; cached: boolean; file: string }> {
  const file = path.join(dir, cacheKey(key) + '.json');
  if (fs.existsSync(file)) {
    try {
      const entry = JSON.parse(fs.readFileSync(file, 'utf8')) as { key: unknown; value: T };
      if (canonicalJson(entry.key) === canonicalJson(key)) return { value: entry.value, cached: true, file };
    } catch {
      /* unreadable entry: recompute */
    }
  }
  const value = await compute();
  writeJsonAtomic(file, { key, value });
  return { value, cached: false, file };
}
