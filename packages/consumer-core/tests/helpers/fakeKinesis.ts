import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
} from '@aws-sdk/client-kinesis';
import { aggregate } from '@shardline/kpl';
import type { KinesisClientLike } from '../../src/index.js';

/** A KPL aggregated record of three sub-records: `zero`, `one`, `two` under the partition keys `a`, `b`, `c`. */
export function aggregatedZeroOneTwo(): Uint8Array {
  return aggregate([
    { partitionKey: 'a', data: new TextEncoder().encode('zero') },
    { partitionKey: 'b', data: new TextEncoder().encode('one') },
    { partitionKey: 'c', data: new TextEncoder().encode('two') },
  ]);
}

/** A raw record as GetRecords returns it. */
export interface FakeRawRecord {
  readonly SequenceNumber: string;
  readonly PartitionKey: string;
  readonly Data: Uint8Array;
  readonly ApproximateArrivalTimestamp: Date;
}

/** What a scripted GetRecords answers: a response, or an error to throw. */
export type GetRecordsStep = Partial<GetRecordsCommandOutput> | Error;

/**
 * A Kinesis client fake: GetShardIterator calls are recorded; GetRecords answers from a script, one step
 * per call, then returns empty responses with an iterator. Plain object, no network.
 */
export function fakeKinesis(script: GetRecordsStep[], iteratorErrors: Error[] = []) {
  const iteratorRequests: GetShardIteratorCommandInput[] = [];
  const getRecordsAtMs: number[] = [];
  let calls = 0;
  const client: KinesisClientLike = {
    send: (async (command: unknown) => {
      if (command instanceof GetShardIteratorCommand) {
        iteratorRequests.push(command.input);
        const error = iteratorErrors.shift();
        if (error) throw error;
        return { ShardIterator: `it-${iteratorRequests.length}` };
      }
      if (command instanceof GetRecordsCommand) {
        getRecordsAtMs.push(performance.now());
        const step = script[calls++];
        if (step instanceof Error) throw step;
        return { Records: [], NextShardIterator: `next-${calls}`, MillisBehindLatest: 0, ...step };
      }
      throw new Error(`unexpected command ${String(command)}`);
    }) as KinesisClientLike['send'],
  };
  return { client, iteratorRequests, getRecordsAtMs, calls: () => calls };
}

/** An AWS-like error with a name. */
export function awsError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  Object.assign(error, { $metadata: { httpStatusCode: 400 }, $fault: 'client' });
  return error;
}

/** A plain record with sequence number `n`. */
export function rawRecord(
  n: number | string,
  data: string | Uint8Array = `r${n}`,
  partitionKey = `pk-${n}`,
): FakeRawRecord {
  return {
    SequenceNumber: String(n),
    PartitionKey: partitionKey,
    Data: typeof data === 'string' ? new TextEncoder().encode(data) : data,
    ApproximateArrivalTimestamp: new Date(0),
  };
}
