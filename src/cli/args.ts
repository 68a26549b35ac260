/**
 * Command-line option parsing for the `zoostate` subcommands: `--name value`,
 * `--name=value` and boolean `--flag`, each declared with its type, so a typo or a
 * missing value is a clear usage error instead of a silently ignored argument.
 */

/** A usage error: printed with the subcommand's help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** One declared option. */
export interface OptionSpec {
  type: 'string' | 'integer' | 'boolean';
  /** One-letter alias (`-h`). */
  short?: string;
}

/** Parsed options (by long name) and the remaining positional arguments. */
export interface ParsedArgs {
  options: Map<string, string | number | boolean>;
  positionals: string[];
}

/**
 * Parse `argv` against `spec`. `--` ends option parsing. Integers must be decimal.
 * Throws `UsageError` for an unknown option, a missing value or a bad integer.
 */
export function parseOptions(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const options = new Map<string, string | number | boolean>();
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short !== undefined) byShort.set(s.short, name);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = byShort.get(arg.slice(1));
      if (name === undefined) throw new UsageError(`unknown option ${arg}`);
    } else {
      positionals.push(arg);
      continue;
    }
    const s = spec[name];
    if (s === undefined) throw new UsageError(`unknown option --${name}`);
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
      options.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    if (s.type === 'integer') {
      if (!/^-?\d+$/.test(value)) throw new UsageError(`option --${name} needs an integer, got '${value}'`);
      options.set(name, Number(value));
    } else {
      options.set(name, value);
    }
  }
  return { options, positionals };
}

/** An integer option within [min, max], or the default. */
export function integerOption(args: ParsedArgs, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = args.options.get(name);
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || value < min || value > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${String(value)}`);
  return value;
}

/** A string option, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.options.get(name);
  return typeof value === 'string' ? value : undefined;
}
