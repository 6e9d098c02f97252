import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import {
  type BuiltContender,
  buildContender,
  contendersFromSource,
  SOURCE_NODE_ARGS,
} from './builtContender.js';

/** Now on the monotonic clock (`process.hrtime`, CLOCK_MONOTONIC), ms: comparable across processes of one machine. */
export function monotonicNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** CPU and wall time at a named point of a contender process. */
export interface Mark {
  /** {@link monotonicNowMs} at the mark: comparable with other processes' marks and events. */
  readonly wallMs: number;
  /** `process.cpuUsage()`: user + system, µs. */
  readonly cpuUs: number;
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
}

/** Wall and CPU time between two marks. */
export interface Span {
  readonly wallMs: number;
  /** User + system CPU of the whole process (every thread) between the marks, µs. */
  readonly cpuUs: number;
}

/** What a contender process reports back. */
export interface ContenderReport {
  /** The metrics the contender returned. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly marks: Readonly<Record<string, Mark>>;
  /** Peak resident set size of the process over its whole life (`process.resourceUsage().maxRSS`), MiB. */
  readonly peakRssMiB: number;
}

/** An event a running contender sent with `probe.emit` (e.g. "first record"). */
export interface ContenderEvent {
  readonly name: string;
  readonly data: unknown;
  /** {@link monotonicNowMs} in the contender when it emitted the event. */
  readonly atMs: number;
}

/** Handed to the body of {@link runContender}. */
export interface ContenderProbe {
  /** Records wall and CPU time now under `name`. */
  mark(name: string): Mark;
  /**
   * Wall and CPU time between two marks.
   * @throws Error when a mark was not recorded.
   */
  between(from: string, to: string): Span;
  /** Sends an event to the parent now (its `onEvent`), stamped with {@link monotonicNowMs}. */
  emit(name: string, data?: unknown): void;
  /**
   * Aborted when the parent calls `stop()` on the contender's handle (finish, then return the
   * metrics) or goes away.
   */
  readonly signal: AbortSignal;
}

/** Options of `spawnContender` / `startContender`. */
export interface SpawnContenderOptions {
  /**
   * Kill the contender when it has not reported by then.
   * @defaultValue 600000
   */
  readonly timeoutMs?: number;
  /** Extra environment variables (on top of the parent's). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra `node` flags, e.g. `--max-old-space-size=256`. */
  readonly nodeArgs?: readonly string[];
  /** Called for every `probe.emit` of the contender, as it arrives. */
  readonly onEvent?: (event: ContenderEvent) => void;
}

/** A running contender process (see `startContender`). */
export interface ContenderHandle {
  readonly pid: number | undefined;
  /**
   * Resolves with the report once the contender returns; rejects with {@link ContenderError} when it
   * fails, is killed, or times out. Never an unhandled rejection if left unawaited after `kill()`.
   */
  readonly report: Promise<ContenderReport>;
  /** Asks the contender to finish: aborts `probe.signal` in the child, which then reports. */
  stop(): void;
  /** Sends a signal (`SIGKILL` for a crash, `SIGTERM` for a plain stop). */
  kill(signal?: NodeJS.Signals): void;
}

/** A contender process that failed: its exit and the tail of its output. */
export class ContenderError extends Error {
  readonly file: string;
  readonly exitCode: number | null;
  /** The signal that ended it, e.g. `SIGKILL` after `kill()`. */
  readonly exitSignal: NodeJS.Signals | null;
  readonly outputTail: string;
  constructor(
    message: string,
    details: {
      file: string;
      exitCode?: number | null;
      exitSignal?: NodeJS.Signals | null;
      outputTail?: string;
      cause?: unknown;
    },
  ) {
    const tail = details.outputTail ?? '';
    super(`${message}${tail ? `\n--- last output of ${details.file} ---\n${tail}` : ''}`, {
      cause: details.cause,
    });
    this.name = 'ContenderError';
    this.file = details.file;
    this.exitCode = details.exitCode ?? null;
    this.exitSignal = details.exitSignal ?? null;
    this.outputTail = tail;
  }
}

type ParentMessage = { readonly type: 'input'; readonly input: unknown } | { readonly type: 'stop' };
type ChildMessage =
  | { readonly type: 'report'; readonly report: ContenderReport }
  | { readonly type: 'event'; readonly event: ContenderEvent }
  | { readonly type: 'error'; readonly message: string; readonly stack?: string };

const OUTPUT_TAIL_CHARS = 4_000;

/**
 * Starts a contender module in its own Node process — built JavaScript (see `buildContender`), or its
 * source under tsx with `SHARDLINE_BENCH_FROM_SOURCE=1` — and sends it `input` over IPC. The child's output goes to our stderr, so stdout keeps only the
 * table and the JSON line. `track` is told of the child (and returns its "forget" function) so the run
 * can kill whatever is left at the end.
 */
export function startContender<I>(
  file: string | URL,
  input: I,
  signal: AbortSignal,
  track: (child: ChildProcess) => () => void,
  options: SpawnContenderOptions = {},
): ContenderHandle {
  const path = typeof file === 'string' ? file : fileURLToPath(file);
  const timeoutMs = options.timeoutMs ?? 600_000;
  let child: ChildProcess | undefined;
  // What was asked of the contender while it was still being built (it starts after the bundle).
  const pending: { stop: boolean; kill: NodeJS.Signals | undefined } = { stop: false, kill: undefined };
  const report = new Promise<ContenderReport>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    if (contendersFromSource()) launch(undefined);
    else {
      buildContender(path).then(launch, (error: unknown) =>
        reject(new ContenderError(`${path} could not be built`, { file: path, cause: error })),
      );
    }

    function launch(built: BuiltContender | undefined): void {
      if (signal.aborted || pending.kill !== undefined) {
        built?.remove();
        reject(
          signal.aborted
            ? signal.reason
            : new ContenderError(`${path} was killed before it started`, { file: path }),
        );
        return;
      }
      const args = built ? [built.file] : [...SOURCE_NODE_ARGS, path];
      const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
      });
      child = proc;
      const forget = track(proc);
      let tail = '';
      const keep = (chunk: Buffer) => {
        process.stderr.write(chunk);
        tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
      };
      proc.stdout?.on('data', keep);
      proc.stderr?.on('data', keep);

      let result: ContenderReport | undefined;
      let failure: Error | undefined;
      const fail = (error: Error) => {
        failure ??= error;
        proc.kill('SIGKILL');
      };
      const timer = setTimeout(
        () =>
          fail(
            new ContenderError(`${path} did not report within ${timeoutMs} ms`, {
              file: path,
              outputTail: tail,
            }),
          ),
        timeoutMs,
      );
      const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });

      proc.on('message', (message: ChildMessage) => {
        if (message.type === 'report') result = message.report;
        else if (message.type === 'event') options.onEvent?.(message.event);
        else fail(new ContenderError(`${path} failed: ${message.stack ?? message.message}`, { file: path }));
      });
      proc.on('error', (error) => {
        built?.remove();
        fail(new ContenderError(`${path} could not start`, { file: path, outputTail: tail, cause: error }));
      });
      proc.on('exit', (exitCode, exitSignal) => {
        built?.remove();
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        forget();
        if (failure) reject(failure);
        else if (result && exitCode === 0) resolve(result);
        else {
          const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
          reject(
            new ContenderError(`${path} ${how} without a report`, {
              file: path,
              exitCode,
              exitSignal,
              outputTail: tail,
            }),
          );
        }
      });
      proc.send({ type: 'input', input } satisfies ParentMessage);
      if (pending.stop) proc.send({ type: 'stop' } satisfies ParentMessage);
    }
  });
  // A caller that kills a contender on purpose may never await its report.
  report.catch(() => {});
  return {
    get pid() {
      return child?.pid;
    },
    report,
    stop() {
      if (child?.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      else if (!child) pending.stop = true;
    },
    kill(killSignal: NodeJS.Signals = 'SIGTERM') {
      if (child) child.kill(killSignal);
      else pending.kill = killSignal;
    },
  };
}

/**
 * Runs a contender to completion in its own process: `startContender(...).report`.
 *
 * @throws {@link ContenderError} when the child exits without a report, reports an error, or times out.
 */
export function spawnContender<I>(
  file: string | URL,
  input: I,
  signal: AbortSignal,
  track: (child: ChildProcess) => () => void,
  options: SpawnContenderOptions = {},
): Promise<ContenderReport> {
  return startContender(file, input, signal, track, options).report;
}

/**
 * The body of a contender module: receives its input from the parent, runs `body`, and reports the
 * metrics it returns together with its marks and peak RSS. Call it once at the top level of the file
 * that `spawnContender` / `startContender` runs.
 *
 * @example
 * ```ts
 * runContender<{ records: number }>(async (input, probe) => {
 *   probe.mark('start');
 *   await drain(input.records);
 *   probe.mark('end');
 *   const { wallMs, cpuUs } = probe.between('start', 'end');
 *   return { records_per_s: input.records / (wallMs / 1000), cpu_us_per_record: cpuUs / input.records };
 * });
 * ```
 */
export function runContender<I>(
  body: (input: I, probe: ContenderProbe) => Promise<Readonly<Record<string, number>>>,
): void {
  if (!process.send) {
    throw new Error('A contender runs in a child process started by spawnContender (it has no IPC channel).');
  }
  const send = (message: ChildMessage) =>
    new Promise<void>((resolve) => {
      process.send?.(message, undefined, undefined, () => resolve());
    });
  const controller = new AbortController();
  const marks: Record<string, Mark> = {};
  const gc = process.env.SHARDLINE_BENCH_GC ? watchGarbageCollection() : undefined;
  // One line per collection, with what it copied and promoted.
  if (process.env.SHARDLINE_BENCH_GC === 'trace') setFlagsFromString('--trace-gc-nvp');
  const allocations = process.env.SHARDLINE_BENCH_ALLOC_PROF
    ? sampleAllocations(process.env.SHARDLINE_BENCH_ALLOC_PROF)
    : undefined;
  const probe: ContenderProbe = {
    signal: controller.signal,
    mark(name) {
      const cpu = process.cpuUsage();
      const mark = {
        wallMs: monotonicNowMs(),
        cpuUs: cpu.user + cpu.system,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
      };
      marks[name] = mark;
      return mark;
    },
    between(from, to) {
      const a = marks[from];
      const b = marks[to];
      if (!a || !b) throw new Error(`between("${from}", "${to}"): mark "${a ? to : from}" was not recorded`);
      return { wallMs: b.wallMs - a.wallMs, cpuUs: b.cpuUs - a.cpuUs };
    },
    emit(name, data) {
      void send({ type: 'event', event: { name, data, atMs: monotonicNowMs() } });
    },
  };
  // The parent went away (Ctrl-C, crash): stop rather than run on as an orphan.
  process.on('disconnect', () => {
    controller.abort(new Error('parent disconnected'));
    setTimeout(() => process.exit(130), 1_000).unref();
  });
  let started = false;
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') {
      controller.abort(new Error('stopped by the parent'));
      return;
    }
    if (started) return;
    started = true;
    body(message.input as I, probe).then(
      async (metrics) => {
        const peakRssMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
        if (gc) process.stderr.write(`[gc] ${process.argv[1]}: ${gc()}\n`);
        if (allocations) await allocations();
        await send({ type: 'report', report: { metrics, marks, peakRssMiB } });
        process.exit(0);
      },
      async (error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        await send({ type: 'error', message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
        process.exit(1);
      },
    );
  });
}

/**
 * Counts garbage collections by kind (`SHARDLINE_BENCH_GC=1`): what a contender's allocations cost,
 * printed on stderr when it reports. Returns the summary's reader.
 */
function watchGarbageCollection(): () => string {
  const names: Record<number, string> = {
    [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
    [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
  };
  const byKind = new Map<string, { count: number; ms: number }>();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
      const name = names[kind] ?? `kind-${kind}`;
      const figures = byKind.get(name) ?? { count: 0, ms: 0 };
      figures.count += 1;
      figures.ms += entry.duration;
      byKind.set(name, figures);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => [...byKind].map(([name, { count, ms }]) => `${name} ${count}× ${ms.toFixed(0)} ms`).join(', ');
}

/**
 * Samples every allocation, including objects that died young (`SHARDLINE_BENCH_ALLOC_PROF=<dir>`):
 * where a contender's garbage comes from. Returns the function that writes the `.heapprofile` file
 * (Chrome DevTools' format) into `dir`.
 */
function sampleAllocations(dir: string): () => Promise<void> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  const started = post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    await started;
    const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
    const name = (process.argv[1] ?? 'contender').split('/').pop();
    writeFileSync(join(dir, `${name}.${process.pid}.heapprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}
