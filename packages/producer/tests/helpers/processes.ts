import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const cliMain = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Runs `shardline-produce` as a separate Node process, resolving workspace packages to their sources. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot): ChildProcess {
  return spawn(process.execPath, ['--conditions=@shardline/source', '--import', 'tsx', cliMain, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
}

/** Collects a child's output and resolves with its exit. */
export function collect(child: ChildProcess): {
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
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
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => {
      child.once('exit', (code, signal) => {
        // Let the pipes drain before resolving.
        setImmediate(() => resolve({ code, signal, stdout, stderr }));
      });
    },
  );
  return { done, output: () => ({ stdout, stderr }) };
}

/** Resolves when `predicate` holds for the child's output; rejects on exit or timeout. */
export function waitForOutput(
  child: ChildProcess,
  output: () => { stdout: string; stderr: string },
  predicate: (o: { stdout: string; stderr: string }) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (predicate(output())) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null || child.signalCode !== null) {
        clearInterval(timer);
        reject(new Error(`exited before the expected output:\n${output().stdout}\n${output().stderr}`));
      }
    }, 20);
    setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`timed out waiting for output:\n${output().stdout}\n${output().stderr}`));
    }, timeoutMs);
  });
}

/** SIGKILLs a child (if alive) and waits for it. */
export async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
