import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalTwinClient } from '@shardline/local';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The example's output so far, and helpers to wait on it. */
export interface RunningExample {
  readonly child: ChildProcess;
  output(): string;
  waitFor(predicate: (output: string) => boolean, timeoutMs?: number): Promise<string>;
  exit(): Promise<number | null>;
}

/** Starts a TypeScript entry point of this repository against the local twin, as a user would. */
export function runExample(
  entry: string,
  local: LocalTwinClient,
  env: Record<string, string>,
): RunningExample {
  const child = spawn(process.execPath, ['--conditions=@shardline/source', '--import', 'tsx', entry], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...local.env, ...env },
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exit: () => exited,
    waitFor: (predicate, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const check = () => {
          if (predicate(out)) return resolve(out);
          if (child.exitCode !== null) return reject(new Error(`exited with ${child.exitCode}:\n${out}`));
          if (Date.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms:\n${out}`));
          setTimeout(check, 50);
        };
        check();
      }),
  };
}
