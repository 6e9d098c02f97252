// One worker of a multi-process test fleet, run as its own OS process. It appends to its own ledger
// (one line per fact, wall-clock ms of this host first):
//   <ms> D <shardId> <firstSeq> <lastSeq>       a batch was delivered to processBatch
//   <ms> P <shardId> <seq> <body>               a record was processed
//   <ms> E <TYPE> <leaseKey|shardId> [<extra>]  a lease/checkpoint event (CHECKPOINT_WRITTEN extra = seq;
//                                               RETRY extra = <operation>:<error name of the cause>;
//                                               SUBSCRIBED extra = first|renewal)
//   <ms> R <kind> <count>                       lease-table requests by kind (at stop)
//   <ms> X <shardId> <seq>                      the poison record was handed to processBatch (it throws)
// Environment: SHARDLINE_TEST (JSON): FleetWorkerSpec.

import { appendFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { awsErrorName } from '@shardline/common';
import { dynamoDBClientConfig, kinesisClientConfig, type LocalTwinInfo } from '@shardline/local';
import { seededRandom } from '@shardline/test-kit';
import { createConsumer, silentLogger } from '../../src/index.js';
import { instrumentDynamoDBClient } from '../../src/testing/index.js';
import { serviceError } from './faults.js';

export interface FleetWorkerSpec {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly applicationName: string;
  readonly workerId: string;
  readonly ledgerPath: string;
  /** DynamoDB through this endpoint (a cuttable proxy) instead of the twin's. */
  readonly dynamoDBEndpoint?: string;
  readonly failoverTimeMs?: number;
  readonly leaseTakeIntervalMs?: number;
  readonly checkpointIntervalMs?: number;
  readonly processDelayMs?: number;
  /** Throttle this share of lease-table requests (ProvisionedThroughputExceededException), seeded. */
  readonly throttle?: { readonly share: number; readonly seed: number };
  /** A record body processBatch always fails on (one try per batch: `maxAttempts` 1). */
  readonly poisonBody?: string;
  readonly maxShardFailures?: number;
  readonly shardFailureBackoffMs?: number;
  /** How to read (`info.endpoints.kinesis` must be kinesis-local for fan-out). @defaultValue 'polling' */
  readonly retrieval?: 'polling' | 'fanOut';
  /** Who assigns leases. @defaultValue 'worker' */
  readonly leaseAssignment?: 'worker' | 'leader';
}

const spec = JSON.parse(process.env.SHARDLINE_TEST ?? '{}') as FleetWorkerSpec;
const write = (line: string) => appendFileSync(spec.ledgerPath, `${Date.now()} ${line}\n`);
const kinesis = new KinesisClient(kinesisClientConfig(spec.info));
const dynamoConfig = dynamoDBClientConfig(spec.info);
const dynamodb = new DynamoDBClient({
  ...dynamoConfig,
  ...(spec.dynamoDBEndpoint ? { endpoint: spec.dynamoDBEndpoint } : {}),
});
const random = seededRandom(spec.throttle?.seed ?? 1);
let throttled = 0;
const throttling = {
  send: ((command: { constructor: { name: string } }, options?: unknown) => {
    if (spec.throttle && random() < spec.throttle.share) {
      throttled += 1;
      return Promise.reject(serviceError('ProvisionedThroughputExceededException'));
    }
    return dynamodb.send(command as never, options as never);
  }) as DynamoDBClient['send'],
};
const counted = instrumentDynamoDBClient(throttling);
const consumer = createConsumer({
  streamName: spec.streamName,
  applicationName: spec.applicationName,
  workerId: spec.workerId,
  kinesisClient: kinesis,
  dynamoDBClient: counted.client,
  initialPosition: 'TRIM_HORIZON',
  failoverTimeMs: spec.failoverTimeMs ?? 3_000,
  leaseTakeIntervalMs: spec.leaseTakeIntervalMs ?? 1_000,
  retrieval:
    spec.retrieval === 'fanOut'
      ? { fanOut: { subscriptionIdleTimeoutMs: 15_000 } }
      : { polling: { idleTimeBetweenReadsMs: 200, maxRecordsPerFetch: 20 } },
  checkpointIntervalMs: spec.checkpointIntervalMs ?? 200,
  shutdownTimeoutMs: 5_000,
  ...(spec.leaseAssignment ? { leaseAssignment: spec.leaseAssignment } : {}),
  ...(spec.maxShardFailures !== undefined ? { maxShardFailures: spec.maxShardFailures } : {}),
  ...(spec.shardFailureBackoffMs !== undefined ? { shardFailureBackoffMs: spec.shardFailureBackoffMs } : {}),
  logger: silentLogger,
});
consumer.events$.subscribe((event) => {
  switch (event.type) {
    case 'CHECKPOINT_WRITTEN':
      write(`E ${event.type} ${event.shardId} ${event.checkpoint.sequenceNumber}`);
      break;
    case 'LEASE_TAKEN':
    case 'LEASE_RELEASED':
    case 'LEASE_HANDED_OFF':
    case 'LEASE_HANDOFF_STARTED':
    case 'LEASE_HANDOFF_REQUESTED':
      write(`E ${event.type} ${event.leaseKey}`);
      break;
    case 'LEASE_LOST':
      write(`E ${event.type} ${event.leaseKey} ${event.reason}`);
      break;
    case 'SHARD_FAILED':
      write(`E ${event.type} ${event.shardId} ${event.failureCount ?? '-'}`);
      break;
    case 'SUBSCRIBED':
      write(`E ${event.type} ${event.shardId} ${event.isRenewal ? 'renewal' : 'first'}`);
      break;
    case 'RETRY':
      write(
        `E ${event.type} ${event.shardId ?? '-'} ${event.operation}:${awsErrorName(event.error.cause ?? event.error)}`,
      );
      break;
    case 'SHARD_HALTED':
      write(`E ${event.type} ${event.shardId}`);
      break;
    case 'DUPLICATE_WORKER_ID':
      write(`E ${event.type} ${event.leaseKeys.join(',')}`);
      break;
  }
});

await consumer.run({
  ...(spec.poisonBody !== undefined ? { maxAttempts: 1 } : {}),
  processBatch: async (batch) => {
    write(`D ${batch.shardId} ${batch.records[0]!.sequenceNumber} ${batch.records.at(-1)!.sequenceNumber}`);
    for (const record of batch.records) {
      if (spec.poisonBody !== undefined && new TextDecoder().decode(record.data) === spec.poisonBody) {
        write(`X ${batch.shardId} ${record.sequenceNumber}`);
        throw new Error('the poison record cannot be processed');
      }
    }
    for (const record of batch.records) {
      write(`P ${batch.shardId} ${record.sequenceNumber} ${new TextDecoder().decode(record.data)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, spec.processDelayMs ?? 5));
  },
});
process.stdout.write('RUNNING\n');
process.once('SIGTERM', () => {
  void consumer.stop().then(() => {
    for (const [kind, count] of counted.counts()) write(`R ${kind} ${count}`);
    write(`R throttled ${throttled}`);
    kinesis.destroy();
    dynamodb.destroy();
    process.stdout.write('STOPPED\n');
    process.exit(0);
  });
});
