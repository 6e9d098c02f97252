// The CDK app: `pnpm --filter @shardline/infra synth` (offline, no AWS account, no Docker).
import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ANY_ORIGIN, type IngestIntegrationMode } from './constructs/IngestApi.js';
import { acknowledgeReferenceFindings } from './nagAcknowledgements.js';
import { ReferencePipelineStack } from './stacks/ReferencePipelineStack.js';

/**
 * Builds the app: the reference pipeline stack, checked by cdk-nag's AwsSolutions pack (every
 * unacknowledged finding fails synth). Context (required): `-c allowedOrigins=https://a.example,https://b.example`
 * (the ingest API's CORS origins; `-c allowedOrigins=any` for every origin). Optional: `-c ingestMode=direct`, `-c stackName=…`,
 * `-c fanOut=s3Sink,liveMetrics`, `-c leaderAssignment=s3Sink,liveMetrics`; the archive:
 * `-c archiveFormat=parquet -c archiveSchema=<file.json>` (the s3-sink's schema file),
 * `-c archiveDataPrefix=<template>`, `-c archiveTable=true` (a Glue table and an Athena workgroup).
 */
export function buildApp(app: App = new App()): { app: App; stack: ReferencePipelineStack } {
  const mode = app.node.tryGetContext('ingestMode') as IngestIntegrationMode | undefined;
  // `-c fanOut=s3Sink,liveMetrics`: those applications read with enhanced fan-out.
  const fanOut = applications(app, 'fanOut');
  // `-c leaderAssignment=s3Sink,liveMetrics`: those applications use leader-based lease assignment.
  const leader = applications(app, 'leaderAssignment');
  const context = (key: string) => app.node.tryGetContext(key) as string | undefined;
  const schemaFile = context('archiveSchema');
  const hasTable = String(context('archiveTable') ?? 'false') === 'true';
  const stack = new ReferencePipelineStack(app, app.node.tryGetContext('stackName') ?? 'ShardlinePipeline', {
    ingestMode: mode,
    allowedOrigins: allowedOrigins(app),
    fanOut: { s3Sink: fanOut.includes('s3Sink'), liveMetrics: fanOut.includes('liveMetrics') },
    leaseAssignment: {
      s3Sink: leader.includes('s3Sink') ? 'leader' : 'worker',
      liveMetrics: leader.includes('liveMetrics') ? 'leader' : 'worker',
    },
    archive: {
      ...(context('archiveFormat') === undefined
        ? {}
        : { format: context('archiveFormat') as 'json' | 'parquet' }),
      ...(schemaFile === undefined ? {} : { schema: JSON.parse(readFileSync(schemaFile, 'utf8')) }),
      ...(context('archiveDataPrefix') === undefined ? {} : { dataPrefix: context('archiveDataPrefix') }),
      ...(hasTable ? { table: { workGroup: {} } } : {}),
    },
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: 'Shardline reference pipeline: ingest API → Kinesis → s3-sink and live metrics on Fargate',
  });
  acknowledgeReferenceFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

/**
 * `-c allowedOrigins=https://a.example,https://b.example` (or `any`).
 * @throws Error saying how to give it when absent.
 */
function allowedOrigins(app: App): typeof ANY_ORIGIN | string[] {
  const value = String(app.node.tryGetContext('allowedOrigins') ?? '').trim();
  if (value === '') {
    throw new Error(
      `-c allowedOrigins is required: the origins whose web pages may call the ingest API, e.g. -c allowedOrigins=https://shop.example.com,https://app.example.com (or -c allowedOrigins=${ANY_ORIGIN} to allow every origin)`,
    );
  }
  if (value === ANY_ORIGIN) return ANY_ORIGIN;
  return value
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
}

/** The application names of a comma-separated context value. @throws Error naming any unknown one. */
function applications(app: App, key: string): string[] {
  const names = String(app.node.tryGetContext(key) ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => name !== 's3Sink' && name !== 'liveMetrics');
  if (unknown.length > 0) {
    throw new Error(`-c ${key}: unknown application ${unknown.join(', ')} (s3Sink, liveMetrics)`);
  }
  return names;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  buildApp().app.synth();
}
