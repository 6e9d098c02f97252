import { parseArgs } from 'node:util';

/** What `pnpm bench ...` was asked to do. */
export type BenchCommand =
  | { readonly mode: 'help' }
  | { readonly mode: 'list' }
  | {
      readonly mode: 'one';
      readonly name: string;
      readonly quick: boolean;
      readonly rounds?: number;
      /** Only these contenders run (`--contenders a,b`); only figures they make are reported. */
      readonly contenders?: readonly string[];
    }
  | { readonly mode: 'all'; readonly quick: boolean; readonly rounds?: number };

/** Usage text of `pnpm bench`. */
export const USAGE = `Usage:
  pnpm bench <name> [--quick] [--rounds N] [--contenders a,b]
                                             run benchmarks/<name>.ts
  pnpm bench --all [--quick] [--rounds N]    run every benchmark in turn (CI: --all --quick)
  pnpm bench --list                          list the benchmarks

  --quick       a smoke run (under 20 s per benchmark) that still emits every figure
  --rounds N    override the number of rounds
  --contenders  run only these contenders (comma-separated); figures that need another are left out
Results: the table and, as the last line, one JSON object; the same JSON in bench-results/<name>.json.`;

/**
 * Parses the arguments of `pnpm bench`. Pure.
 *
 * @throws Error listing every problem with the arguments.
 */
export function parseBenchArgs(argv: readonly string[]): BenchCommand {
  let parsed: ReturnType<typeof parse>;
  const parse = (args: string[]) =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        quick: { type: 'boolean', default: false },
        rounds: { type: 'string' },
        contenders: { type: 'string' },
        list: { type: 'boolean', default: false },
        all: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  // pnpm passes a literal `--` through when called as `pnpm bench -- x`.
  const args = argv.filter((a) => a !== '--');
  try {
    parsed = parse(args);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { mode: 'help' };
  const problems: string[] = [];
  let rounds: number | undefined;
  if (values.rounds !== undefined) {
    rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1)
      problems.push(`--rounds must be an integer ≥ 1, got "${values.rounds}"`);
  }
  const modes = [values.list, values.all, positionals.length > 0].filter(Boolean).length;
  if (modes === 0) problems.push('name a benchmark, or pass --all or --list');
  if (modes > 1) problems.push('give only one of: a benchmark name, --all, --list');
  if (positionals.length > 1) problems.push(`one benchmark at a time, got ${positionals.join(', ')}`);
  const name = positionals[0];
  if (name !== undefined && !/^[a-z][a-z0-9-]*$/.test(name))
    problems.push(`"${name}" is not a benchmark name`);
  if (values.list && (values.quick || rounds !== undefined)) problems.push('--list takes no other option');
  let contenders: string[] | undefined;
  if (values.contenders !== undefined) {
    contenders = values.contenders
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
    if (contenders.length === 0) problems.push('--contenders needs at least one contender name');
    if (values.all || values.list) problems.push('--contenders goes with one benchmark name');
  }
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\n\n${USAGE}`);
  const extra = rounds === undefined ? {} : { rounds };
  if (values.list) return { mode: 'list' };
  if (values.all) return { mode: 'all', quick: values.quick, ...extra };
  return { mode: 'one', name: name!, quick: values.quick, ...extra, ...(contenders ? { contenders } : {}) };
}
