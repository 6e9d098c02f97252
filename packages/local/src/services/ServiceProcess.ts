import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { PortInUseError, ServiceStartError } from '../errors.js';
import { OutputTail } from './OutputTail.js';

/** How to launch one emulator and how to tell that it is ready. */
export interface ServiceLaunch {
  /** The role it plays: `kinesis`, `dynamodb`, `s3`. */
  readonly service: string;
  /** The emulator's package name, for messages. */
  readonly engine: string;
  /** Node arguments (the script and its arguments; the watchdog is added here). */
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** The port when known before start; otherwise the host reports it on stdout. */
  readonly port?: number;
  /** Makes one real request against the endpoint; resolves when the service answered it. */
  readonly probe: (endpoint: string) => Promise<void>;
}

/** The outcome of a process's end. */
export interface ProcessEnd {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
}

const READY = 'SHARDLINE_READY ';
const FAILED = 'SHARDLINE_FAILED ';
const live = new Set<ServiceProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the owner exits without calling stop(): the watchdog in each child would notice
  // within a moment anyway, but there is no reason to leave that window open.
  process.once('exit', () => {
    for (const service of live) service.killNow();
  });
}

/** One emulator running as a child process in its own process group, watched by the owner. */
export class ServiceProcess {
  readonly service: string;
  readonly engine: string;
  readonly port: number;
  readonly endpoint: string;
  /** Settles when the process has ended, however it ended. */
  readonly ended: Promise<ProcessEnd>;
  readonly #child: ChildProcess;
  readonly #tail: OutputTail;
  #stopping: Promise<void> | undefined;

  private constructor(
    launch: ServiceLaunch,
    child: ChildProcess,
    tail: OutputTail,
    port: number,
    ended: Promise<ProcessEnd>,
  ) {
    this.service = launch.service;
    this.engine = launch.engine;
    this.port = port;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.#child = child;
    this.#tail = tail;
    this.ended = ended;
  }

  /** The process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The last lines the process wrote. */
  get outputTail(): string {
    return this.#tail.toString();
  }

  /** Whether the process is still running. */
  get isRunning(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /**
   * Starts the process and resolves once the service has answered a real request.
   *
   * @throws {@link ServiceStartError} when it exits or does not answer within `timeoutMs`.
   * @throws {@link PortInUseError} when its explicit port is taken.
   */
  static async start(
    launch: ServiceLaunch,
    options: { timeoutMs: number; watchdogPath: string; signal?: AbortSignal | undefined },
  ): Promise<ServiceProcess> {
    installExitHook();
    const tail = new OutputTail();
    const child = spawn(process.execPath, ['--require', options.watchdogPath, ...launch.args], {
      // Own process group: a Ctrl-C in the owner's terminal reaches the owner only, which then stops the
      // services in order. The watchdog inside notices the owner's death by being re-parented.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...launch.env },
    });
    const ended = new Promise<ProcessEnd>((resolve) => {
      child.once('exit', (exitCode, signal) => resolve({ exitCode, signal }));
      child.once('error', () => resolve({ exitCode: child.exitCode, signal: child.signalCode }));
    });
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });

    let reported: ((line: string) => void) | undefined;
    let stdoutBuffer = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      tail.push(chunk);
      stdoutBuffer += chunk;
      let newline = stdoutBuffer.indexOf('\n');
      while (newline >= 0) {
        const line = stdoutBuffer.slice(0, newline);
        stdoutBuffer = stdoutBuffer.slice(newline + 1);
        reported?.(line);
        newline = stdoutBuffer.indexOf('\n');
      }
      if (stdoutBuffer.length > 65_536) stdoutBuffer = stdoutBuffer.slice(-4_096);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => tail.push(chunk));

    const startError = (reason: string, end?: ProcessEnd, cause?: unknown) =>
      new ServiceStartError(`${launch.service} (${launch.engine})`, reason, {
        exitCode: end?.exitCode,
        signal: end?.signal,
        outputTail: tail.toString(),
        cause: cause ?? spawnError,
      });

    const deadline = Date.now() + options.timeoutMs;
    const killAndFail = async (error: Error): Promise<never> => {
      killGroup(child, 'SIGKILL');
      await ended;
      throw error;
    };

    // 1. Learn the port (hosts report it; kinesis-local's was chosen beforehand).
    let port = launch.port;
    if (port === undefined) {
      const outcome = await Promise.race([
        new Promise<{ kind: 'line'; line: string }>((resolve) => {
          reported = (line) => {
            if (line.startsWith(READY) || line.startsWith(FAILED)) resolve({ kind: 'line', line });
          };
        }),
        ended.then((end) => ({ kind: 'ended' as const, end })),
        sleep(Math.max(0, deadline - Date.now()), undefined, { ref: false }).then(() => ({
          kind: 'timeout' as const,
        })),
        abortPromise(options.signal).then(() => ({ kind: 'aborted' as const })),
      ]);
      reported = undefined;
      if (outcome.kind === 'ended') throw startError(describeEnd(outcome.end), outcome.end);
      if (outcome.kind === 'timeout')
        return killAndFail(startError(`no answer within ${options.timeoutMs} ms`));
      if (outcome.kind === 'aborted')
        return killAndFail(startError('start aborted', undefined, options.signal?.reason));
      if (outcome.line.startsWith(FAILED)) {
        const failure = JSON.parse(outcome.line.slice(FAILED.length)) as { code?: string; message: string };
        const end = await ended;
        if (failure.code === 'EADDRINUSE') {
          throw new PortInUseError(`${launch.service} (${launch.engine})`, portFromArgs(launch) ?? 0);
        }
        throw startError(failure.message, end);
      }
      port = (JSON.parse(outcome.line.slice(READY.length)) as { port: number }).port;
    }

    // 2. Make real requests until one succeeds: readiness is checked, never slept on.
    const service = new ServiceProcess(launch, child, tail, port, ended);
    live.add(service);
    void ended.then(() => live.delete(service));
    let lastError: unknown;
    let delayMs = 25;
    for (;;) {
      if (!service.isRunning) {
        const end = await ended;
        throw startError(describeEnd(end), end, lastError);
      }
      if (options.signal?.aborted)
        return killAndFail(startError('start aborted', undefined, options.signal.reason));
      try {
        await launch.probe(service.endpoint);
        return service;
      } catch (error) {
        // A programming error will not go away by asking again.
        if (error instanceof TypeError || error instanceof ReferenceError) {
          return killAndFail(startError('its readiness check failed', undefined, error));
        }
        lastError = error;
      }
      if (Date.now() + delayMs > deadline) {
        return killAndFail(
          startError(
            `did not answer at ${service.endpoint} within ${options.timeoutMs} ms`,
            undefined,
            lastError,
          ),
        );
      }
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 250);
    }
  }

  /**
   * Stops the process: SIGTERM to its process group (the watchdog exits on it), then SIGKILL if it is
   * still there after `graceMs`. Safe to call more than once.
   */
  stop(graceMs = 2_000): Promise<void> {
    this.#stopping ??= (async () => {
      if (!this.isRunning) return;
      killGroup(this.#child, 'SIGTERM');
      const exited = await Promise.race([this.ended.then(() => true), sleep(graceMs, false, { ref: false })]);
      if (!exited) {
        killGroup(this.#child, 'SIGKILL');
        await this.ended;
      }
    })();
    return this.#stopping;
  }

  /** Kills the process group at once, synchronously. For exit hooks. */
  killNow(): void {
    killGroup(this.#child, 'SIGKILL');
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

function describeEnd(end: ProcessEnd): string {
  return end.signal ? `it was killed by ${end.signal}` : `it exited with code ${end.exitCode}`;
}

function portFromArgs(launch: ServiceLaunch): number | undefined {
  const options = launch.args.at(-1);
  try {
    const parsed = JSON.parse(options ?? '{}') as { port?: number };
    return parsed.port;
  } catch {
    return undefined;
  }
}

function abortPromise(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
