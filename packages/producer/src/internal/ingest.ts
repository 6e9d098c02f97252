// The ingest contract used by the producer, in one place.

export type { IngestErrorResponse, IngestEventsResponse } from '@shardline/ingest';
export {
  EVENT_ID_PATTERN,
  encodeEnvelope,
  envelopeByteLength,
  INGEST_LIMITS,
  uuidv7,
} from '@shardline/ingest';
