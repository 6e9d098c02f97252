import type { ChildProcess } from 'node:child_process';

/** Ends a child (SIGKILL unless told otherwise) and waits for its exit; a child already gone is left be. */
export async function killAndWait(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/** What a child printed and how it ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Collects a child's output as it comes; `done` resolves with its exit once the pipes have drained. */
export function collect(child: ChildProcess): {
  done: Promise<ChildExit>;
  output: () => { stdout: string; stderr: string };
} {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const done = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      // Let the pipes drain before resolving.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
  return { done, output: () => ({ stdout, stderr }) };
}
