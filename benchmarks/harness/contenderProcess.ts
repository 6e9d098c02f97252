import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** CPU and wall time at a named point of a contender process. */
export interface Mark {
  /** `process.hrtime.bigint()` in ms. */
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

/** Handed to the body of {@link runContender}. */
export interface ContenderProbe {
  /** Records wall and CPU time now under `name`. */
  mark(name: string): Mark;
  /**
   * Wall and CPU time between two marks.
   * @throws Error when a mark was not recorded.
   */
  between(from: string, to: string): Span;
  /** Aborted when the parent goes away or asks the contender to stop. */
  readonly signal: AbortSignal;
}

/** Options of `spawnContender`. */
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
}

/** A contender process that failed: its exit and the tail of its output. */
export class ContenderError extends Error {
  readonly file: string;
  readonly exitCode: number | null;
  readonly outputTail: string;
  constructor(message: string, file: string, exitCode: number | null, outputTail: string, cause?: unknown) {
    super(`${message}${outputTail ? `\n--- last output of ${file} ---\n${outputTail}` : ''}`, { cause });
    this.name = 'ContenderError';
    this.file = file;
    this.exitCode = exitCode;
    this.outputTail = outputTail;
  }
}

type ParentMessage = { readonly type: 'input'; readonly input: unknown };
type ChildMessage =
  | { readonly type: 'report'; readonly report: ContenderReport }
  | { readonly type: 'error'; readonly message: string; readonly stack?: string };

const OUTPUT_TAIL_CHARS = 4_000;

/** The flags that let a child run TypeScript sources of the workspace, like `pnpm bench` itself. */
export const CONTENDER_NODE_ARGS = ['--conditions=@shardline/source', '--import', 'tsx'] as const;

/**
 * Runs a contender module in its own Node process (`node --conditions=@shardline/source --import tsx`),
 * sends it `input` over IPC and resolves with its report. The child's output goes to our stderr, so
 * stdout keeps only the table and the JSON line.
 *
 * @throws {@link ContenderError} when the child exits without a report, reports an error, or times out.
 */
export function spawnContender<I>(
  file: string | URL,
  input: I,
  signal: AbortSignal,
  onChild: (child: ChildProcess) => () => void,
  options: SpawnContenderOptions = {},
): Promise<ContenderReport> {
  const path = typeof file === 'string' ? file : fileURLToPath(file);
  const timeoutMs = options.timeoutMs ?? 600_000;
  return new Promise<ContenderReport>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const child = spawn(process.execPath, [...CONTENDER_NODE_ARGS, ...(options.nodeArgs ?? []), path], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
    });
    const forget = onChild(child);
    let tail = '';
    const keep = (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    let report: ContenderReport | undefined;
    let failure: Error | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => fail(new ContenderError(`${path} did not report within ${timeoutMs} ms`, path, null, tail)),
      timeoutMs,
    );
    const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });

    child.on('message', (message: ChildMessage) => {
      if (message.type === 'report') report = message.report;
      else fail(new ContenderError(`${path} failed: ${message.stack ?? message.message}`, path, null, ''));
    });
    child.on('error', (error) =>
      fail(new ContenderError(`${path} could not start`, path, null, tail, error)),
    );
    child.on('exit', (code, exitSignal) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      forget();
      if (failure) reject(failure);
      else if (report && code === 0) resolve(report);
      else {
        const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
        reject(new ContenderError(`${path} ${how} without a report`, path, code, tail));
      }
    });
    child.send({ type: 'input', input } satisfies ParentMessage);
  });
}

/**
 * The body of a contender module: receives its input from the parent, runs `body`, and reports the
 * metrics it returns together with its marks and peak RSS. Call it once at the top level of the file
 * that `spawnContender` runs.
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
  const probe: ContenderProbe = {
    signal: controller.signal,
    mark(name) {
      const cpu = process.cpuUsage();
      const mark = {
        wallMs: Number(process.hrtime.bigint()) / 1e6,
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
  };
  // The parent went away (Ctrl-C, crash): stop rather than run on as an orphan.
  process.on('disconnect', () => {
    controller.abort(new Error('parent disconnected'));
    setTimeout(() => process.exit(130), 1_000).unref();
  });
  process.once('message', (message: ParentMessage) => {
    if (message.type !== 'input') return;
    body(message.input as I, probe).then(
      async (metrics) => {
        const peakRssMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
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
