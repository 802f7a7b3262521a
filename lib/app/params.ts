/**
 * Notebook and script parameters: literals in one place, overridable from the environment in headless runs.
 *
 *   const P = params({ seqLen: 10, epochs: 5, lr: 1e-3 }, { small: { epochs: 1 } });
 *
 * Precedence depends on who runs the code:
 * - headless (scripts/run_notebooks.py sets BST_HEADLESS=1; scripts, the CLI and tests are not in a kernel):
 *   the given values, then the preset named by BST_PRESET (e.g. `small`, used by tests and CI), then
 *   BST_<UPPER_SNAKE_KEY> variables (seqLen -> BST_SEQ_LEN);
 * - interactive (a notebook kernel without BST_HEADLESS=1): the values written in the cell win, whatever the
 *   environment Jupyter was started with holds; the printout names the variables it did not apply.
 * The printout gives every value's source: `(cell)`, `(preset small)` or `(env BST_EPOCHS)`. Values are
 * parsed to the default's type (number, boolean, string, or a comma-separated number/string list); a value
 * that does not parse is a ConfigError naming the variable.
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
    const parts = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
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
  /** Who runs: 'headless' applies BST_PRESET and BST_<KEY>, 'interactive' keeps the cell's values (default: runMode(env)). */
  mode?: RunMode;
}

/** Whether the environment may override the cell's values ('headless') or not ('interactive'). */
export type RunMode = 'headless' | 'interactive';

/** True when this process is a tslab notebook kernel (its jupyter module is loaded). */
function inKernel(): boolean {
  return Object.keys(require.cache ?? {}).some((k) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(k));
}

/**
 * The run mode: 'interactive' in a notebook kernel unless BST_HEADLESS is 1/true (scripts/run_notebooks.py
 * sets it), 'headless' everywhere else (scripts, CLI, tests).
 */
export function runMode(env: Record<string, string | undefined> = process.env): RunMode {
  const flag = (env.BST_HEADLESS ?? '').trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(flag)) return 'headless';
  return inKernel() ? 'interactive' : 'headless';
}

/** The result of resolveParams: the values and, per key, where each came from. */
export interface ResolvedParams<T extends ParamSet> {
  values: T;
  /** per key: 'cell', 'preset <name>' or 'env BST_<KEY>' */
  sources: Record<keyof T, string>;
  /** environment overrides present but not applied (interactive mode), as NAME=value */
  ignored: string[];
  mode: RunMode;
}

/**
 * Resolve parameters without printing: headless, the given values, then the BST_PRESET preset, then
 * BST_<KEY> variables; interactive, the given values only (the overrides found are listed in `ignored`).
 */
export function resolveParams<T extends ParamSet>(
  defaults: T,
  presets: Record<string, Partial<T>> = {},
  opts: { env?: Record<string, string | undefined>; mode?: RunMode } = {},
): ResolvedParams<T> {
  const env = opts.env ?? process.env;
  const mode = opts.mode ?? runMode(env);
  const out: ParamSet = { ...defaults };
  const source: Record<string, string> = Object.fromEntries(Object.keys(defaults).map((k) => [k, 'cell']));
  const preset = env.BST_PRESET?.trim();
  if (mode === 'interactive') {
    const ignored: string[] = [];
    if (preset) ignored.push(`BST_PRESET=${preset}`);
    for (const key of Object.keys(defaults)) {
      const raw = env[envName(key)];
      if (raw !== undefined) ignored.push(`${envName(key)}=${raw}`);
    }
    return { values: out as T, sources: source as Record<keyof T, string>, ignored, mode };
  }
  if (preset) {
    if (!(preset in presets)) {
      if (Object.keys(presets).length > 0 || preset !== 'small') {
        // 'small' is the project-wide CI preset: a notebook without one simply runs its defaults.
        throw new ConfigError(
          `BST_PRESET=${JSON.stringify(preset)} is unknown here; presets: ${Object.keys(presets).join(', ') || '(none)'}`,
        );
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
      source[key] = `env ${name}`;
    }
  }
  return { values: out as T, sources: source as Record<keyof T, string>, ignored: [], mode };
}

/**
 * Resolve parameters (see resolveParams for the precedence) and print each value with its source, plus a
 * line naming the environment overrides an interactive session did not apply.
 */
export function params<T extends ParamSet>(
  defaults: T,
  presets: Record<string, Partial<T>> = {},
  opts: ParamsOptions = {},
): T {
  const r = resolveParams(defaults, presets, { env: opts.env, mode: opts.mode });
  if (opts.print ?? true) {
    const width = Math.max(...Object.keys(r.values).map((k) => k.length));
    for (const [k, v] of Object.entries(r.values))
      console.log(`${k.padEnd(width)} = ${JSON.stringify(v)}   (${r.sources[k]})`);
    if (r.ignored.length > 0) {
      console.log(
        `interactive session: the cell's values win; not applied: ${r.ignored.join(', ')} ` +
          "(they apply to headless runs: scripts/run_notebooks.py, or BST_HEADLESS=1 in the kernel's environment)",
      );
    }
  }
  return r.values;
}
