/** A small, strict command-line flag parser: typed flags, clear errors naming the bad flag or value. */
import { BstError } from './errors';

/** A command line that cannot be understood; the CLI prints the message and the usage text. */
export class UsageError extends BstError {}

export type FlagType = 'string' | 'number' | 'int' | 'boolean';

export interface FlagSpec {
  type: FlagType;
  /** One line for the usage text. */
  help: string;
  default?: string | number | boolean;
  /** Allowed values (strings). */
  choices?: readonly string[];
  /** The flag must be given. */
  required?: boolean;
}

export type FlagValues = Record<string, string | number | boolean | undefined>;

/** kebab-case flag name -> camelCase key. */
export function flagKey(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Parse `--name value`, `--name=value` and boolean `--name` / `--no-name` flags against a spec.
 * Returns camelCase keys. Positional arguments are refused (commands take flags only).
 */
export function parseFlags(argv: string[], spec: Record<string, FlagSpec>): FlagValues {
  const out: FlagValues = {};
  for (const [name, s] of Object.entries(spec)) if (s.default !== undefined) out[flagKey(name)] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (flags start with --)`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let s = spec[name];
    if (!s && name.startsWith('no-') && spec[name.slice(3)]?.type === 'boolean' && value === undefined) {
      out[flagKey(name.slice(3))] = false;
      continue;
    }
    if (!s)
      throw new UsageError(
        `unknown flag --${name}; known flags: ${Object.keys(spec)
          .map((k) => '--' + k)
          .join(', ')}`,
      );
    if (s.type === 'boolean') {
      if (value === undefined) out[flagKey(name)] = true;
      else if (value === 'true' || value === '1') out[flagKey(name)] = true;
      else if (value === 'false' || value === '0') out[flagKey(name)] = false;
      else throw new UsageError(`--${name}=${JSON.stringify(value)}: expected true or false`);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value (${s.help})`);
    }
    if (s.type === 'number' || s.type === 'int') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || (s.type === 'int' && !Number.isInteger(n))) {
        throw new UsageError(
          `--${name} ${JSON.stringify(value)}: expected ${s.type === 'int' ? 'an integer' : 'a number'}`,
        );
      }
      out[flagKey(name)] = n;
    } else {
      if (s.choices && !s.choices.includes(value)) {
        throw new UsageError(`--${name} ${JSON.stringify(value)}: expected one of ${s.choices.join(', ')}`);
      }
      out[flagKey(name)] = value;
    }
  }
  for (const [name, s] of Object.entries(spec)) {
    if (s.required && out[flagKey(name)] === undefined) throw new UsageError(`--${name} is required (${s.help})`);
  }
  return out;
}

/** The camelCase keys of the flags `argv` names explicitly (defaults not counted); argv must parse. */
export function givenFlags(argv: string[], spec: Record<string, FlagSpec>): Set<string> {
  const bare: Record<string, FlagSpec> = {};
  for (const [name, s] of Object.entries(spec)) bare[name] = { ...s, default: undefined, required: false };
  return new Set(Object.keys(parseFlags(argv, bare)));
}

/** The usage lines of a flag spec. */
export function flagUsage(spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const left = `  --${name}${s.type === 'boolean' ? '' : ` <${s.choices ? s.choices.join('|') : s.type}>`}`;
    const def = s.default !== undefined ? ` (default ${s.default})` : s.required ? ' (required)' : '';
    return [left, s.help + def] as const;
  });
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([l, r]) => l.padEnd(width) + r).join('\n');
}
