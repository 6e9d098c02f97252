import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type LocalTwin, type LocalTwinOptions, startLocalTwin } from '@shardline/local';
import { spawnContender, startContender } from './contenderProcess.js';
import type { Benchmark, BenchmarkContext, FigureSpec, RoundInfo } from './defineBenchmark.js';
import {
  type BenchmarkReport,
  buildReport,
  formatTable,
  type MachineLoad,
  type RoundResults,
  reportProblems,
} from './report.js';

/** Options of {@link runBenchmark}. */
export interface RunOptions {
  readonly quick: boolean;
  /** Overrides the benchmark's rounds (`--rounds N`). */
  readonly rounds?: number;
  /**
   * Only these contenders run; figures whose candidate or baseline contender is not among them are left
   * out of the report (`--contenders`).
   * @defaultValue every contender of the benchmark
   */
  readonly contenders?: readonly string[];
  /** Aborting it (Ctrl-C) stops the run; cleanup still runs. */
  readonly signal: AbortSignal;
  /** Where `<name>.json` is written. */
  readonly resultsDir: string;
  /**
   * Where the table and the JSON line go.
   * @defaultValue `process.stdout`
   */
  readonly write?: (text: string) => void;
  /**
   * Where progress goes.
   * @defaultValue `process.stderr`
   */
  readonly log?: (message: string) => void;
}

/**
 * The contenders' order in round `round`: the declared order rotated by the round number, so that no
 * contender always runs first (on a warm emulator) or last. Pure.
 */
export function roundOrder(names: readonly string[], round: number): string[] {
  if (names.length === 0) return [];
  const shift = round % names.length;
  return [...names.slice(shift), ...names.slice(0, shift)];
}

/**
 * The contenders and figures of a run restricted to `selected` (every contender when undefined). Pure.
 *
 * @throws Error naming unknown contenders, or saying that no figure is left.
 */
export function selectContenders(
  contenderNames: readonly string[],
  figures: readonly FigureSpec[],
  selected: readonly string[] | undefined,
): { readonly names: string[]; readonly figures: FigureSpec[] } {
  if (selected === undefined) return { names: [...contenderNames], figures: [...figures] };
  const unknown = selected.filter((name) => !contenderNames.includes(name));
  if (unknown.length > 0) {
    throw new Error(`unknown contender(s) ${unknown.join(', ')}; known: ${contenderNames.join(', ')}`);
  }
  const names = contenderNames.filter((name) => selected.includes(name));
  const kept = figures.filter(
    (f) => names.includes(f.from) && (f.baseline === null || names.includes(f.baseline)),
  );
  if (kept.length === 0) throw new Error(`no figure is made by the contenders ${names.join(', ')} alone`);
  return { names, figures: kept };
}

/** A `--quick` run is a smoke test that CI runs for every benchmark: it must stay under this. */
export const QUICK_BUDGET_S = 20;

function logToStderr(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** One line about the machine, printed above the table. */
export function machineLine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `Node ${process.versions.node}, ${availableParallelism()} cores (${model}), ${process.platform}/${process.arch}`;
}

/**
 * Runs a benchmark: `setup` once, then `rounds` rounds in which every contender runs once in a rotated
 * order; prints the table and, as the last line of stdout, the JSON report, which it also writes to
 * `<resultsDir>/<name>.json`. Everything started through the context (local twins, contender
 * processes, deferred cleanups) is stopped when the run ends, whether it succeeded, failed or was aborted.
 *
 * @throws the first error of setup or a contender (after cleanup), or an Error when the report does not
 *   contain every declared figure.
 */
export async function runBenchmark<P, S>(
  benchmark: Benchmark<P, S>,
  options: RunOptions,
): Promise<BenchmarkReport> {
  const quick = options.quick;
  const rounds = options.rounds ?? (quick ? (benchmark.quickRounds ?? 1) : benchmark.rounds);
  const cleanups: (() => unknown)[] = [];
  const children = new Set<ChildProcess>();
  const signal = options.signal;
  const log = options.log ?? logToStderr;
  const write = options.write ?? ((text: string) => process.stdout.write(text));

  const track = (child: ChildProcess) => {
    children.add(child);
    return () => children.delete(child);
  };
  const ctx: BenchmarkContext<P> = {
    quick,
    rounds,
    params: quick ? benchmark.params.quick : benchmark.params.full,
    signal,
    log,
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
    async startLocalTwin(stackOptions: LocalTwinOptions = {}): Promise<LocalTwin> {
      const stack = await startLocalTwin({ ...stackOptions, signal });
      cleanups.push(() => stack.stop());
      log(`local twin: ${stack.services.map((s) => `${s.engine} ${s.endpoint} (pid ${s.pid})`).join(', ')}`);
      return stack;
    },
    spawnContender: (file, input, spawnOptions) => spawnContender(file, input, signal, track, spawnOptions),
    startContender: (file, input, spawnOptions) => startContender(file, input, signal, track, spawnOptions),
  };

  const selection = selectContenders(
    Object.keys(benchmark.contenders),
    benchmark.figures,
    options.contenders,
  );
  const started = Date.now();
  // Other work on the machine skews every figure: say how busy it was before we started anything.
  const loadBefore = loadavg()[0]!;
  let loadMax = loadBefore;
  const loadSampler = setInterval(() => {
    loadMax = Math.max(loadMax, loadavg()[0]!);
  }, 5_000);
  loadSampler.unref();
  log(`${benchmark.name}: ${benchmark.description}`);
  if (loadBefore > availableParallelism() / 2) {
    log(`warning: the machine is busy (1-min load average ${loadBefore.toFixed(2)}); figures will be noisy`);
  }
  log(`${quick ? 'quick' : 'full'} run, ${rounds} round(s), contenders: ${selection.names.join(', ')}`);
  const results: RoundResults[] = [];
  try {
    const shared = (benchmark.setup ? await benchmark.setup(ctx) : undefined) as S;
    const names = selection.names;
    for (let round = 0; round < rounds; round++) {
      const order = roundOrder(names, round);
      const roundResults: Record<string, Readonly<Record<string, number>>> = {};
      for (const [position, name] of order.entries()) {
        signal.throwIfAborted();
        const info: RoundInfo = { round, rounds, position };
        const t0 = Date.now();
        roundResults[name] = await benchmark.contenders[name]!(ctx, shared, info);
        log(`round ${round + 1}/${rounds} ${name}: ${Date.now() - t0} ms`);
      }
      results.push(roundResults);
    }
  } finally {
    clearInterval(loadSampler);
    for (const child of children) child.kill('SIGKILL');
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  const cores = availableParallelism();
  const machine: MachineLoad = {
    cores,
    load_average_before: Number(loadBefore.toFixed(2)),
    load_average_max: Number(Math.max(loadMax, loadavg()[0]!).toFixed(2)),
    under_load: loadBefore > cores,
  };
  const report: BenchmarkReport = {
    ...buildReport(benchmark.name, quick, selection.figures, results),
    machine,
  };
  const problems = reportProblems(
    report,
    selection.figures.map((f) => f.name),
  );
  if (problems.length > 0) {
    throw new Error(`report of "${benchmark.name}" is malformed:\n  - ${problems.join('\n  - ')}`);
  }

  await mkdir(options.resultsDir, { recursive: true });
  await writeFile(join(options.resultsDir, `${benchmark.name}.json`), `${JSON.stringify(report, null, 2)}\n`);

  const elapsedS = (Date.now() - started) / 1000;
  if (quick && elapsedS > QUICK_BUDGET_S) {
    log(
      `warning: this quick run took ${elapsedS.toFixed(1)} s; a quick run must stay under ${QUICK_BUDGET_S} s`,
    );
  }
  const out: string[] = [
    '',
    `${benchmark.name} — ${benchmark.description}`,
    `${quick ? 'QUICK (smoke) run' : 'full run'}: ${rounds} round(s), ${elapsedS.toFixed(1)} s; ${machineLine()}; load average before the run ${loadBefore.toFixed(2)}, at most ${machine.load_average_max.toFixed(2)} during it`,
    ...(machine.under_load
      ? [
          `UNDER LOAD: the machine was busy before the run (load average ${loadBefore.toFixed(2)} > ${cores} cores); compare only within this run, do not quote these figures`,
        ]
      : []),
    '',
    formatTable(report, selection.figures),
  ];
  if (benchmark.notes && benchmark.notes.length > 0) {
    out.push('', ...benchmark.notes.map((n) => `Note: ${n}`));
  }
  out.push('', JSON.stringify(report));
  write(`${out.join('\n')}\n`);
  return report;
}
