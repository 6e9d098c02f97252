// Boundary rules, checked in CI (`pnpm boundaries`). See docs/architecture.md.

/** A rule: `packages/<name>` (tests included) may import no workspace package but those `allowed`. */
function dependsOnlyOn(name, allowed, comment) {
  return {
    name:
      allowed.length === 0
        ? `${name}-depends-on-no-shardline-package`
        : `${name}-depends-only-on-${allowed.join('-')}`,
    severity: 'error',
    comment,
    from: { path: `^packages/${name}/` },
    to: { path: '^(packages|infra|examples)/', pathNot: `^packages/(${[name, ...allowed].join('|')})/` },
  };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere, tests included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-deep-package-imports',
      severity: 'error',
      comment:
        'A package reaches another only through its public entry points (the "exports" map), never through its files.',
      from: { path: '^(packages/[^/]+|examples/[^/]+|infra)/' },
      to: {
        path: '^(packages|infra|examples)/',
        pathNot: ['^$1/'],
        // A relative path into another package; imports by package name go through its exports map
        // (anything not exported there does not resolve, and is caught by no-unresolvable).
        dependencyTypes: ['local'],
      },
    },
    {
      name: 'workspace-deps-declared',
      severity: 'error',
      comment:
        'Every import of another package (workspace or npm) is declared in the importing package.json.',
      from: { path: '^(packages|infra|examples)/' },
      to: {
        dependencyTypes: ['npm-no-pkg', 'npm-unknown'],
        dependencyTypesNot: ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'core'],
      },
    },
    {
      name: 'consumer-core-aws-only-in-adapters',
      severity: 'error',
      comment:
        'Inside consumer-core only adapter subfolders (leases/dynamodb, retrieval/kinesis, ...) talk to AWS; decision logic stays pure.',
      from: {
        path: '^packages/consumer-core/src/',
        pathNot: '^packages/consumer-core/src/[^/]+/(dynamodb|kinesis)/',
      },
      to: { path: '@aws-sdk/|@smithy/' },
    },
    {
      name: 'consumer-core-rxjs-only-in-rx',
      severity: 'error',
      comment: 'Only the RxJS surface (src/rx) imports RxJS operators.',
      from: {
        path: '^packages/consumer-core/src/',
        pathNot: '^packages/consumer-core/src/(rx|testing)/',
      },
      to: { path: 'node_modules/rxjs/' },
    },
    dependsOnlyOn(
      'common',
      [],
      '@shardline/common is the foundation every package builds on: it depends on no other Shardline package.',
    ),
    dependsOnlyOn(
      'ingest',
      ['common', 'test-kit'],
      '@shardline/ingest owns the ingest contract: of the Shardline packages it depends only on @shardline/common (the foundation); its tests may use the private test kit, which depends on none (test-kit-only-in-tests keeps it out of the sources).',
    ),
    dependsOnlyOn(
      'kpl',
      ['common', 'test-kit'],
      '@shardline/kpl (the KPL codec) is installed by producers and consumers alike: of the Shardline packages it depends only on @shardline/common; its tests may use the private test kit (test-kit-only-in-tests keeps it out of the sources).',
    ),
    dependsOnlyOn(
      'metrics',
      ['common', 'test-kit'],
      '@shardline/metrics (the Prometheus and EMF exporters) is installed by the producer, the sink and consumers alike: of the Shardline packages it depends only on @shardline/common; its tests may use the private test kit.',
    ),
    {
      name: 'producer-not-on-consumer-core',
      severity: 'error',
      comment:
        'The producer reaches the KPL codec through @shardline/kpl; a producer user never installs the consumer or its peers (RxJS, the DynamoDB client).',
      from: { path: '^packages/producer/' },
      to: { path: '^packages/consumer-core/' },
    },
    dependsOnlyOn(
      'test-kit',
      [],
      'The shared test kit depends on no Shardline package, so that every package (ingest included) can use it in its tests without a cycle; twin-specific helpers live in @shardline/local/vitest.',
    ),
    {
      name: 'test-kit-only-in-tests',
      severity: 'error',
      comment:
        'The test kit is private and unpublished: no package source may import it (examples/testing is itself test support).',
      from: {
        path: '^(packages/[^/]+|infra|examples/[^/]+)/src/',
        pathNot: '^(packages/test-kit|examples/testing)/',
      },
      to: { path: '^packages/test-kit/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'bin/ scripts load the build output (dist/), which does not exist before the build.',
      from: { pathNot: '^(packages|examples)/[^/]+/bin/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(packages/[^/]+|infra|examples/[^/]+)/(dist|cdk\\.out)/' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@shardline/source', 'import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
