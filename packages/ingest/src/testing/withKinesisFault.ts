import { decodeEnvelope } from '../envelope/envelopeCodec.js';
import { UpstreamError, type UpstreamFailureKind } from '../errors.js';
import type { RecordWriteResult, RecordWriter, RecordWriterEntry } from '../kinesis/RecordWriter.js';

/**
 * A fault of the Kinesis side, as data (test vectors carry one). `times` counts attempts (calls for
 * `failCalls`, per record for `failRecords`) and is unlimited when absent.
 */
export type KinesisFault =
  | {
      /** The records with these event ids get a per-record failure; the others are written. */
      readonly kind: 'failRecords';
      readonly eventIds: readonly string[];
      /** E.g. `ProvisionedThroughputExceededException` or `InternalFailure`. */
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly times?: number;
    }
  | {
      /** Every `PutRecords` call fails as a whole (no per-record result). */
      readonly kind: 'failCalls';
      readonly failure: UpstreamFailureKind;
      /** The upstream code, e.g. `ResourceNotFoundException`. */
      readonly code: string;
      readonly message: string;
      readonly times?: number;
    };

/** A {@link RecordWriter} wrapped by {@link withKinesisFault}, counting the faults it injected. */
export interface FaultyRecordWriter extends RecordWriter {
  /** How many times the fault fired (records for `failRecords`, calls for `failCalls`). */
  readonly faultHits: number;
}

/**
 * Wraps a writer (the in-memory fake, or the real Kinesis adapter) so that it fails as the faults say
 * (the first fault is the outermost); entries a fault does not touch reach the inner writer. Records
 * are recognised by their envelope's event id. `faultHits` counts the hits of every fault.
 */
export function withKinesisFault(
  writer: RecordWriter,
  faults: KinesisFault | readonly KinesisFault[] | undefined,
): FaultyRecordWriter {
  const list: readonly KinesisFault[] =
    faults === undefined ? [] : Array.isArray(faults) ? faults : [faults as KinesisFault];
  const layers: FaultyRecordWriter[] = [];
  let inner: RecordWriter = writer;
  for (let i = list.length - 1; i >= 0; i--) {
    const layer = withOneFault(inner, list[i]!);
    layers.push(layer);
    inner = layer;
  }
  return {
    get faultHits() {
      return layers.reduce((sum, layer) => sum + layer.faultHits, 0);
    },
    putRecords: (entries, signal) => inner.putRecords(entries, signal),
  };
}

function withOneFault(writer: RecordWriter, fault: KinesisFault | undefined): FaultyRecordWriter {
  let hits = 0;
  const perRecordHits = new Map<string, number>();
  let callHits = 0;
  return {
    get faultHits() {
      return hits;
    },
    async putRecords(
      entries: readonly RecordWriterEntry[],
      signal?: AbortSignal,
    ): Promise<readonly RecordWriteResult[]> {
      if (fault === undefined) return writer.putRecords(entries, signal);
      if (fault.kind === 'failCalls') {
        if (callHits < (fault.times ?? Number.POSITIVE_INFINITY)) {
          callHits += 1;
          hits += 1;
          throw new UpstreamError(fault.failure, fault.code, fault.message);
        }
        return writer.putRecords(entries, signal);
      }
      const targets = new Set(fault.eventIds);
      const failing: boolean[] = entries.map((entry) => {
        const eventId = decodeEnvelope(entry.data).eventId;
        if (!targets.has(eventId)) return false;
        const seen = perRecordHits.get(eventId) ?? 0;
        if (seen >= (fault.times ?? Number.POSITIVE_INFINITY)) return false;
        perRecordHits.set(eventId, seen + 1);
        hits += 1;
        return true;
      });
      const passed = entries.filter((_, i) => !failing[i]);
      const written = passed.length > 0 ? await writer.putRecords(passed, signal) : [];
      let k = 0;
      return entries.map((_, i) =>
        failing[i] ? { errorCode: fault.errorCode, errorMessage: fault.errorMessage } : written[k++]!,
      );
    },
  };
}
