import type { KinesisFault } from '../testing/withKinesisFault.js';

/**
 * The setup every vector assumes: configure the gateway under test with this API key and these allowed
 * origins. Requests send `Origin: VECTOR_SETUP.origin`.
 */
export const VECTOR_SETUP = Object.freeze({
  apiKey: 'vector-key-4f1c2a9e',
  allowedOrigins: Object.freeze(['https://app.example.com']) as readonly string[],
  origin: 'https://app.example.com',
});

/** Labels that let a gateway with documented exceptions (API Gateway `direct` mode) pick vectors. */
export const VectorTag = {
  /** Routing answers (404/405; API Gateway answers 403). */
  Routing: 'routing',
  /** CORS headers and preflight. */
  Cors: 'cors',
  /** The exact problem list of a 400 (paths and count); a model validator words its own. */
  ProblemList: 'problem-list',
  /** The gateway generates event ids (UUIDv7). */
  GeneratedEventId: 'generated-event-id',
  /** Encoding rules: UTF-8 validity, BOM, lone surrogates, gzip. */
  Encoding: 'encoding',
  /** Nesting depth of `data`. */
  Depth: 'depth',
  /** The stored record size rule (envelope + key ≤ 1 MiB, 413 with the record's path). */
  RecordSize: 'record-size',
  /** Bodies near or over the 10 MiB limit (large to build and send). */
  LargeBody: 'large-body',
  /** Needs an injected Kinesis fault (`kinesisFault`). */
  KinesisFault: 'kinesis-fault',
  /** What lands in the stream must be checked byte for byte (`expect.stored`). */
  Stored: 'stored',
} as const;
/** See {@link VectorTag}. */
export type VectorTag = (typeof VectorTag)[keyof typeof VectorTag];

/** The request of a vector, exactly as a client sends it. */
export interface VectorRequest {
  readonly method: string;
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body (gzip-compressed when the vector says so). */
  readonly body: Uint8Array;
}

/** A record the vector expects in the stream, in request order. */
export interface ExpectedStoredRecord {
  /**
   * The client's event id; absent when the gateway generates it (then the answer's id at the same index
   * is used: such vectors write every record).
   */
  readonly eventId?: string;
  /** The client's partition key; absent when the gateway chooses (the event id, here). */
  readonly partitionKey?: string;
  /** `data`'s exact JSON text as stored (compact: insignificant whitespace removed). */
  readonly dataJson: string;
}

/** What a vector expects. */
export interface VectorExpectation {
  /** The status the handler and the local gateway must answer. */
  readonly status: number;
  /** Other statuses acceptable from API Gateway (its own 403 for unknown routes and methods). */
  readonly apiGatewayStatuses?: readonly number[];
  /**
   * Headers (lower-case names): a string must be equal, a RegExp must match, `null` must be absent.
   */
  readonly headers?: Readonly<Record<string, string | RegExp | null>>;
  /**
   * A partial shape of the JSON body: objects list the fields that must be there (others may be too),
   * arrays must have the same length and match element by element, RegExps match strings, other values
   * must be equal. `undefined`: the body is not checked.
   */
  readonly body?: unknown;
  /** More checks of the parsed body: returns what is wrong (empty when all is right). */
  readonly check?: (body: unknown) => readonly string[];
  /**
   * What lands in the stream, in request order (`[]`: nothing). `undefined`: not checked.
   */
  readonly stored?: readonly ExpectedStoredRecord[];
}

/** One request/response test vector of the ingest API contract. */
export interface IngestVector {
  /** Unique, stable, e.g. `events/big-integers`. */
  readonly id: string;
  /** The rule it checks, in a sentence. */
  readonly description: string;
  readonly tags: readonly VectorTag[];
  readonly request: VectorRequest;
  /** Kinesis faults to inject for this vector (wrap the writer with `withKinesisFault`). */
  readonly kinesisFaults?: readonly KinesisFault[];
  readonly expect: VectorExpectation;
}
