import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export { collect } from '@shardline/test-kit';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const cliMain = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const cliWithHooks = fileURLToPath(new URL('./cliWithHooks.ts', import.meta.url));

/**
 * Runs `shardline-produce` as a separate Node process, resolving workspace packages to their sources.
 * With `SHARDLINE_TEST_CRASH_POINT` in `env`, it runs the test-only entry point that injects that crash
 * point (tests/helpers/cliWithHooks.ts); otherwise the shipped one.
 */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot): ChildProcess {
  const entry = env.SHARDLINE_TEST_CRASH_POINT === undefined ? cliMain : cliWithHooks;
  return spawn(process.execPath, ['--conditions=@shardline/source', '--import', 'tsx', entry, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
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
