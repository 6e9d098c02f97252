import type { LocalTwin, LocalTwinOptions } from '@shardline/local';
import type { ContenderHandle, ContenderReport, SpawnContenderOptions } from './contenderProcess.js';

/** Which way a figure is better. */
export const Better = { Higher: 'higher', Lower: 'lower' } as const;
/** Which way a figure is better. */
export type Better = (typeof Better)[keyof typeof Better];

/**
 * A value from elsewhere to read a figure against (a documented limit, another library measured on the
 * same machines): it goes into the JSON line's optional `reference` field. Give `value`, or a `min`–`max`
 * range, or both.
 */
export interface Reference {
  readonly value?: number;
  readonly min?: number;
  readonly max?: number;
  /** Where the number comes from, e.g. `docs/kinesis-limits.md`. */
  readonly source: string;
}

/** One figure of a benchmark: a row of the table and an entry of the JSON line. */
export interface FigureSpec {
  /** snake_case, ending with its unit: `records_per_s`, `cpu_us_per_record`, `latency_p99_ms`. */
  readonly name: string;
  /** `1/s`, `MiB/s`, `ms`, `us`, `MiB`, `count`, ... */
  readonly unit: string;
  readonly better: Better;
  /** The contender whose value is the figure (the candidate). */
  readonly from: string;
  /** The contender whose value of the same metric is the baseline, or `null` when none is measured. */
  readonly baseline: string | null;
  /**
   * The metric (a key of the contenders' round results) this figure reads.
   * @defaultValue the figure's `name`
   */
  readonly metric?: string;
  /**
   * The metric read from the baseline contender.
   * @defaultValue `metric`
   */
  readonly baselineMetric?: string;
  readonly reference?: Reference;
  /**
   * Taken under load: the contenders share the machine with an emulator that itself loads it (e.g.
   * kinesis-local), so the values are only comparable with the baseline of the same run, never with
   * another run's. Marked `under_load: true` in the JSON line and with `*` in the table.
   * @defaultValue false
   */
  readonly underLoad?: boolean;
  /** One line for the table's legend. */
  readonly description?: string;
}

/** What one contender measured in one round: metric name → value. */
export type RoundMetrics = Readonly<Record<string, number>>;

/** Where a contender's run sits in the run. */
export interface RoundInfo {
  /** 0-based round number. */
  readonly round: number;
  readonly rounds: number;
  /** This contender's position in the round's order (the order rotates every round). */
  readonly position: number;
}

/** What the harness hands to a benchmark: the run's settings and its resources. */
export interface BenchmarkContext<P> {
  readonly quick: boolean;
  readonly rounds: number;
  /** `params.quick` with `--quick`, otherwise `params.full`. */
  readonly params: P;
  /** Aborted on Ctrl-C / SIGTERM: pass it into every wait. */
  readonly signal: AbortSignal;
  /** Progress output (stderr, so stdout stays the table and the JSON line). */
  log(message: string): void;
  /** Starts the local AWS twin in its own processes; it is stopped when the run ends, however it ends. */
  startLocalTwin(options?: LocalTwinOptions): Promise<LocalTwin>;
  /** Runs `cleanup` when the run ends (last registered, first run), even on failure or Ctrl-C. */
  defer(cleanup: () => unknown): void;
  /**
   * Runs `file` (a module calling {@link runContender}) in its own Node process with `input`, and
   * resolves with its report (metrics, CPU between marks, peak RSS). Killed on abort.
   */
  spawnContender<I>(file: string | URL, input: I, options?: SpawnContenderOptions): Promise<ContenderReport>;
  /**
   * Starts `file` like `spawnContender` but hands back the running process: `stop()` (the child's
   * `probe.signal` aborts and it reports), `kill('SIGKILL')` (a crash), `pid`, and `report`. With
   * `options.onEvent` it hears the child's `probe.emit` events as they happen (e.g. "first record").
   * Killed at the end of the run if still running.
   */
  startContender<I>(file: string | URL, input: I, options?: SpawnContenderOptions): ContenderHandle;
}

/** A contender: runs one round and returns its metrics. */
export type Contender<P, S> = (
  ctx: BenchmarkContext<P>,
  shared: S,
  round: RoundInfo,
) => Promise<RoundMetrics>;

/** The declaration of a benchmark, the default export of `benchmarks/<name>.ts`. */
export interface BenchmarkDefinition<P, S> {
  /** The file name without `.ts`: `pnpm bench <name>`. */
  readonly name: string;
  /** One line for `pnpm bench --list` and the table's title. */
  readonly description: string;
  /** Rounds of a full run. Each round runs every contender once, in a rotated order. */
  readonly rounds: number;
  /**
   * Rounds of a `--quick` run (a smoke version under 20 s that still emits every figure).
   * @defaultValue 1
   */
  readonly quickRounds?: number;
  /** Sizes of the full and the quick run. */
  readonly params: { readonly full: P; readonly quick: P };
  /** Once per run, before the rounds: start the local twin, load data. Its result is `shared`. */
  readonly setup?: (ctx: BenchmarkContext<P>) => Promise<S>;
  /** Named contenders, run interleaved every round (fresh stream each: create it inside). */
  readonly contenders: Readonly<Record<string, Contender<P, S>>>;
  readonly figures: readonly FigureSpec[];
  /** Notes printed under the table (settings used, how a reference was derived). */
  readonly notes?: readonly string[];
}

/** A checked benchmark definition. */
export type Benchmark<P = unknown, S = unknown> = BenchmarkDefinition<P, S> & { readonly kind: 'benchmark' };

const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Every problem with a definition, as sentences (empty when it is fine). Pure. */
export function definitionProblems(definition: BenchmarkDefinition<unknown, unknown>): string[] {
  const problems: string[] = [];
  const { name, rounds, quickRounds, contenders, figures } = definition;
  if (!/^[a-z][a-z0-9-]*$/.test(name)) problems.push(`name "${name}" must be kebab-case (the file name)`);
  if (!definition.description) problems.push('description is empty');
  if (!Number.isInteger(rounds) || rounds < 1) problems.push(`rounds must be an integer ≥ 1, got ${rounds}`);
  if (quickRounds !== undefined && (!Number.isInteger(quickRounds) || quickRounds < 1)) {
    problems.push(`quickRounds must be an integer ≥ 1, got ${quickRounds}`);
  }
  const contenderNames = Object.keys(contenders);
  if (contenderNames.length === 0) problems.push('no contenders');
  if (figures.length === 0) problems.push('no figures');
  const seen = new Set<string>();
  for (const figure of figures) {
    if (seen.has(figure.name)) problems.push(`figure "${figure.name}" is declared twice`);
    seen.add(figure.name);
    if (!SNAKE_CASE.test(figure.name)) problems.push(`figure "${figure.name}" must be snake_case`);
    if (!figure.unit) problems.push(`figure "${figure.name}" has no unit`);
    if (figure.better !== 'higher' && figure.better !== 'lower') {
      problems.push(`figure "${figure.name}": better must be "higher" or "lower"`);
    }
    if (!contenderNames.includes(figure.from)) {
      problems.push(`figure "${figure.name}": contender "${figure.from}" is not declared`);
    }
    if (figure.baseline !== null && !contenderNames.includes(figure.baseline)) {
      problems.push(`figure "${figure.name}": baseline contender "${figure.baseline}" is not declared`);
    }
    if (figure.baseline !== null && figure.baseline === figure.from && !figure.baselineMetric) {
      problems.push(`figure "${figure.name}": baseline is the candidate itself`);
    }
    const ref = figure.reference;
    if (ref && ref.value === undefined && ref.min === undefined && ref.max === undefined) {
      problems.push(`figure "${figure.name}": reference needs a value or a min/max`);
    }
  }
  return problems;
}

/**
 * Declares a benchmark: the default export of `benchmarks/<name>.ts`.
 *
 * @throws Error listing every problem with the definition.
 * @example
 * ```ts
 * export default defineBenchmark({
 *   name: 'consumer',
 *   description: 'consumer-core worker against a bare GetRecords loop',
 *   rounds: 5,
 *   params: { full: { records: 200_000 }, quick: { records: 5_000 } },
 *   setup: async (ctx) => ({ stack: await ctx.startLocalTwin({ s3: false }) }),
 *   contenders: {
 *     'bare-loop': async (ctx, { stack }) => (await ctx.spawnContender(bareLoopFile, input)).metrics,
 *     worker: async (ctx, { stack }) => (await ctx.spawnContender(workerFile, input)).metrics,
 *   },
 *   figures: [
 *     { name: 'records_per_s', unit: '1/s', better: 'higher', from: 'worker', baseline: 'bare-loop' },
 *     { name: 'cpu_us_per_record', unit: 'us', better: 'lower', from: 'worker', baseline: 'bare-loop' },
 *   ],
 * });
 * ```
 */
export function defineBenchmark<P, S = undefined>(definition: BenchmarkDefinition<P, S>): Benchmark<P, S> {
  const problems = definitionProblems(definition as BenchmarkDefinition<unknown, unknown>);
  if (problems.length > 0) {
    throw new Error(`Benchmark "${definition.name}" is not valid:\n  - ${problems.join('\n  - ')}`);
  }
  return { ...definition, kind: 'benchmark' };
}
