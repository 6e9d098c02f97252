// A consumer-core worker run as its own process by the crash tests. It appends one ledger line per
// record it processed ("<shardId> <sequenceNumber> <body>") before the batch counts as done, and can
// kill itself with SIGKILL in the middle of a batch (a named crash point) to test at-least-once.
//
// Environment: SHARDLINE_TEST (JSON): { info, streamName, applicationName, ledgerPath, crashAfterRecords?,
// retrieval? ('polling' | 'fanOut'; fan-out needs info.endpoints.kinesis to be kinesis-local) }

import { appendFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { dynamoDBClientConfig, kinesisClientConfig, type LocalTwinInfo } from '@shardline/local';
import { createConsumer, silentLogger } from '../../src/index.js';

interface CrashWorkerSpec {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly applicationName: string;
  readonly ledgerPath: string;
  readonly crashAfterRecords?: number;
  readonly retrieval?: 'polling' | 'fanOut';
}

const spec = JSON.parse(process.env.SHARDLINE_TEST ?? '{}') as CrashWorkerSpec;
const kinesis = new KinesisClient(kinesisClientConfig(spec.info));
const dynamodb = new DynamoDBClient(dynamoDBClientConfig(spec.info));
const consumer = createConsumer({
  streamName: spec.streamName,
  applicationName: spec.applicationName,
  kinesisClient: kinesis,
  dynamoDBClient: dynamodb,
  initialPosition: 'TRIM_HORIZON',
  failoverTimeMs: 3_000,
  leaseTakeIntervalMs: 500,
  retrieval:
    spec.retrieval === 'fanOut'
      ? { fanOut: { subscriptionIdleTimeoutMs: 15_000 } }
      : { polling: { idleTimeBetweenReadsMs: 100, maxRecordsPerFetch: 25 } },
  checkpointIntervalMs: 150,
  logger: silentLogger,
});

let processed = 0;
await consumer.run({
  processBatch: async (batch) => {
    for (const record of batch.records) {
      appendFileSync(
        spec.ledgerPath,
        `${batch.shardId} ${record.sequenceNumber} ${new TextDecoder().decode(record.data)}\n`,
      );
      processed += 1;
      if (spec.crashAfterRecords !== undefined && processed === spec.crashAfterRecords) {
        process.stdout.write('CRASH_POINT mid-batch\n');
        process.kill(process.pid, 'SIGKILL');
      }
    }
    // Slow enough that checkpoints interleave with processing.
    await new Promise((resolve) => setTimeout(resolve, 5));
  },
});
process.stdout.write('RUNNING\n');
process.once('SIGTERM', () => {
  void consumer.stop().then(() => {
    kinesis.destroy();
    dynamodb.destroy();
    process.stdout.write('STOPPED\n');
    process.exit(0);
  });
});
