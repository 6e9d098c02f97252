import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalTwinInfo } from '@shardline/local';
import { localTwinEnv } from '@shardline/local';
import { collect, killAndWait } from '@shardline/test-kit';
import { afterAll } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const cliMain = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const cliWithTestHooks = fileURLToPath(new URL('./sinkWithTestHooks.ts', import.meta.url));

/** A `shardline-s3-sink` process and its output so far. */
export interface SinkProcess {
  readonly child: ChildProcess;
  readonly output: () => { stdout: string; stderr: string };
  /** The JSON event lines printed so far (`--events`). */
  readonly events: () => Array<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

/**
 * Runs `shardline-s3-sink` as a separate Node process against the local twin, from the sources. With
 * `testHook` (`<point>:<n>`, see `testHooks.ts`) it runs the test-only entry that injects that crash
 * point into the CLI's run function; without, the shipped entry. `endpoints` replaces the twin's (a
 * fault proxy in front of one).
 */
export function spawnSink(
  info: LocalTwinInfo,
  args: readonly string[],
  options: {
    readonly testHook?: string;
    readonly endpoints?: { kinesis?: string; dynamodb?: string; s3?: string };
  } = {},
): SinkProcess {
  const endpoints = { ...info.endpoints, ...options.endpoints };
  const child = spawn(
    process.execPath,
    [
      '--conditions=@shardline/source',
      '--import',
      'tsx',
      ...(options.testHook ? [cliWithTestHooks, '--test-hook', options.testHook] : [cliMain]),
      '--kinesis-endpoint',
      endpoints.kinesis!,
      '--dynamodb-endpoint',
      endpoints.dynamodb!,
      '--s3-endpoint',
      endpoints.s3!,
      '--events',
      ...args,
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...localTwinEnv(info),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  const { done: exited, output } = collect(child);
  return {
    child,
    output,
    events: () =>
      output()
        .stdout.split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    exited,
  };
}

/** Resolves when `predicate` holds for the process's output; rejects if it exits first or on timeout. */
export async function waitFor(
  sink: SinkProcess,
  predicate: (o: { stdout: string; stderr: string }) => boolean,
  what: string,
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (predicate(sink.output())) return;
    if (sink.child.exitCode !== null || sink.child.signalCode !== null) {
      throw new Error(`sink exited before ${what}:\n${sink.output().stderr.slice(-3000)}`);
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}:\n${sink.output().stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILLs the process (if alive) and waits for it. */
export async function kill(sink: SinkProcess): Promise<void> {
  await killAndWait(sink.child);
  await sink.exited;
}

/** SIGTERMs the process (graceful stop) and waits; SIGKILL after `timeoutMs`. */
export async function stopGracefully(
  sink: SinkProcess,
  timeoutMs = 30_000,
): Promise<{ code: number | null }> {
  if (sink.child.exitCode !== null || sink.child.signalCode !== null) return sink.exited;
  sink.child.kill('SIGTERM');
  const timer = setTimeout(() => sink.child.kill('SIGKILL'), timeoutMs);
  const result = await sink.exited;
  clearTimeout(timer);
  return result;
}

/** The CLI arguments naming what a sink archives: the stream, the bucket and the application. */
export function targetArgs(streamName: string, bucket: string, app: string): string[] {
  return ['--stream', streamName, '--bucket', bucket, '--app', app];
}

/**
 * `spawnSink` for one test file: every process it starts is SIGKILLed after all the file's tests if it
 * is still running (tests run side by side; each stops its own on success).
 */
export function useSinkProcesses(): typeof spawnSink {
  const running: SinkProcess[] = [];
  afterAll(async () => {
    await Promise.allSettled(running.splice(0).map(kill));
  });
  return (info, args, options) => {
    const sink = spawnSink(info, args, options);
    running.push(sink);
    return sink;
  };
}
