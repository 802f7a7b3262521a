/** The number of data-parallel workers from a setting: an integer >= 1 or 'auto' (one per CPU core). */
import * as os from 'os';
import { ConfigError } from '../../util/errors';

/**
 * Parse a worker count: a positive integer, or 'auto' = os.cpus().length (`cpus` overrides it for tests).
 * Empty / undefined -> 1 (single-threaded training). Throws a ConfigError naming the value and its source.
 */
export function parseWorkers(value: string | number | undefined, source = 'workers', cpus = os.cpus().length): number {
  if (value === undefined) return 1;
  const v = String(value).trim().toLowerCase();
  if (v === '') return 1;
  if (v === 'auto') return Math.max(1, cpus);
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new ConfigError(`${source}: expected a positive integer or 'auto', got ${JSON.stringify(value)}`);
  }
  return n;
}

/** The worker count named by env BST_WORKERS (unset: 1; 'auto': one per CPU core). */
export function workersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return parseWorkers(env.BST_WORKERS, 'BST_WORKERS');
}
