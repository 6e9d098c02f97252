// Packaging lint of every publishable package, on the tarball `pnpm publish` would upload
// (`pnpm package:check`; needs `pnpm build`):
//
// - publint --strict: the package.json fields and the exports map against the files in the tarball.
// - attw (Are the Types Wrong?) with the esm-only profile: for every subpath, TypeScript under
//   moduleResolution node16/nodenext (from ESM) and bundler finds declarations that match the JavaScript.
//   The profile leaves out two checks that do not apply to ESM-only packages ("type": "module",
//   engines.node >= 20.19, no "require" condition): node10 resolution, which does not read the exports
//   map, and "cjs-resolves-to-esm", which fires because a CommonJS `require` of these packages gets ESM
//   (Node 20.19+ can require(esm); TypeScript's node16 CommonJS mode still reports it).
//
// The "@shardline/source" condition (first in every exports entry, pointing at src/*.ts) is deliberate
// (docs/architecture.md, "Sources first") and neither tool objects to it: both resolve with the
// standard conditions only, where it never matches.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packTarballs } from '../packages/packTarballs.js';
import { publishablePackages, REPOSITORY_ROOT } from '../packages/publishablePackages.js';

const run = promisify(execFile);
const bin = (name: string): string => join(REPOSITORY_ROOT, 'node_modules/.bin', name);

const checks: ReadonlyArray<{ readonly tool: string; readonly args: (tarball: string) => string[] }> = [
  { tool: 'publint', args: (tarball) => ['run', tarball, '--strict'] },
  { tool: 'attw', args: (tarball) => [tarball, '--profile', 'esm-only', '--format', 'table-flipped'] },
];

const destination = mkdtempSync(join(tmpdir(), 'shardline-package-lint-'));
let failures = 0;
try {
  const packages = publishablePackages();
  const tarballs = await packTarballs(packages, destination);
  for (const pkg of packages) {
    const tarball = tarballs.get(pkg.name) ?? '';
    for (const check of checks) {
      try {
        await run(bin(check.tool), check.args(tarball), { env: { ...process.env, FORCE_COLOR: '0' } });
        process.stdout.write(`✓ ${check.tool} ${pkg.name}\n`);
      } catch (error) {
        failures += 1;
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        process.stderr.write(`✗ ${check.tool} ${pkg.name}\n${stdout}${stderr}\n`);
      }
    }
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}
if (failures > 0) {
  process.stderr.write(`\n${failures} packaging check(s) failed.\n`);
  process.exitCode = 1;
}
