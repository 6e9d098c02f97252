import { ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand } from '@aws-sdk/client-kinesis';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { seededRandom, testSeed, until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import {
  type ConsumerEvent,
  createConsumer,
  type DynamoDBClientLike,
  DynamoDBLeaseStore,
  type KinesisClientLike,
  silentLogger,
} from '../../src/index.js';
import { networkError, serviceError } from '../helpers/faults.js';
import { makeRecords, putRecords, runCollectingBodies } from '../helpers/localTwin.js';

const local = useLocalTwin();
const { kinesis, dynamodb } = local;

it('injected faults (throttling, expired iterators, network errors, lost responses, throttled table) lose nothing and stall no shard', async () => {
  const random = seededRandom(testSeed('faults'));
  const reached = new Map<string, number>();
  const hit = (point: string) => reached.set(point, (reached.get(point) ?? 0) + 1);

  let getRecordsCalls = 0;
  const faultyKinesis: KinesisClientLike = {
    send: (async (command: unknown, options?: unknown) => {
      if (command instanceof GetRecordsCommand) {
        getRecordsCalls += 1;
        const roll = random();
        // Every fault type once early on cue, then at random.
        if (getRecordsCalls === 3 || roll < 0.1) {
          hit('kinesis:throttled');
          throw serviceError('ProvisionedThroughputExceededException');
        }
        if (getRecordsCalls === 5 || roll < 0.15) {
          hit('kinesis:expired-iterator');
          throw serviceError('ExpiredIteratorException');
        }
        if (getRecordsCalls === 7 || roll < 0.2) {
          hit('kinesis:network');
          throw networkError();
        }
      }
      return kinesis.send(command as never, options as never);
    }) as KinesisClientLike['send'],
  };

  let renewals = 0;
  let checkpoints = 0;
  let scans = 0;
  const faultyDynamoDB: DynamoDBClientLike = {
    send: (async (command: unknown, options?: unknown) => {
      if (command instanceof ScanCommand && ++scans === 2) {
        hit('dynamodb:scan-throttled');
        throw serviceError('ProvisionedThroughputExceededException');
      }
      if (command instanceof UpdateItemCommand) {
        const isCheckpoint = command.input.UpdateExpression?.includes('#checkpoint') ?? false;
        // A renewal sets the counter (and the retrieval mode the worker records), nothing else.
        const isRenew =
          command.input.UpdateExpression?.replace(', #retrieval = :retrieval', '') === 'SET #counter = :next';
        if (isRenew && ++renewals % 4 === 1) {
          hit('dynamodb:renew-throttled');
          throw serviceError('ThrottlingException');
        }
        if (isCheckpoint) {
          checkpoints += 1;
          if (checkpoints === 2) {
            // Lost response: the write lands, the SDK's retry meets its own write's condition.
            hit('dynamodb:checkpoint-lost-response');
            await dynamodb.send(command);
            throw serviceError('ConditionalCheckFailedException', 400, 2);
          }
          if (checkpoints === 4 || random() < 0.1) {
            hit('dynamodb:checkpoint-network');
            throw networkError();
          }
        }
      }
      return dynamodb.send(command as never, options as never);
    }) as DynamoDBClientLike['send'],
  };

  const streamName = uniqueName('faults');
  const applicationName = uniqueName('faults-app');
  await local.createStream(streamName, { shardCount: 3 });
  const written = await putRecords(kinesis, streamName, makeRecords(400));
  const consumer = createConsumer({
    streamName,
    applicationName,
    kinesisClient: faultyKinesis,
    dynamoDBClient: faultyDynamoDB,
    initialPosition: 'TRIM_HORIZON',
    failoverTimeMs: 3_000,
    leaseTakeIntervalMs: 300,
    idleTimeBetweenReadsMs: 50,
    maxRecordsPerFetch: 20,
    checkpointIntervalMs: 50,
    logger: silentLogger,
  });
  const events: ConsumerEvent[] = [];
  consumer.events$.subscribe((e) => events.push(e));
  const seen = await runCollectingBodies(consumer);
  try {
    await until(() => new Set(seen).size >= written.length, 45_000, 'every record despite the faults');
    // Late faults must not strand a checkpoint: wait until every shard's checkpoint is its last record.
    const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName });
    const lastOf = (shardId: string) => written.filter((r) => r.shardId === shardId).at(-1)!.sequenceNumber;
    let leases = await store.listLeases();
    const isFinal = () => leases.every((l) => l.checkpoint.sequenceNumber === lastOf(l.leaseKey));
    for (let i = 0; i < 150 && !isFinal(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      leases = await store.listLeases();
    }
    // Keep running past a few renewal rounds so the renewal faults are exercised too.
    await until(
      () => (reached.get('dynamodb:renew-throttled') ?? 0) >= 2,
      10_000,
      'renewals under throttling',
    );
    expect(leases.map((l) => l.checkpoint.sequenceNumber).sort()).toEqual(
      leases.map((l) => lastOf(l.leaseKey)).sort(),
    );
  } finally {
    await consumer.stop();
  }
  expect(new Set(seen)).toEqual(new Set(written.map((r) => r.body)));
  for (const point of [
    'kinesis:throttled',
    'kinesis:expired-iterator',
    'kinesis:network',
    'dynamodb:scan-throttled',
    'dynamodb:renew-throttled',
    'dynamodb:checkpoint-lost-response',
    'dynamodb:checkpoint-network',
  ]) {
    expect(
      reached.get(point) ?? 0,
      `fault point ${point} reached (${JSON.stringify([...reached])})`,
    ).toBeGreaterThan(0);
  }
  // Nothing was lost to the faults: no lease was ever lost, each shard was read by this worker only.
  expect(events.filter((e) => e.type === 'LEASE_LOST')).toEqual([]);
  expect(events.some((e) => e.type === 'RETRY')).toBe(true);
}, 90_000);
