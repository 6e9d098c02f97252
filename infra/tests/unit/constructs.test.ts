import { execFileSync } from 'node:child_process';
import { INGEST_EVENTS_REQUEST_SCHEMA } from '@shardline/ingest';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ArchiveBucket } from '../../src/constructs/ArchiveBucket.js';
import { ConsumerService } from '../../src/constructs/ConsumerService.js';
import { EventStream } from '../../src/constructs/EventStream.js';
import { IngestApi } from '../../src/constructs/IngestApi.js';
import {
  COORDINATOR_TABLE_WORKER_ACTIONS,
  LEASE_OWNER_INDEX_NAME,
  LEASE_TABLE_WORKER_ACTIONS,
  LeaseTable,
} from '../../src/constructs/LeaseTable.js';
import { ConfigurationError } from '../../src/errors.js';
import { DEFAULT_COMMANDS } from '../../src/stacks/ReferencePipelineStack.js';
import { referenceTemplate, TEST_ORIGIN } from '../helpers/synthStack.js';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** Every policy statement attached to roles whose logical id starts with `rolePrefix`. */
function statementsOf(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: Statement[] = [];
  for (const policy of Object.values(policies)) {
    const roles = JSON.stringify(policy.Properties.Roles);
    if (!roles.includes(rolePrefix)) continue;
    out.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  return out;
}

function actionsOf(statements: Statement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
}

function emptyStack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S', {
    env: { account: '111111111111', region: 'eu-west-1' },
  });
}

describe('ReferencePipelineStack with enhanced fan-out', () => {
  const { template } = referenceTemplate({ fanOut: { s3Sink: true } });

  it('lets the fan-out consumer register, find and subscribe through its own stream consumers only; the polling one is unchanged', () => {
    const statements = statementsOf(template, 'S3SinkTaskTaskRole');
    const kinesis = statements.filter((s) => JSON.stringify(s.Action).includes('kinesis:'));
    const onStream = kinesis.filter((s) =>
      /EventsStream[0-9A-F]+","Arn"\]\}$/.test(JSON.stringify(s.Resource)),
    );
    expect(actionsOf(onStream)).toEqual(
      [
        'kinesis:DescribeStreamConsumer',
        'kinesis:DescribeStreamSummary',
        'kinesis:GetRecords',
        'kinesis:GetShardIterator',
        'kinesis:ListShards',
        'kinesis:ListStreamConsumers',
        'kinesis:RegisterStreamConsumer',
      ].sort(),
    );
    const onConsumers = kinesis.filter((s) => JSON.stringify(s.Resource).includes('/consumer/*'));
    expect(actionsOf(onConsumers)).toEqual(['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard']);
    for (const s of onConsumers) {
      expect(s.Resource).toEqual({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^EventsStream/), 'Arn'] }, '/consumer/*']],
      });
    }
    // Nobody gets to deregister, and nothing is granted on '*'.
    expect(JSON.stringify(statements)).not.toContain('DeregisterStreamConsumer');
    expect(statements.some((s) => s.Resource === '*')).toBe(false);
    const polling = actionsOf(statementsOf(template, 'LiveMetricsTaskTaskRole'));
    expect(polling.filter((a) => /Consumer|Subscribe/.test(a))).toEqual([]);
  });

  it('tells the s3-sink task its consumer (named like its application), and its command passes --fan-out', () => {
    const containers = Object.values(template.findResources('AWS::ECS::TaskDefinition')).map(
      (t) => t.Properties.ContainerDefinitions[0],
    );
    const sink = containers.find((c) => JSON.stringify(c.Command ?? []).includes('shardline-s3-sink'))!;
    const env = Object.fromEntries(
      sink.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
    );
    expect(env.SHARDLINE_FAN_OUT_CONSUMER).toEqual(env.SHARDLINE_APP);
    expect(sink.Command[2]).toContain('set -- "$@" --fan-out "$SHARDLINE_FAN_OUT_CONSUMER"');
    expect(sink.Command[2]).toContain('shardline-s3-sink.js "$@"');
    const metrics = containers.find((c) => !JSON.stringify(c.Command ?? []).includes('shardline-s3-sink'))!;
    expect(JSON.stringify(metrics.Environment)).not.toContain('SHARDLINE_FAN_OUT_CONSUMER');
  });
});

/** The environment of the first container of the task whose command contains `marker` (or not). */
function containerEnv(template: Template, isSink: boolean): Record<string, unknown> {
  const containers = Object.values(template.findResources('AWS::ECS::TaskDefinition')).map(
    (t) => t.Properties.ContainerDefinitions[0],
  );
  const container = containers.find(
    (c) => JSON.stringify(c.Command ?? []).includes('shardline-s3-sink') === isSink,
  )!;
  return Object.fromEntries(
    container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
  );
}

describe('ReferencePipelineStack with leader-based lease assignment', () => {
  const { stack, template } = referenceTemplate({ leaseAssignment: { s3Sink: 'leader' } });
  const logicalId = (table: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(table.node.defaultChild as never);
  const sinkTableId = logicalId(stack.node.findChild('S3SinkLeases').node.findChild('Table'));
  const coordinatorId = logicalId(stack.node.findChild('S3SinkLeases').node.findChild('CoordinatorTable'));

  it('gives the leader-mode lease table the KCL 3.x leaseOwner index, keys only; the other table none', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    expect(tables[sinkTableId]!.Properties).toMatchObject({
      TableName: 'Test-s3-sink',
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'LeaseOwnerToLeaseKeyIndex',
          KeySchema: [
            { AttributeName: 'leaseOwner', KeyType: 'HASH' },
            { AttributeName: 'leaseKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    });
    expect(tables[sinkTableId]!.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'leaseKey', AttributeType: 'S' },
        { AttributeName: 'leaseOwner', AttributeType: 'S' },
      ]),
    );
    // On-demand: the index has no capacity of its own to run out of.
    expect(tables[sinkTableId]!.Properties.GlobalSecondaryIndexes[0].ProvisionedThroughput).toBeUndefined();
    const metrics = Object.values(tables).find((t) => t.Properties.TableName === 'Test-live-metrics')!;
    expect(metrics.Properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('creates the coordinator table with the lease table settings and removal policy', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(3);
    const coordinator = tables[coordinatorId]!;
    expect(coordinator.Properties).toEqual({
      TableName: 'Test-s3-sink-ShardlineCoordinator',
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect([coordinator.DeletionPolicy, coordinator.UpdateReplacePolicy]).toEqual([
      tables[sinkTableId]!.DeletionPolicy,
      tables[sinkTableId]!.UpdateReplacePolicy,
    ]);
    expect(coordinator.DeletionPolicy).toBe('Retain');
  });

  it('grants Query on the index ARN alone and the worker actions on the coordinator table, never UpdateTable or CreateTable', () => {
    const statements = statementsOf(template, 'S3SinkTaskTaskRole').filter((s) =>
      JSON.stringify(s.Action).includes('dynamodb:'),
    );
    const resourcesOf = (action: string) =>
      statements
        .filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action))
        .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
    expect(resourcesOf('dynamodb:Query')).toEqual([
      {
        'Fn::Join': ['', [{ 'Fn::GetAtt': [sinkTableId, 'Arn'] }, `/index/${LEASE_OWNER_INDEX_NAME}`]],
      },
    ]);
    for (const action of LEASE_TABLE_WORKER_ACTIONS) {
      expect(resourcesOf(action)).toEqual(
        expect.arrayContaining([
          { 'Fn::GetAtt': [sinkTableId, 'Arn'] },
          ...((COORDINATOR_TABLE_WORKER_ACTIONS as readonly string[]).includes(action)
            ? [{ 'Fn::GetAtt': [coordinatorId, 'Arn'] }]
            : []),
        ]),
      );
      expect(resourcesOf(action)).toHaveLength(
        (COORDINATOR_TABLE_WORKER_ACTIONS as readonly string[]).includes(action) ? 2 : 1,
      );
    }
    expect(actionsOf(statements).filter((a, i, all) => all.indexOf(a) === i)).toEqual(
      [...LEASE_TABLE_WORKER_ACTIONS, 'dynamodb:Query'].sort(),
    );
    // No wildcard index ARN (Table.grant adds `<table>/index/*` once a table has an index).
    expect(JSON.stringify(statements)).not.toContain('/index/*');
    // The polling, worker-mode application is unchanged: its table only, no Query.
    const metrics = statementsOf(template, 'LiveMetricsTaskTaskRole').filter((s) =>
      JSON.stringify(s.Action).includes('dynamodb:'),
    );
    expect(actionsOf(metrics)).toEqual([...LEASE_TABLE_WORKER_ACTIONS].sort());
    expect(metrics.map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^LiveMetricsLeasesTable/), 'Arn'] },
    ]);
  });

  it("tells the s3-sink's tasks the mode and the coordinator table, and its command passes --lease-assignment", () => {
    const sink = containerEnv(template, true);
    expect(sink.SHARDLINE_LEASE_ASSIGNMENT).toBe('leader');
    expect(sink.SHARDLINE_COORDINATOR_TABLE).toEqual({ Ref: coordinatorId });
    const metrics = containerEnv(template, false);
    expect(metrics.SHARDLINE_LEASE_ASSIGNMENT).toBeUndefined();
    expect(metrics.SHARDLINE_COORDINATOR_TABLE).toBeUndefined();
    const sinkTask = Object.values(template.findResources('AWS::ECS::TaskDefinition'))
      .map((t) => t.Properties.ContainerDefinitions[0])
      .find((c) => JSON.stringify(c.Command ?? []).includes('shardline-s3-sink'))!;
    const shell = sinkTask.Command[2] as string;
    expect(shell).toContain(
      '[ -z "$SHARDLINE_LEASE_ASSIGNMENT" ] || set -- "$@" --lease-assignment "$SHARDLINE_LEASE_ASSIGNMENT";',
    );
  });

  it('both applications in leader mode: live metrics gets its own coordinator table and variables', () => {
    const both = referenceTemplate({ leaseAssignment: { s3Sink: 'leader', liveMetrics: 'leader' } });
    const names = Object.values(both.template.findResources('AWS::DynamoDB::Table'))
      .map((t) => t.Properties.TableName)
      .sort();
    expect(names).toEqual([
      'Test-live-metrics',
      'Test-live-metrics-ShardlineCoordinator',
      'Test-s3-sink',
      'Test-s3-sink-ShardlineCoordinator',
    ]);
    expect(containerEnv(both.template, false).SHARDLINE_LEASE_ASSIGNMENT).toBe('leader');
    expect(both.stack.liveMetrics).toBeDefined();
  });
});

describe("the s3-sink's command turns the environment into flags", () => {
  const shell = (env: Record<string, string>) => {
    // Run the real command with `exec node …` replaced by printing its arguments.
    const script = DEFAULT_COMMANDS.s3Sink[2]!.replace(
      'exec node packages/s3-sink/bin/shardline-s3-sink.js',
      "printf '%s\\n'",
    );
    return execFileSync('sh', ['-c', script], {
      env: {
        PATH: process.env.PATH,
        SHARDLINE_STREAM: 's',
        SHARDLINE_APP: 'a',
        SHARDLINE_BUCKET: 'b',
        SHARDLINE_PREFIX: 'p/',
        ...env,
      },
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
  };

  it('passes --fan-out and --lease-assignment only when their variables are set, together or alone', () => {
    expect(shell({})).not.toContain('--lease-assignment');
    expect(shell({})).not.toContain('--fan-out');
    const leader = shell({ SHARDLINE_LEASE_ASSIGNMENT: 'leader' });
    expect(leader.slice(0, 2)).toEqual(['--lease-assignment', 'leader']);
    expect(leader).not.toContain('--fan-out');
    const both = shell({ SHARDLINE_LEASE_ASSIGNMENT: 'leader', SHARDLINE_FAN_OUT_CONSUMER: 'c' });
    expect(both.slice(0, 4)).toEqual(['--fan-out', 'c', '--lease-assignment', 'leader']);
    expect(both).toEqual(expect.arrayContaining(['--stream', 's', '--app', 'a', '--bucket', 'b']));
  });

  it('passes --health-port only when SHARDLINE_HEALTH_PORT is set', () => {
    expect(shell({})).not.toContain('--health-port');
    expect(shell({ SHARDLINE_HEALTH_PORT: '8080' }).slice(0, 2)).toEqual(['--health-port', '8080']);
  });
});

describe('ReferencePipelineStack (function mode)', () => {
  const { stack, template } = referenceTemplate();

  it('encrypts the on-demand stream with a rotating customer-managed key', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: {
        EncryptionType: 'KMS',
        KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventsKey'), 'Arn'] },
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('gives the ingest function exactly PutRecords/PutRecord on the stream and GenerateDataKey on its key', () => {
    const statements = statementsOf(template, 'IngestHandlerServiceRole');
    expect(actionsOf(statements)).toEqual(['kinesis:PutRecord', 'kinesis:PutRecords', 'kms:GenerateDataKey']);
    const kinesis = statements.find((s) => JSON.stringify(s.Action).includes('kinesis'))!;
    expect(JSON.stringify(kinesis.Resource)).toMatch(/EventsStream[0-9A-F]+","Arn"/);
    const kms = statements.find((s) => JSON.stringify(s.Action).includes('kms'))!;
    expect(JSON.stringify(kms.Resource)).toMatch(/EventsKey[0-9A-F]+","Arn"/);
  });

  it('lets each consumer read the stream, decrypt it and work its own lease table, nothing more', () => {
    for (const [prefix, table, writesArchive] of [
      ['S3SinkTaskTaskRole', 'S3SinkLeasesTable', true],
      ['LiveMetricsTaskTaskRole', 'LiveMetricsLeasesTable', false],
    ] as const) {
      const statements = statementsOf(template, prefix);
      expect(actionsOf(statements)).toEqual(
        [
          'dynamodb:DeleteItem',
          'dynamodb:DescribeTable',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Scan',
          'dynamodb:UpdateItem',
          'kinesis:DescribeStreamSummary',
          'kinesis:GetRecords',
          'kinesis:GetShardIterator',
          'kinesis:ListShards',
          'kms:Decrypt',
          ...(writesArchive
            ? [
                's3:AbortMultipartUpload',
                's3:ListBucketMultipartUploads',
                's3:PutObject',
                // the start check: HeadBucket, and its one object
                's3:ListBucket',
                's3:PutObject',
                's3:DeleteObject',
              ]
            : []),
        ].sort(),
      );
      const dynamo = statements.find((s) => JSON.stringify(s.Action).includes('dynamodb'))!;
      expect(JSON.stringify(dynamo.Resource)).toContain(table);
      expect(JSON.stringify(dynamo.Resource)).not.toContain(
        prefix.startsWith('S3') ? 'LiveMetricsLeases' : 'S3SinkLeases',
      );
      if (writesArchive) {
        const writes = statements.filter((s) => JSON.stringify(s.Action).includes('s3:PutObject'));
        expect(writes.map((s) => JSON.stringify(s.Resource)).sort()).toEqual([
          expect.stringMatching(
            /ArchiveBucket[0-9A-F]+","Arn"\]\},"\/\.shardline-s3-sink\/write-check\/",\{"Ref":"S3SinkLeasesTable[0-9A-F]+"\}\]/,
          ),
          expect.stringMatching(/ArchiveBucket[0-9A-F]+","Arn"\]\},"\/s3-sink\/\*"/),
        ]);
        // Delete is granted on the start check's own key only.
        const deletes = statements.filter((s) => JSON.stringify(s.Action).includes('s3:DeleteObject'));
        expect(deletes.map((s) => JSON.stringify(s.Resource))).toEqual([
          expect.stringMatching(/\/\.shardline-s3-sink\/write-check\/",\{"Ref":"S3SinkLeasesTable/),
        ]);
        const bucket = statements.find((s) => s.Action === 's3:ListBucketMultipartUploads')!;
        expect(bucket.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ArchiveBucket/), 'Arn'] });
      }
    }
  });

  it('runs the s3-sink CLI with its flags from the environment the service sets', () => {
    const tasks = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const sink = tasks
      .map((t) => t.Properties.ContainerDefinitions[0])
      .find((c) => JSON.stringify(c.Command ?? []).includes('shardline-s3-sink'))!;
    const env = Object.fromEntries(
      sink.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
    );
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'SHARDLINE_STREAM',
        'SHARDLINE_APP',
        'SHARDLINE_BUCKET',
        'SHARDLINE_PREFIX',
        'AWS_REGION',
      ]),
    );
    expect(env.SHARDLINE_PREFIX).toBe('s3-sink/');
    const shell = sink.Command[2] as string;
    for (const name of ['SHARDLINE_STREAM', 'SHARDLINE_APP', 'SHARDLINE_BUCKET'])
      expect(shell).toContain(`"$${name}"`);
    // Objects, manifests and errors all under the prefix the task role may write.
    expect(shell.match(/"\$SHARDLINE_PREFIX/g)).toHaveLength(3);
  });

  it("checks the s3-sink container's /healthz (this process only), and no health check for live metrics", () => {
    const containers = Object.values(template.findResources('AWS::ECS::TaskDefinition')).map(
      (t) => t.Properties.ContainerDefinitions[0],
    );
    const sink = containers.find((c) => JSON.stringify(c.Command ?? []).includes('shardline-s3-sink'))!;
    const env = Object.fromEntries(
      sink.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
    );
    expect(env.SHARDLINE_HEALTH_PORT).toBe('8080');
    expect(sink.HealthCheck).toMatchObject({ Interval: 15, Timeout: 5, Retries: 3, StartPeriod: 60 });
    expect(sink.HealthCheck.Command.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(sink.HealthCheck.Command[3]).toContain("fetch('http://127.0.0.1:8080/healthz'");
    expect(sink.HealthCheck.Command[3]).not.toContain('readyz');
    const others = containers.filter((c) => c !== sink);
    expect(others.length).toBeGreaterThan(0);
    for (const c of others) expect(c.HealthCheck).toBeUndefined();
  });

  it('creates KCL-compatible lease tables: leaseKey hash key only, on-demand, point-in-time recovery', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(2);
    for (const table of Object.values(tables)) {
      expect(table.Properties).toMatchObject({
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    }
  });

  it('protects the archive: encryption, no public access, TLS only, multipart abort, access logs', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'archive/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('runs the function behind a proxy integration with API keys, a throttled usage plan and access logs', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.HttpMethod === 'POST',
    );
    expect(methods).toHaveLength(2);
    for (const m of methods) {
      expect(m.Properties.ApiKeyRequired).toBe(true);
      expect(m.Properties.Integration.Type).toBe('AWS_PROXY');
    }
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 100, BurstLimit: 200 },
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: ['application/*'] });
  });

  it("answers API Gateway's own errors in the contract's shape (413 too large, 403 bad key, 429 throttled)", () => {
    for (const [type, status, error] of [
      ['REQUEST_TOO_LARGE', '413', 'PayloadTooLarge'],
      ['INVALID_API_KEY', '403', 'Forbidden'],
      ['THROTTLED', '429', 'Throttled'],
      ['BAD_REQUEST_BODY', '400', 'ValidationFailed'],
    ] as const) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status,
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp(`"error":"${error}"`) },
        ResponseParameters: Match.objectLike({
          'gatewayresponse.header.Access-Control-Allow-Origin': `'${TEST_ORIGIN}'`,
        }),
      });
    }
  });

  it('alarms on iterator age and on API 5xx', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'GetRecords.IteratorAgeMilliseconds',
      Namespace: 'AWS/Kinesis',
      Statistic: 'Maximum',
      Threshold: 300_000,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5XXError',
      Namespace: 'AWS/ApiGateway',
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('scales consumer tasks by the published open shard count', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: Match.objectLike({ AdjustmentType: 'ExactCapacity' }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OpenShardCount',
      Namespace: 'Shardline/Streams',
    });
    expect(stack.s3Sink.service).toBeDefined();
  });
});

describe('IngestApi direct mode', () => {
  const { template } = referenceTemplate({ ingestMode: 'direct' });

  it('integrates with kinesis:PutRecords through a role that may only put to this stream', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.HttpMethod === 'POST',
    );
    expect(methods).toHaveLength(2);
    for (const m of methods) {
      const integration = m.Properties.Integration;
      expect(integration.Type).toBe('AWS');
      expect(JSON.stringify(integration.Uri)).toContain(':kinesis:action/PutRecords');
      expect(integration.PassthroughBehavior).toBe('NEVER');
      expect(JSON.stringify(integration.RequestTemplates['application/json'])).toContain(
        '$util.base64Encode($envelope)',
      );
      expect(integration.IntegrationResponses.map((r: { StatusCode: string }) => r.StatusCode)).toEqual([
        '200',
        '400',
        '503',
      ]);
      expect(m.Properties.RequestValidatorId).toBeDefined();
    }
    const statements = statementsOf(template, 'IngestIntegrationRole');
    expect(actionsOf(statements)).toEqual(['kinesis:PutRecords', 'kms:GenerateDataKey']);
    expect(JSON.stringify(statements.find((s) => s.Action === 'kinesis:PutRecords')?.Resource)).toMatch(
      /EventsStream/,
    );
    expect(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('ingest') },
      }),
    ).toEqual({});
  });

  it("validates bodies with the contract's own JSON Schema as the model", () => {
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      Name: 'IngestEventsRequest',
      ContentType: 'application/json',
      Schema: JSON.parse(JSON.stringify(INGEST_EVENTS_REQUEST_SCHEMA)),
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
  });
});

describe('EventStream provisioned with a scaler', () => {
  const stack = emptyStack();
  const events = new EventStream(stack, 'Events', { capacityMode: 'provisioned', shardCount: 2 });
  const template = Template.fromStack(stack);

  it('alarms on incoming bytes, records and throttling, and each alarm invokes the scaler', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual([
      'IncomingBytes',
      'IncomingRecords',
      'WriteProvisionedThroughputExceeded',
    ]);
    for (const alarm of alarms)
      expect(JSON.stringify(alarm.Properties.AlarmActions)).toMatch(/EventsScaler[0-9A-F]+","Arn"/);
    // 80 % of 2 shards, per minute: 0.8 × 60 s × 2 × 1 MiB.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IncomingBytes',
      Threshold: 0.8 * 60 * 2 * 1024 * 1024,
    });
    expect(events.scalingAlarms).toHaveLength(3);
  });

  it('lets the scaler call UpdateShardCount on this stream only', () => {
    const statements = statementsOf(template, 'EventsScalerServiceRole');
    const kinesis = statements.find((s) => JSON.stringify(s.Action).includes('kinesis:UpdateShardCount'))!;
    expect(JSON.stringify(kinesis.Resource)).toMatch(/EventsStream[0-9A-F]+","Arn"/);
    const put = statements.find((s) => s.Action === 'cloudwatch:PutMetricData') as Statement & {
      Condition: unknown;
    };
    expect(put.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'Shardline/Streams' } });
  });
});

describe('props are validated at synth with every problem listed', () => {
  it('EventStream', () => {
    const stack = emptyStack();
    const error = (() => {
      try {
        new EventStream(stack, 'E', {
          shardCount: 0,
          retentionHours: 1,
          streamName: 'bad name',
          scaling: { minShards: 10, maxShards: 2, maxUpdatesPerDay: 11 },
        });
      } catch (e) {
        return e;
      }
    })() as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.problems.map((p) => p.path).sort()).toEqual(
      [
        'retentionHours',
        'scaling',
        'scaling',
        'scaling.maxUpdatesPerDay',
        'shardCount',
        'shardCount',
        'streamName',
      ].sort(),
    );
  });

  it('IngestApi, LeaseTable, ArchiveBucket, ConsumerService', () => {
    const stack = emptyStack();
    const events = new EventStream(stack, 'E');
    expect(
      () =>
        new IngestApi(stack, 'A', {
          stream: events,
          mode: 'proxy' as 'direct',
          allowedOrigins: ['shop'],
          burstLimit: 0,
        }),
    ).toThrow(/3 problems[\s\S]*mode[\s\S]*burstLimit[\s\S]*allowedOrigins\.0/);
    expect(() => new LeaseTable(stack, 'L', { tableName: 'x' })).toThrow(ConfigurationError);
    expect(
      () =>
        new LeaseTable(stack, 'L2', {
          tableName: 'a'.repeat(234),
          leaseAssignment: 'kcl3' as 'leader',
        }),
    ).toThrow(/1 problem[\s\S]*leaseAssignment/);
    // The coordinator table's name must fit too: <tableName>-ShardlineCoordinator, at most 255.
    expect(
      () => new LeaseTable(stack, 'L3', { tableName: 'a'.repeat(235), leaseAssignment: 'leader' }),
    ).toThrow(/tableName[\s\S]*at most 234 characters/);
    expect(
      () => new LeaseTable(stack, 'L4', { tableName: 'a'.repeat(234), leaseAssignment: 'leader' }),
    ).not.toThrow();
    expect(
      () => new ArchiveBucket(stack, 'B', { bucketName: 'Bad_Name', abortIncompleteMultipartUploadDays: 0 }),
    ).toThrow(/2 problems/);
    const table = new LeaseTable(stack, 'T', { tableName: 'app-1' });
    expect(
      () =>
        new ConsumerService(stack, 'C', {
          cluster: undefined as never,
          stream: events,
          leaseTable: table,
          image: undefined as never,
          cpu: 300,
          minTasks: 5,
          maxTasks: 2,
          environment: {
            SHARDLINE_STREAM: 'x',
            SHARDLINE_FAN_OUT_CONSUMER: 'y',
            SHARDLINE_LEASE_ASSIGNMENT: 'leader',
            SHARDLINE_COORDINATOR_TABLE: 'z',
          },
          fanOut: { consumerName: 'not a name' },
        }),
    ).toThrow(
      /9 problems[\s\S]*cluster[\s\S]*image[\s\S]*cpu[\s\S]*minTasks[\s\S]*SHARDLINE_STREAM[\s\S]*SHARDLINE_FAN_OUT_CONSUMER[\s\S]*SHARDLINE_LEASE_ASSIGNMENT[\s\S]*SHARDLINE_COORDINATOR_TABLE[\s\S]*fanOut\.consumerName/,
    );
    expect(() =>
      referenceTemplate({
        leaseAssignment: { s3Sink: 'leaders' as 'leader', liveMetrics: 'KCL3' as 'leader' },
        maxApiServerErrorsPerMinute: -1,
      }),
    ).toThrow(
      /3 problems[\s\S]*maxApiServerErrorsPerMinute[\s\S]*leaseAssignment\.s3Sink[\s\S]*leaseAssignment\.liveMetrics/,
    );
  });
});
