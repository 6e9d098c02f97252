/**
 * Contenders run as built JavaScript, the way users run Shardline: a TypeScript loader in the measured
 * process adds about 100 MiB of resident memory and CPU of its own, which would be counted against
 * whichever contender it ran. `pnpm bench` builds the workspace first (`tsc -b`, incremental), and each
 * contender file is bundled with esbuild into one ES module beside it — its own code and the benchmark's
 * helpers only: every package import (`@shardline/*` included) stays an import, so Node loads the
 * packages' built `dist` exactly as an application would. Set `SHARDLINE_BENCH_FROM_SOURCE=1` to run
 * contenders from source under tsx instead (faster to iterate; RSS and CPU figures then include the
 * loader).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { buildSync } from 'esbuild';

/** The flags that let a child run TypeScript sources of the workspace, like `pnpm bench` itself. */
export const SOURCE_NODE_ARGS = ['--conditions=@shardline/source', '--import', 'tsx'] as const;

/** Whether contenders run from source under tsx (`SHARDLINE_BENCH_FROM_SOURCE=1`) rather than built. */
export function contendersFromSource(): boolean {
  return process.env.SHARDLINE_BENCH_FROM_SOURCE === '1';
}

let sequence = 0;

/** A contender bundled for one run: the file to start, and its removal once the process is gone. */
export interface BuiltContender {
  readonly file: string;
  remove(): void;
}

/**
 * Bundles the contender module `path` (TypeScript) into a throw-away ES module in the same folder, so
 * that `import.meta.url` and package resolution are those of the source file. Synchronous (tens of ms).
 *
 * @throws Error with esbuild's messages when the file does not compile.
 */
export function buildContender(path: string): BuiltContender {
  sequence += 1;
  const file = join(dirname(path), `.${basename(path, '.ts')}.${process.pid}-${sequence}.built.mjs`);
  buildSync({
    entryPoints: [path],
    outfile: file,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  return { file, remove: () => rmSync(file, { force: true }) };
}

/**
 * Builds the workspace's packages (`tsc -b` from the repository root: incremental, a few seconds when
 * nothing changed) so that the contenders' package imports load current code.
 *
 * @throws Error with the compiler's output when the build fails.
 */
export function buildWorkspace(root: string): number {
  const started = Date.now();
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`tsc -b failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
  }
  return Date.now() - started;
}
