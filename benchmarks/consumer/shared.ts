/**
 * What every contender of `pnpm bench consumer` shares: inputs, the JSON decode every processor does,
 * and the ledger that checks each one saw every record (independently of the component's own report).
 */
import type { InstrumentedKinesisClient } from '@shardline/consumer-core/testing';
import type { LocalTwinInfo } from '@shardline/local';
import { type ContenderProbe, monotonicNowMs } from '../harness/index.js';
import { waitFor } from './waitFor.js';

/** Input of the drain contenders (bare loop, consumer-core worker, lifion-kinesis). */
export interface DrainInput {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly shardIds: readonly string[];
  /** Records pre-loaded in the stream: the contender stops once it has seen every one of them. */
  readonly records: number;
  /** A fresh lease/state table name for this contender and round (consumer-core, lifion-kinesis). */
  readonly tableName: string;
}

/** Input of the latency contenders: they read a live stream into which the parent puts at a steady rate. */
export interface LatencyInput {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly shardIds: readonly string[];
  /** Records the parent will put: the contender stops once it has seen every one of them. */
  readonly records: number;
  readonly tableName: string;
  /** consumer-core's `idleTimeBetweenReadsMs`; absent: the library's default. */
  readonly idleTimeBetweenReadsMs?: number;
}

/** How a consumer-core worker on kinesis-local reads: enhanced fan-out or polling (the baseline). */
export type KinesisLocalRetrieval = 'fanOut' | 'polling';

/**
 * Input of the drain contender on kinesis-local: `info` points Kinesis at kinesis-local and DynamoDB at
 * the run's dynalite.
 */
export interface KinesisLocalDrainInput extends DrainInput {
  readonly retrieval: KinesisLocalRetrieval;
}

/** Input of the latency contender on kinesis-local (consumer-core's defaults otherwise). */
export interface KinesisLocalLatencyInput extends Omit<LatencyInput, 'idleTimeBetweenReadsMs'> {
  readonly retrieval: KinesisLocalRetrieval;
}

/**
 * Kinesis calls of a worker, counted by consumer-core's instrumented client it reads through (an
 * independent ledger): `GetRecords` (0 for fan-out once subscribed) and `SubscribeToShard`.
 */
export function retrievalFigures(instrumented: Pick<InstrumentedKinesisClient, 'callCounts'>): {
  get_records_calls: number;
  subscribe_to_shard_calls: number;
} {
  const counts = instrumented.callCounts();
  return {
    get_records_calls: counts.get('GetRecordsCommand') ?? 0,
    subscribe_to_shard_calls: counts.get('SubscribeToShardCommand') ?? 0,
  };
}

/**
 * Sent by a latency contender (`probe.emit`) for each batch its processor received: the events' indexes
 * (from `event_id`) and the contender's {@link monotonicNowMs} when its processor got the batch.
 */
export interface ReceivedEvent {
  readonly indexes: readonly number[];
  readonly atMs: number;
}

/** Sent once by a latency contender when it reads every shard and the parent may start putting. */
export const READY_EVENT = 'ready';
/** Sent by a latency contender for each batch (data: {@link ReceivedEvent}). */
export const RECEIVED_EVENT = 'received';

/**
 * What a latency contender's processor does with a batch: takes the time first, then each record's
 * event index (`indexOf`) into `ledger`, and sends the {@link RECEIVED_EVENT}.
 */
export function receiveBatch<R>(
  probe: Pick<ContenderProbe, 'emit'>,
  ledger: EventLedger,
  records: readonly R[],
  indexOf: (record: R) => number,
): void {
  const atMs = monotonicNowMs();
  const indexes = records.map(indexOf);
  for (const index of indexes) ledger.see(index);
  probe.emit(RECEIVED_EVENT, { indexes, atMs } satisfies ReceivedEvent);
}

/**
 * The measured span of a latency contender: waits until `everyShardRead` holds (`what` says what it
 * waits for), marks `ready` and sends {@link READY_EVENT} (the parent starts putting), then waits until
 * `ledger` has seen every event put and marks `end`. `check` runs before every look at a condition
 * (e.g. to throw a failure the library reported rather than wait for records that never come).
 *
 * @returns `performance.now()` just before `ready` and just after `end`.
 * @throws the signal's reason when aborted; Error when a wait times out or `check` throws.
 */
export async function latencySpan(
  probe: Pick<ContenderProbe, 'mark' | 'emit' | 'signal'>,
  ledger: EventLedger,
  everyShardRead: { readonly what: string; readonly holds: () => boolean },
  check?: () => void,
): Promise<{ readyAtMs: number; endAtMs: number }> {
  const checked = (condition: () => boolean) =>
    check
      ? () => {
          check();
          return condition();
        }
      : condition;
  await waitFor(everyShardRead.what, checked(everyShardRead.holds), probe.signal);
  const readyAtMs = performance.now();
  probe.mark('ready');
  probe.emit(READY_EVENT);
  await waitFor(
    'every event put',
    checked(() => ledger.complete),
    probe.signal,
    600_000,
  );
  probe.mark('end');
  return { readyAtMs, endAtMs: performance.now() };
}

/** A decoded sample event: only `event_id` is read, the rest is decoded like a real processor would. */
interface DecodedEvent {
  readonly event_id: string;
}

const decoder = new TextDecoder();

/** What every processor does with a record: UTF-8 decode and JSON.parse its data. */
export function decodeEvent(data: Uint8Array): DecodedEvent {
  return JSON.parse(decoder.decode(data)) as DecodedEvent;
}

/** The index `sampleEvents` encoded in an event id (`evt-` + base 36). */
export function eventIndex(event: DecodedEvent): number {
  return Number.parseInt(event.event_id.slice(4), 36);
}

/**
 * Which of the `expected` events were seen: one byte per event, so the ledger costs the same small,
 * fixed memory in every contender.
 */
export class EventLedger {
  readonly #seen: Uint8Array;
  #distinct = 0;
  #duplicates = 0;

  constructor(readonly expected: number) {
    this.#seen = new Uint8Array(expected);
  }

  /** Records one event; returns true once every expected event was seen. */
  see(index: number): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.expected) {
      throw new Error(`event index ${index} outside 0..${this.expected - 1}`);
    }
    if (this.#seen[index] === 1) this.#duplicates++;
    else {
      this.#seen[index] = 1;
      this.#distinct++;
    }
    return this.#distinct === this.expected;
  }

  get complete(): boolean {
    return this.#distinct === this.expected;
  }

  get distinct(): number {
    return this.#distinct;
  }

  get duplicates(): number {
    return this.#duplicates;
  }

  /** @throws Error when some expected events were never seen. */
  assertComplete(who: string): void {
    if (!this.complete) {
      throw new Error(`${who} saw ${this.#distinct} of ${this.expected} events`);
    }
  }
}

/**
 * The figures every drain contender reports, from the span between its `start` and `end` marks and its
 * ledger: throughput, CPU per record, duplicates.
 */
export function drainFigures(
  probe: Pick<ContenderProbe, 'between'>,
  records: number,
  ledger: EventLedger,
): { records_per_s: number; cpu_us_per_record: number; duplicates: number } {
  const { wallMs, cpuUs } = probe.between('start', 'end');
  return {
    records_per_s: records / (wallMs / 1000),
    cpu_us_per_record: cpuUs / records,
    duplicates: ledger.duplicates,
  };
}
