/**
 * What the consumer-core contenders of `pnpm bench consumer` share: the local twin's clients, a worker
 * reading the contender's stream from TRIM_HORIZON into its fresh lease table, the drain run (the
 * processor of every drain contender, then a stop once the ledger is complete) and the latency
 * processor.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { type Consumer, type ConsumerOptions, createConsumer } from '@shardline/consumer-core';
import { dynamoDBClientConfig, kinesisClientConfig, type LocalTwinInfo } from '@shardline/local';
import type { ContenderProbe } from '../harness/index.js';
import { decodeEvent, type EventLedger, eventIndex, receiveBatch } from './shared.js';

/** A contender's own Kinesis and DynamoDB clients on the local twin `info` describes. */
export interface LocalClients {
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  /** Destroys both clients. */
  destroy(): void;
}

/** The contender's own Kinesis and DynamoDB clients, with the local twin's settings. */
export function localClients(info: LocalTwinInfo): LocalClients {
  const kinesis = new KinesisClient(kinesisClientConfig(info));
  const dynamodb = new DynamoDBClient(dynamoDBClientConfig(info));
  return {
    kinesis,
    dynamodb,
    destroy() {
      kinesis.destroy();
      dynamodb.destroy();
    },
  };
}

/**
 * A consumer-core worker on the contender's stream, with the contender's fresh table as its
 * application (lease table), reading from TRIM_HORIZON through `clients`, stopped by `signal`;
 * `options` on top (e.g. an instrumented `kinesisClient`), every other option at its default.
 */
export function createWorker(
  input: { readonly streamName: string; readonly tableName: string },
  clients: LocalClients,
  signal: AbortSignal,
  options: Partial<ConsumerOptions> = {},
): Consumer {
  return createConsumer({
    streamName: input.streamName,
    applicationName: input.tableName,
    kinesisClient: clients.kinesis,
    dynamoDBClient: clients.dynamodb,
    initialPosition: 'TRIM_HORIZON',
    ...options,
    signal,
  });
}

/**
 * Runs `consumer` with the drain processor — it JSON-decodes every record into `ledger` and marks `end`
 * at the last expected event — until the ledger is complete, then stops it.
 *
 * @throws the probe signal's reason when the parent stops the contender first; Error when, stopped,
 * the ledger is still missing events (`who` names the contender).
 */
export async function drainWorker(
  consumer: Consumer,
  probe: Pick<ContenderProbe, 'mark' | 'signal'>,
  ledger: EventLedger,
  who: string,
): Promise<void> {
  let done: () => void = () => {};
  const allSeen = new Promise<void>((resolve) => {
    done = resolve;
  });
  await consumer.run({
    processBatch: async (batch) => {
      for (const record of batch.records) {
        if (ledger.see(eventIndex(decodeEvent(record.data)))) {
          probe.mark('end');
          done();
        }
      }
    },
  });
  const aborted = new Promise<never>((_, reject) => {
    probe.signal.addEventListener('abort', () => reject(probe.signal.reason), { once: true });
  });
  await Promise.race([allSeen, aborted]);
  await consumer.stop();
  ledger.assertComplete(who);
}

/**
 * Runs `consumer` with the latency processor: each batch's receipt is sent to the parent
 * ({@link receiveBatch}), every record JSON-decoded. Resolves once the worker runs; stop it yourself.
 */
export function runForLatency(
  consumer: Consumer,
  probe: Pick<ContenderProbe, 'emit'>,
  ledger: EventLedger,
): Promise<void> {
  return consumer.run({
    processBatch: async (batch) => receiveBatch(probe, ledger, batch.records, recordIndex),
  });
}

function recordIndex(record: { readonly data: Uint8Array }): number {
  return eventIndex(decodeEvent(record.data));
}
