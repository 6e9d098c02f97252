import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** One acknowledged cdk-nag finding, with the reason it is acceptable here. */
export interface NagAcknowledgement {
  readonly id: string;
  readonly reason: string;
}

/**
 * The AwsSolutions findings the reference pipeline accepts as a whole, each with its reason (the
 * constructs acknowledge their own narrow findings, e.g. `ecr:GetAuthorizationToken` on `*`). Anything
 * else fails `cdk synth`.
 */
export const REFERENCE_PIPELINE_ACKNOWLEDGEMENTS: readonly NagAcknowledgement[] = Object.freeze([
  {
    id: 'AwsSolutions::AwsSolutions-APIG2',
    reason:
      'function mode: the contract handler validates every body and lists every problem with its JSON Pointer; an API Gateway validator in front would answer first with a vaguer 400. direct mode has a validator with the contract models.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-APIG4',
    reason:
      'The ingest contract authenticates machine clients by API key (x-api-key) with a usage plan per key; IAM or Cognito authorizers do not fit browser and partner producers.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-COG4',
    reason: 'No Cognito user pool: ingest clients are machines identified by API keys (see APIG4).',
  },
  {
    id: 'AwsSolutions::AwsSolutions-ECS2',
    reason:
      "Environment variables hold names (stream, table, bucket, prefix) and the s3-sink's archive settings (format, schema, prefixes, time zone, buffering); no secret is passed in the environment (ConsumerService has a secrets prop).",
  },
]);

/** Acknowledges {@link REFERENCE_PIPELINE_ACKNOWLEDGEMENTS} on a stack (cdk-nag 3.x). */
export function acknowledgeReferenceFindings(scope: IConstruct): void {
  const validations = Validations.of(Stack.of(scope));
  for (const ack of REFERENCE_PIPELINE_ACKNOWLEDGEMENTS) validations.acknowledge(ack);
}
