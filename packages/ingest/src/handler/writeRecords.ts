import { backoffDelayMs, Jitter, sleepUnlessAborted, splitBatches } from '@shardline/common';
import { THROTTLED_RECORD_ERROR_CODE } from '../contract/limits.js';
import { UpstreamError, UpstreamFailureKind } from '../errors.js';
import {
  isRecordWriteFailure,
  type RecordWriteResult,
  type RecordWriter,
  type RecordWriterEntry,
} from '../kinesis/RecordWriter.js';

/** Per-record codes worth a brief retry: throttling and Kinesis's transient internal failure. */
const RETRIABLE_RECORD_CODES = new Set([
  THROTTLED_RECORD_ERROR_CODE,
  'InternalFailure',
  'KMSThrottlingException',
]);
/** Per-record codes that mean throttling (for the 429 decision). */
const THROTTLE_RECORD_CODES = new Set([THROTTLED_RECORD_ERROR_CODE, 'KMSThrottlingException']);

/** Whether a per-record error code is throttling. */
export function isThrottleCode(code: string): boolean {
  return THROTTLE_RECORD_CODES.has(code);
}

/** What happened to each entry after the retries. */
export interface WriteOutcome {
  /** One per entry: a success, a per-record failure, or `undefined` when its call failed as a whole. */
  readonly results: (RecordWriteResult | undefined)[];
  /** For entries without a result: the call's error. */
  readonly callErrors: (UpstreamError | undefined)[];
  readonly writtenCount: number;
}

/** How {@link writeRecords} splits, spreads and retries (from the handler's resolved config). */
export interface WriteSettings {
  readonly writer: RecordWriter;
  readonly maxBatchBytes: number;
  readonly maxBatchRecords: number;
  readonly maxConcurrent: number;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly random: () => number;
}

/**
 * Writes entries with as few `PutRecords` calls as the limits allow, a few at a time, and retries
 * throttled or transiently failed entries (only those) with jittered exponential backoff.
 */
export async function writeRecords(
  entries: readonly RecordWriterEntry[],
  sizes: readonly number[],
  settings: WriteSettings,
  signal?: AbortSignal,
): Promise<WriteOutcome> {
  const n = entries.length;
  const results = new Array<RecordWriteResult | undefined>(n).fill(undefined);
  const callErrors = new Array<UpstreamError | undefined>(n).fill(undefined);
  let pending: number[] = Array.from({ length: n }, (_, i) => i);
  let writtenCount = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const isLast = attempt >= settings.maxAttempts;
    const retry: number[] = [];
    const batches = splitBatches(pending, (i) => sizes[i]!, settings.maxBatchRecords, settings.maxBatchBytes);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const batchEntries = batch.map((i) => entries[i]!);
        let out: readonly RecordWriteResult[];
        try {
          out = await settings.writer.putRecords(batchEntries, signal);
          if (out.length !== batch.length) {
            throw new UpstreamError(
              UpstreamFailureKind.Unavailable,
              'InvalidResponse',
              `The writer answered ${out.length} results for ${batch.length} records`,
            );
          }
        } catch (error) {
          const upstream =
            error instanceof UpstreamError
              ? error
              : new UpstreamError(UpstreamFailureKind.Unavailable, 'UnknownError', String(error), error);
          for (const i of batch) {
            // Keep an earlier per-record result of this entry: it says more than a later call failure.
            if (results[i] === undefined) callErrors[i] = upstream;
            if (!isLast && upstream.retriable) retry.push(i);
          }
          continue;
        }
        for (let k = 0; k < batch.length; k++) {
          const i = batch[k]!;
          const r = out[k]!;
          results[i] = r;
          callErrors[i] = undefined;
          if (isRecordWriteFailure(r)) {
            if (!isLast && RETRIABLE_RECORD_CODES.has(r.errorCode)) retry.push(i);
          } else {
            writtenCount += 1;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(settings.maxConcurrent, batches.length) }, worker));
    if (retry.length === 0 || isLast || signal?.aborted) break;
    // Retried entries go back in request order (splitBatches keeps order).
    pending = retry.sort((a, b) => a - b);
    // Full jitter: anywhere in [0, ceiling), so the throttled entries of many requests spread out.
    const delayMs = backoffDelayMs(
      attempt,
      { initialDelayMs: settings.baseDelayMs, maxDelayMs: settings.maxDelayMs, jitter: Jitter.Full },
      settings.random,
    );
    if (delayMs > 0) await sleepUnlessAborted(delayMs, signal);
  }
  return { results, callErrors, writtenCount };
}
