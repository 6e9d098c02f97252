import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PublishablePackage } from './publishablePackages.js';

const run = promisify(execFile);

/**
 * Packs each package with `pnpm pack` into `destination`, as `pnpm publish` would upload it
 * (`workspace:*` ranges rewritten to the packages' versions), and returns each tarball's path by package
 * name. Packs run one after another: `pnpm pack` runs no scripts here, and the machines have 2 cores.
 */
export async function packTarballs(
  packages: readonly PublishablePackage[],
  destination: string,
): Promise<Map<string, string>> {
  const tarballs = new Map<string, string>();
  for (const pkg of packages) {
    await run('pnpm', ['pack', '--pack-destination', destination], { cwd: pkg.dir });
    // pnpm's naming: the scope without "@", joined by "-", then the version.
    tarballs.set(
      pkg.name,
      join(destination, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`),
    );
  }
  return tarballs;
}
