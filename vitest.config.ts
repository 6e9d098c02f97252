import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import { defineConfig } from 'vitest/config';

/**
 * One unit and one integration project per workspace package.
 *
 * Unit tests run in parallel. Integration tests share one local AWS twin per run (started by the global
 * setup below) and run one file at a time: these machines have 2 cores, and a lease test that loses its
 * lease because another file hogs the CPU is worse than a slow one.
 */
// The global setup runs in this process: the SDK's Node 22 notice is noise on the pinned versions.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = import.meta.dirname;
const workspaceDirs = ['packages', 'examples']
  .flatMap((group) =>
    existsSync(join(root, group)) ? readdirSync(join(root, group)).map((name) => join(group, name)) : [],
  )
  .concat(existsSync(join(root, 'infra')) ? ['infra'] : [])
  .filter((dir) => existsSync(join(root, dir, 'package.json')));

const sourceConditions = ['@shardline/source'];

function projectsFor(dir: string): TestProjectInlineConfiguration[] {
  const name = dir.split('/').pop() ?? dir;
  const projects: TestProjectInlineConfiguration[] = [];
  if (existsSync(join(root, dir, 'tests/unit'))) {
    projects.push({
      extends: true,
      test: { name: `${name}:unit`, root: join(root, dir), include: ['tests/unit/**/*.test.ts'] },
    });
  }
  if (existsSync(join(root, dir, 'tests/integration'))) {
    projects.push({
      extends: true,
      test: {
        name: `${name}:integration`,
        root: join(root, dir),
        include: ['tests/integration/**/*.test.ts'],
        globalSetup: [join(root, 'packages/local/src/vitest/globalSetup.ts')],
        fileParallelism: false,
        testTimeout: 60_000,
        hookTimeout: 60_000,
      },
    });
  }
  return projects;
}

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    projects: [
      ...workspaceDirs.flatMap(projectsFor),
      {
        extends: true,
        test: { name: 'benchmarks:unit', root: join(root, 'benchmarks'), include: ['tests/**/*.test.ts'] },
      },
      {
        // Packs, installs and runs every publishable package from its tarball. It runs after every other
        // project (group 1): its installs and compiles would take CPU from timing-sensitive lease tests.
        extends: true,
        test: {
          name: 'packaging',
          root: join(root, 'scripts'),
          include: ['tests/packaging.test.ts'],
          sequence: { groupOrder: 1 },
        },
      },
    ],
    reporters: ['default', join(root, 'scripts/vitest/summaryReporter.ts')],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
