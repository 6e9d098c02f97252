import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeNag } from '../config/acknowledge.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The monorepo root (where `pnpm-lock.yaml` is): esbuild resolves workspace packages from there. */
function repoRoot(): string {
  let dir = here;
  while (!existsSync(join(dir, 'pnpm-lock.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No pnpm-lock.yaml above ${here}`);
    dir = parent;
  }
  return dir;
}

/** A Lambda source of this package, by file name in `src/lambda/` (the `.ts` source or the built `.js`). */
export function lambdaEntry(name: string): string {
  const ts = join(here, '..', 'lambda', `${name}.ts`);
  return existsSync(ts) ? ts : join(here, '..', 'lambda', `${name}.js`);
}

/** Props of {@link bundledFunction}. */
export interface BundledFunctionProps {
  readonly entry: string;
  readonly description: string;
  readonly environment?: Record<string, string>;
  readonly memorySizeMb?: number;
  readonly timeout?: Duration;
}

/**
 * A Node.js 24 function (the newest Lambda runtime: cdk-nag L1) on arm64, bundled locally by esbuild (a dev dependency: no Docker), as ESM,
 * resolving workspace packages from their sources (`@shardline/source`), with its own log group.
 */
export function bundledFunction(
  scope: Construct,
  id: string,
  props: BundledFunctionProps,
): nodejs.NodejsFunction {
  const root = repoRoot();
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH });
  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: props.entry,
    handler: 'handler',
    description: props.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySizeMb ?? 256,
    timeout: props.timeout ?? Duration.seconds(30),
    environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    logGroup,
    projectRoot: root,
    depsLockFilePath: join(root, 'pnpm-lock.yaml'),
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: 'node22',
      minify: true,
      sourceMap: true,
      mainFields: ['module', 'main'],
      esbuildArgs: { '--conditions': '@shardline/source,node,import' },
      // ESM output: give bundled CommonJS dependencies the require() they expect.
      banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      externalModules: [],
      forceDockerBundling: false,
    },
  });
  acknowledgeNag(
    fn,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'AWSLambdaBasicExecutionRole only lets the function write its own logs (CreateLogStream/PutLogEvents), as AWS prescribes.',
  );
  return fn;
}
