import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository's root folder. */
export const REPOSITORY_ROOT = join(import.meta.dirname, '../..');

/** One subpath of a package's `exports` map that leads to code (not `./package.json`). */
export interface PackageEntryPoint {
  /** The subpath as written in the exports map: `.`, `./testing`... */
  readonly subpath: string;
  /** The built declaration file the `types` condition points at, absolute. */
  readonly typesFile: string;
  /** The base name of its API report: `consumer-core` for `.`, `consumer-core.testing` for `./testing`. */
  readonly reportName: string;
}

/** A workspace package that is published: not private, with an `exports` map. */
export interface PublishablePackage {
  /** The package name, `@shardline/s3-sink`. */
  readonly name: string;
  /** The name without its scope, `s3-sink`. */
  readonly unscopedName: string;
  readonly version: string;
  /** The package folder, absolute. */
  readonly dir: string;
  /** The package folder relative to the repository root, `packages/s3-sink`. */
  readonly relativeDir: string;
  readonly entryPoints: readonly PackageEntryPoint[];
}

interface WorkspaceListing {
  readonly name: string;
  readonly path: string;
  readonly private?: boolean;
}

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly exports?: Record<string, string | Record<string, string>>;
}

/**
 * Every publishable package of the workspace, found as pnpm finds workspace packages (the globs of
 * `pnpm-workspace.yaml`), so that a new package is covered by the API reports, the packaging lint and
 * the packaging test as soon as it exists. Publishable means: not `private`, and an `exports` map.
 */
export function publishablePackages(): PublishablePackage[] {
  const listing = JSON.parse(
    execFileSync('pnpm', ['ls', '--recursive', '--depth', '-1', '--json'], {
      cwd: REPOSITORY_ROOT,
      encoding: 'utf8',
    }),
  ) as WorkspaceListing[];
  return listing
    .filter((item) => item.path !== REPOSITORY_ROOT)
    .map((item) => ({
      dir: item.path,
      manifest: JSON.parse(readFileSync(join(item.path, 'package.json'), 'utf8')) as Manifest,
    }))
    .filter(({ manifest }) => manifest.private !== true && manifest.exports !== undefined)
    .map(({ dir, manifest }) => toPublishablePackage(dir, manifest))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function toPublishablePackage(dir: string, manifest: Manifest): PublishablePackage {
  const unscopedName = manifest.name.replace(/^@[^/]+\//, '');
  const entryPoints: PackageEntryPoint[] = [];
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (typeof target === 'string' || target.types === undefined) continue; // ./package.json
    const suffix = subpath === '.' ? '' : `.${subpath.slice(2).replaceAll('/', '.')}`;
    entryPoints.push({ subpath, typesFile: join(dir, target.types), reportName: `${unscopedName}${suffix}` });
  }
  return {
    name: manifest.name,
    unscopedName,
    version: manifest.version,
    dir,
    relativeDir: relative(REPOSITORY_ROOT, dir),
    entryPoints,
  };
}
