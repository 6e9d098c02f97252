/**
 * Contenders run as built JavaScript, the way users run Shardline: a TypeScript loader in the measured
 * process adds about 100 MiB of resident memory and CPU of its own, which would be counted against
 * whichever contender it ran. Each contender file is bundled with esbuild into one ES module beside it:
 * its own code, the benchmark's helpers and the workspace packages it uses (`@shardline/*`, from their
 * sources, so one copy of each even where a benchmark reaches into a package's internals), while every
 * third-party package stays an import that Node loads from where the importing package would find it.
 * Set `SHARDLINE_BENCH_FROM_SOURCE=1` to run contenders from source under tsx instead (RSS and CPU
 * figures then include the loader).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';

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

const builtins = new Set(builtinModules);

/**
 * Third-party packages stay imports, each by the absolute path esbuild resolves from the importing
 * file (the bundle lives elsewhere, and pnpm gives each package only its own dependencies); workspace
 * packages are bundled from source.
 */
const externalThirdParty: Plugin = {
  name: 'external-third-party',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === externalThirdParty) return undefined;
      if (args.path.startsWith('node:') || builtins.has(args.path))
        return { path: args.path, external: true };
      if (args.path.startsWith('@shardline/')) return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: externalThirdParty,
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, external: true };
    });
  },
};

/**
 * Bundles the contender module `path` (TypeScript) into a throw-away ES module in the same folder, so
 * that `import.meta.url` of the contender's own code is what it was. Tens to hundreds of milliseconds.
 *
 * @throws Error with esbuild's messages when the file does not compile.
 */
export async function buildContender(path: string): Promise<BuiltContender> {
  sequence += 1;
  const file = join(dirname(path), `.${basename(path, '.ts')}.${process.pid}-${sequence}.built.mjs`);
  await build({
    entryPoints: [path],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@shardline/source'],
    plugins: [externalThirdParty],
    logLevel: 'silent',
  });
  return { file, remove: () => rmSync(file, { force: true }) };
}

/**
 * Builds the workspace's packages (`tsc -b` from the repository root: incremental, a few seconds when
 * nothing changed), for the benchmarks that start a package's command-line entry point (`dist`).
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
