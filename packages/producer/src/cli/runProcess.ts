import { stderrLogger, streamWriter } from '@shardline/metrics';
import { type CliHooks, ExitCode, runCli } from './cli.js';

/** The signals that stop a replay gracefully, and the exit code of each (128 + signal number). */
const STOP_SIGNALS = { SIGINT: ExitCode.Interrupted, SIGTERM: ExitCode.Terminated } as const;

/**
 * Runs `shardline-produce` in this process: arguments from `process.argv`, output to stdout/stderr, and
 * SIGINT or SIGTERM stop it gracefully (send what is buffered, write the journal); a second signal
 * exits at once. Sets `process.exitCode`.
 *
 * `hooks` are for tests only (the shipped entry point passes none); see {@link CliHooks}.
 */
export async function runProcess(hooks: CliHooks = {}): Promise<void> {
  const abort = new AbortController();
  let stops = 0;
  const onSignal = (signal: keyof typeof STOP_SIGNALS) => {
    stops += 1;
    if (stops > 1) process.exit(STOP_SIGNALS[signal]);
    process.stderr.write(
      `\nshardline-produce: ${signal}: stopping: sending what is buffered and writing the journal (${signal === 'SIGINT' ? 'Ctrl-C' : 'a second signal'} again to quit now)\n`,
    );
    abort.abort(Object.assign(new Error(`stopped by ${signal}`), { exitCode: STOP_SIGNALS[signal] }));
  };
  for (const signal of Object.keys(STOP_SIGNALS) as (keyof typeof STOP_SIGNALS)[]) {
    process.on(signal, () => onSignal(signal));
  }
  process.exitCode = await runCli(process.argv.slice(2), {
    env: process.env,
    isTty: process.stderr.isTTY === true,
    // A closed stdout (EPIPE) must not end the replay half-way: its output stops, the replay goes on.
    stdout: streamWriter(process.stdout, stderrLogger),
    stderr: (text) => process.stderr.write(text),
    signal: abort.signal,
    ...hooks,
  });
}
