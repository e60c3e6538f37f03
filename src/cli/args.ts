// cli/args: a small argument scanner for nix-instantiate-style command lines, where some flags
// take two values (`--arg NAME EXPR`, `--argstr NAME VALUE`) and may repeat (`-I`, `--arg`).
// Each command declares its flags; unknown flags and missing values are usage errors (exit 2).

export class UsageError extends Error {}

export interface FlagSpec {
  /** Number of values the flag takes (0 for a switch). */
  arity: 0 | 1 | 2;
  /** Other spellings, e.g. `-A` for `--attr`. */
  aliases?: string[];
}

export interface ParsedArgs {
  /** Values of each flag in command-line order (a switch gets one empty entry per use). */
  flags: Map<string, string[][]>;
  positional: string[];
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const byName = new Map<string, [string, FlagSpec]>();
  for (const [name, s] of Object.entries(spec)) {
    byName.set(name, [name, s]);
    for (const a of s.aliases ?? []) byName.set(a, [name, s]);
  }
  const flags = new Map<string, string[][]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    let inline: string | undefined;
    if (a.startsWith('--') && a.includes('=')) {
      const eq = a.indexOf('=');
      if (byName.has(a.slice(0, eq))) {
        inline = a.slice(eq + 1);
        a = a.slice(0, eq);
      }
    }
    const hit = byName.get(a);
    if (!hit) {
      if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) throw new UsageError(`unrecognised flag '${a}'`);
      positional.push(a);
      continue;
    }
    const [name, s] = hit;
    const vals: string[] = [];
    if (inline !== undefined) {
      if (s.arity !== 1) throw new UsageError(`flag '${a}' does not take a value after '='`);
      vals.push(inline);
    } else {
      for (let k = 0; k < s.arity; k++) {
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`flag '${a}' requires ${s.arity} argument${s.arity > 1 ? 's' : ''}`);
        vals.push(v);
      }
    }
    const list = flags.get(name) ?? [];
    list.push(vals);
    flags.set(name, list);
  }
  return { flags, positional };
}

export function flagSet(p: ParsedArgs, name: string): boolean {
  return p.flags.has(name);
}

/** The last value of a one-value flag. */
export function flagValue(p: ParsedArgs, name: string): string | undefined {
  const l = p.flags.get(name);
  return l && l.length ? l[l.length - 1]![0] : undefined;
}

/** Every use of a flag, each with its values. */
export function flagAll(p: ParsedArgs, name: string): string[][] {
  return p.flags.get(name) ?? [];
}
