// The CDK app: `pnpm --filter @shardline/infra synth` (offline, no AWS account, no Docker).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IngestIntegrationMode } from './constructs/IngestApi.js';
import { acknowledgeReferenceFindings } from './nagAcknowledgements.js';
import { ReferencePipelineStack } from './stacks/ReferencePipelineStack.js';

/**
 * Builds the app: the reference pipeline stack, checked by cdk-nag's AwsSolutions pack (every
 * unacknowledged finding fails synth). Context: `-c ingestMode=direct`, `-c stackName=…`.
 */
export function buildApp(app: App = new App()): { app: App; stack: ReferencePipelineStack } {
  const mode = app.node.tryGetContext('ingestMode') as IngestIntegrationMode | undefined;
  const stack = new ReferencePipelineStack(app, app.node.tryGetContext('stackName') ?? 'ShardlinePipeline', {
    ingestMode: mode,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: 'Shardline reference pipeline: ingest API → Kinesis → s3-sink and live metrics on Fargate',
  });
  acknowledgeReferenceFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  buildApp().app.synth();
}
