import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packTarballs } from '../packages/packTarballs.js';
import {
  type PublishablePackage,
  publishablePackages,
  REPOSITORY_ROOT,
} from '../packages/publishablePackages.js';
import { defaultProgram, PACKAGING_PROGRAMS, PROGRAM_HELPER_SOURCE } from './packagingPrograms.js';

/**
 * Every publishable package, as a user gets it: packed (`pnpm pack`, as `pnpm publish` uploads it),
 * installed from its tarball into a fresh ESM TypeScript project (module and moduleResolution nodenext),
 * and used by a minimal program (packagingPrograms.ts) that must type-check and run.
 *
 * The tarballs name each other at versions that are not published: pnpm overrides point every
 * `@shardline/*` dependency at its sibling tarball. Peer dependencies are installed at the versions the
 * workspace uses, and everything comes from the local store when it can (--prefer-offline).
 */
const run = promisify(execFile);
const packages = publishablePackages();
const programs = [
  ...PACKAGING_PROGRAMS.filter((program) => packages.some((pkg) => pkg.name === program.packageName)),
  ...packages
    .filter((pkg) => !PACKAGING_PROGRAMS.some((program) => program.packageName === pkg.name))
    .map((pkg) => defaultProgram(pkg.name, pkg.unscopedName)),
];

let project = '';
let typeErrors = '';

/** The version the workspace resolved for `dependency` of `pkg`, else the range it asks for. */
function workspaceVersion(pkg: PublishablePackage, dependency: string, range: string): string {
  const manifest = join(pkg.dir, 'node_modules', dependency, 'package.json');
  return existsSync(manifest)
    ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
    : range;
}

function rootVersion(dependency: string): string {
  const manifest = join(REPOSITORY_ROOT, 'node_modules', dependency, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** The build output the tarballs carry; built here when a run starts without `pnpm build`. */
function ensureBuilt(): void {
  const missing = packages.flatMap((pkg) => pkg.entryPoints).filter((entry) => !existsSync(entry.typesFile));
  if (missing.length > 0) execFileSync('pnpm', ['build'], { cwd: REPOSITORY_ROOT, stdio: 'inherit' });
}

function writeProject(tarballs: ReadonlyMap<string, string>): void {
  const dependencies: Record<string, string> = {};
  for (const pkg of packages) {
    dependencies[pkg.name] = `file:${tarballs.get(pkg.name)}`;
    const manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8')) as {
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (manifest.peerDependenciesMeta?.[peer]?.optional === true) continue;
      dependencies[peer] ??= workspaceVersion(pkg, peer, range);
    }
  }
  const devDependencies = {
    typescript: rootVersion('typescript'),
    '@types/node': rootVersion('@types/node'),
  };
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'packaging-check', private: true, type: 'module', dependencies, devDependencies }, null, 2)}\n`,
  );
  // A workspace of its own (so the install never climbs into this repository), with the overrides.
  const overrides = packages.map((pkg) => `  '${pkg.name}': 'file:${tarballs.get(pkg.name)}'`);
  writeFileSync(
    join(project, 'pnpm-workspace.yaml'),
    ['packages: []', 'overrides:', ...overrides, ''].join('\n'),
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          types: ['node'],
          outDir: 'dist',
          rootDir: 'src',
        },
        include: ['src'],
      },
      null,
      2,
    )}\n`,
  );
  mkdirSync(join(project, 'src'));
  writeFileSync(join(project, 'src', 'expect.ts'), `${PROGRAM_HELPER_SOURCE.trim()}\n`);
  for (const program of programs) {
    writeFileSync(join(project, 'src', `${program.name}.ts`), `${program.source.trim()}\n`);
  }
}

beforeAll(async () => {
  ensureBuilt();
  project = mkdtempSync(join(tmpdir(), 'shardline-packaging-'));
  const tarballs = await packTarballs(packages, mkdtempSync(join(project, 'tarballs-')));
  writeProject(tarballs);
  // No lockfile to freeze (CI=true would ask for one); build scripts of dependencies are not needed.
  await run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile', '--reporter=silent'], {
    cwd: project,
    env: { ...process.env, npm_config_ignore_scripts: 'true' },
  });
  try {
    await run(join(project, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: project });
  } catch (error) {
    // tsc still emits: each program's test reports its own type errors.
    typeErrors = (error as { stdout?: string }).stdout ?? String(error);
  }
}, 300_000);

afterAll(() => {
  if (project !== '') rmSync(project, { recursive: true, force: true });
});

describe('packaging: every publishable package from its tarball in a fresh nodenext project', () => {
  it('finds the publishable packages', () => {
    expect(packages.map((pkg) => pkg.name)).toContain('@shardline/consumer-core');
  });

  it('resolves every @shardline/* dependency to its sibling tarball, none from the registry', () => {
    const lockfile = readFileSync(join(project, 'pnpm-lock.yaml'), 'utf8');
    expect(lockfile).toContain('@shardline/');
    expect([...lockfile.matchAll(/@shardline\/[a-z0-9-]+@(?!file:)[^\s':]+/g)].map((m) => m[0])).toEqual([]);
  });

  it.each(programs)('$packageName: program $name type-checks and runs', async (program) => {
    const errors = typeErrors
      .split('\n')
      .filter((line) => line.startsWith(`src/${program.name}.ts`) || line.startsWith('src/expect.ts'));
    expect(errors).toEqual([]);
    const { stderr } = await run(process.execPath, [join(project, 'dist', `${program.name}.js`)], {
      cwd: project,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    expect(stderr).toBe('');
  });

  it('has no type error outside the programs', () => {
    expect(
      typeErrors
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('src/') && !line.startsWith(' ')),
    ).toEqual([]);
  });
});
