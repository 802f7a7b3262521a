/**
 * Notebook and script parameters: literals in one place, overridable from the environment.
 *
 *   const P = params({ seqLen: 10, epochs: 5, lr: 1e-3 }, { small: { epochs: 1 } });
 *
 * Each key can be overridden by the variable BST_<UPPER_SNAKE_KEY> (seqLen -> BST_SEQ_LEN); a preset named
 * by BST_PRESET (e.g. `small`, used by tests and CI) is applied first. Values are parsed to the default's
 * type (number, boolean, string, or a comma-separated number/string list); a value that does not parse is
 * a ConfigError naming the variable.
 */
import { ConfigError } from '../util/errors';

export type ParamValue = number | string | boolean | number[] | string[];
export type ParamSet = Record<string, ParamValue>;

/** camelCase -> BST_CAMEL_CASE. */
export function envName(key: string): string {
  return 'BST_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function parseLike(def: ParamValue, raw: string, name: string): ParamValue {
  const bad = (what: string) => new ConfigError(`${name}=${JSON.stringify(raw)} is not ${what}`);
  if (typeof def === 'number') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw bad('a number');
    return v;
  }
  if (typeof def === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw bad('a boolean (true/false/1/0)');
  }
  if (Array.isArray(def)) {
    const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (def.length > 0 && typeof def[0] === 'string') return parts;
    const nums = parts.map(Number);
    if (nums.some((n) => !Number.isFinite(n))) throw bad('a comma-separated list of numbers');
    return nums;
  }
  return raw;
}

export interface ParamsOptions {
  /** Environment to read (default process.env). */
  env?: Record<string, string | undefined>;
  /** Print the effective values and where each came from (default true). */
  print?: boolean;
}

/** Resolve parameters: defaults, then the BST_PRESET preset, then BST_<KEY> variables. */
export function params<T extends ParamSet>(defaults: T, presets: Record<string, Partial<T>> = {}, opts: ParamsOptions = {}): T {
  const env = opts.env ?? process.env;
  const out: ParamSet = { ...defaults };
  const source: Record<string, string> = {};
  const preset = env.BST_PRESET?.trim();
  if (preset) {
    if (!(preset in presets)) {
      if (Object.keys(presets).length > 0 || preset !== 'small') {
        // 'small' is the project-wide CI preset: a notebook without one simply runs its defaults.
        throw new ConfigError(`BST_PRESET=${JSON.stringify(preset)} is unknown here; presets: ${Object.keys(presets).join(', ') || '(none)'}`);
      }
    } else {
      for (const [k, v] of Object.entries(presets[preset] as ParamSet)) {
        if (!(k in defaults)) throw new ConfigError(`preset ${preset} sets unknown parameter ${k}`);
        out[k] = v;
        source[k] = `preset ${preset}`;
      }
    }
  }
  for (const key of Object.keys(defaults)) {
    const name = envName(key);
    const raw = env[name];
    if (raw !== undefined) {
      out[key] = parseLike(defaults[key], raw, name);
      source[key] = name;
    }
  }
  if (opts.print ?? true) {
    const width = Math.max(...Object.keys(out).map((k) => k.length));
    for (const [k, v] of Object.entries(out)) {
      console.log(`${k.padEnd(width)} = ${JSON.stringify(v)}${source[k] ? `   (${source[k]})` : ''}`);
    }
  }
  return out as T;
}
