import { Buffer } from 'node:buffer';
import type {
  RecordOutcome,
  SendResult,
  Transport,
  TransportLimits,
  TransportRecord,
} from '@shardline/producer';
import { TransportError } from '@shardline/producer';

/** What a fake request received. */
export interface FakeRequest {
  readonly records: readonly TransportRecord[];
  readonly eventIds: readonly string[];
  /**
   * Each record's envelope plus partition key bytes, read when the request was sent (the producer
   * releases a record's bytes once it is finished).
   */
  readonly recordBytes: readonly number[];
}

/** A scripted answer: per-record outcomes computed from the records, or a whole-request error. */
export type Script = (records: readonly TransportRecord[], call: number) => Promise<SendResult> | SendResult;

/**
 * An in-memory transport that records every request and writes to a ledger (eventId → sequence) on
 * success; `script` decides what each request answers.
 */
export class FakeTransport implements Transport {
  readonly name = 'fake';
  readonly limits: TransportLimits;
  readonly requests: FakeRequest[] = [];
  /** Independent ledger: every record written, in write order. */
  readonly written: { eventId: string; partitionKey: string; data: string; requestBytes: number }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  script: Script | undefined;
  #sequence = 0n;

  constructor(limits: Partial<TransportLimits> = {}) {
    this.limits = {
      maxRecordsPerRequest: limits.maxRecordsPerRequest ?? 500,
      maxRequestBytes: limits.maxRequestBytes ?? 5 * 1_048_576,
    };
  }

  requestBytes(record: TransportRecord): number {
    return record.envelope.byteLength + Buffer.byteLength(record.partitionKey, 'utf8');
  }

  async send(records: readonly TransportRecord[], _signal: AbortSignal): Promise<SendResult> {
    this.requests.push({
      records,
      eventIds: records.map((r) => r.eventId),
      recordBytes: records.map((r) => this.requestBytes(r)),
    });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const result = this.script
        ? await this.script(records, this.requests.length)
        : FakeTransport.allOk(records);
      this.#record(records, result.outcomes);
      return this.#numbered(result);
    } finally {
      this.inFlight -= 1;
    }
  }

  #record(records: readonly TransportRecord[], outcomes: readonly RecordOutcome[]): void {
    outcomes.forEach((o, i) => {
      if (!o.ok) return;
      const r = records[i]!;
      this.written.push({
        eventId: r.eventId,
        partitionKey: r.partitionKey,
        data: Buffer.from(r.envelope).toString('utf8', r.dataOffset, r.envelope.byteLength - 1),
        // Read now: the producer releases a record's bytes once it is finished.
        requestBytes: this.requestBytes(r),
      });
    });
  }

  #numbered(result: SendResult): SendResult {
    return {
      ...result,
      outcomes: result.outcomes.map((o) => (o.ok ? { ...o, sequenceNumber: this.#nextSequence() } : o)),
    };
  }

  #nextSequence(): string {
    this.#sequence += 1n;
    return String(this.#sequence);
  }

  static allOk(records: readonly TransportRecord[]): SendResult {
    return {
      outcomes: records.map(() => ({ ok: true, shardId: 'shardId-000000000000', sequenceNumber: '0' })),
    };
  }

  static fail(code = 'ProvisionedThroughputExceededException', retriable = true): RecordOutcome {
    return {
      ok: false,
      errorCode: code,
      errorMessage: `fake ${code}`,
      retriable,
      isThrottle: code === 'ProvisionedThroughputExceededException',
    };
  }

  static requestError(retriable = true, code = 'NetworkError'): TransportError {
    return new TransportError(code, `fake ${code}`, { retriable });
  }
}

/** One record as a transport is given it: event `e1`, partition key `p`, an envelope whose data is `1`. */
export const SAMPLE_RECORD: TransportRecord = {
  eventId: 'e1',
  partitionKey: 'p',
  explicitHashKey: undefined,
  envelope: Buffer.from('{"eventId":"e1","receivedAt":"x","data":1}'),
  dataOffset: 40,
};
