import {
  API_KEY_HEADER,
  EVENT_ID_PATTERN,
  INGEST_ERROR_STATUS,
  IngestErrorCode,
  IngestRoute,
} from '../contract/limits.js';
import type {
  IngestErrorResponse,
  IngestEventsResponse,
  IngestProblem,
  IngestRecordResult,
} from '../contract/types.js';
import { spliceEnvelope } from '../envelope/envelopeCodec.js';
import { IngestError, UpstreamError, UpstreamFailureKind } from '../errors.js';
import { compactJsonLength } from '../json/JsonScanner.js';
import { parseIngestBody } from '../json/parseIngestBody.js';
import {
  isRecordWriteFailure,
  type RecordWriteResult,
  type RecordWriterEntry,
} from '../kinesis/RecordWriter.js';
import { callFailureMessage, clientErrorCode, recordFailureMessage } from './clientMessages.js';
import { gunzipBounded, type RequestBody, readBounded } from './readBody.js';
import {
  type IngestHandlerOptions,
  type ResolvedIngestHandlerConfig,
  resolveIngestHandlerConfig,
} from './resolveIngestHandlerConfig.js';
import { isThrottleCode, writeRecords } from './writeRecords.js';

/** A request as an HTTP adapter (Node http, fastify, an API Gateway proxy event) hands it over. */
export interface IngestRequest {
  /** `POST`, `OPTIONS`... (any case). */
  readonly method: string;
  /** `/v1/events`; a query string is ignored. */
  readonly path: string;
  /** Header names in any case; a repeated header may be an array. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /**
   * The raw body (still gzip-compressed when `Content-Encoding: gzip`), or its chunks as they arrive;
   * reading stops past `maxBodyBytes`.
   */
  readonly body: RequestBody;
}

/** The answer: send it as is. Header names are lower case; `body` is JSON text (empty for 204). */
export interface IngestResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Per-call options of an {@link IngestHandler}. */
export interface IngestHandleOptions {
  /** Aborts the upstream writes (e.g. the client went away or the Lambda deadline is near). */
  readonly signal?: AbortSignal;
}

/** The framework-independent ingest handler. Never throws: every fault becomes an answer. */
export type IngestHandler = (
  request: IngestRequest,
  options?: IngestHandleOptions,
) => Promise<IngestResponse>;

const ALLOWED_METHODS = 'POST, OPTIONS';
const ALLOWED_HEADERS = 'Content-Type, Content-Encoding, X-Api-Key';
const JSON_TYPE = 'application/json; charset=utf-8';

function headerMap(headers: IngestRequest['headers']): Map<string, string> {
  const map = new Map<string, string>();
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    map.set(name.toLowerCase(), typeof value === 'string' ? value : value.join(', '));
  }
  return map;
}

/** `application/json`, any case, parameters allowed (`; charset=utf-8`). */
function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json';
}

/**
 * Creates the ingest API handler: the whole contract (routes, CORS, API keys, media type, gzip, size
 * limits, strict validation, the envelope, the `PutRecords` split and retries, and every answer) with
 * no HTTP framework, so that a thin adapter can host it in a Node server, fastify or AWS Lambda.
 *
 * Checks run in the contract's order and the first failing one answers: route (404), method (405),
 * API key (403), media type and content encoding (415), body size (413), JSON syntax (400
 * `InvalidBody`), schema (400 `ValidationFailed`, every problem), record size (413), then the write:
 * 200, 207 (some records failed), 429 (every record throttled) or 502/503 (upstream failed before any
 * record result). `OPTIONS` preflight needs no key; CORS headers are on every answer.
 *
 * @throws ConfigurationError when options are wrong (every problem listed).
 * @example
 * ```ts
 * const handle = createIngestHandler({
 *   recordWriter: new KinesisRecordWriter({ client: new KinesisClient({}), streamName: 'events' }),
 *   apiKeys: [process.env.INGEST_API_KEY!],
 *   allowedOrigins: ['https://shop.example.com'],
 * });
 * const { status, headers, body } = await handle({ method: 'POST', path: '/v1/events', headers: req.headers, body: req });
 * ```
 */
export function createIngestHandler(options: IngestHandlerOptions): IngestHandler {
  const config = resolveIngestHandlerConfig(options);
  return async (request, handleOptions) => {
    let headers: Map<string, string> | undefined;
    try {
      headers = headerMap(request.headers ?? {});
      return await handle(config, request, headers, handleOptions?.signal);
    } catch (error) {
      config.onError(error);
      return errorAnswer(
        config,
        headers,
        IngestErrorCode.InternalError,
        'The gateway failed to handle the request',
      );
    }
  };
}

function corsHeaders(
  config: ResolvedIngestHandlerConfig,
  headers: Map<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {
    'content-type': JSON_TYPE,
    'cache-control': 'no-store',
    'access-control-expose-headers': 'Retry-After',
  };
  if (config.allowedOrigins === '*') {
    out['access-control-allow-origin'] = '*';
  } else {
    out.vary = 'Origin';
    const origin = headers?.get('origin');
    if (origin !== undefined && config.allowedOrigins.has(origin))
      out['access-control-allow-origin'] = origin;
  }
  return out;
}

function answer(
  config: ResolvedIngestHandlerConfig,
  headers: Map<string, string> | undefined,
  status: number,
  body: unknown,
  extraHeaders?: Record<string, string>,
): IngestResponse {
  const out = corsHeaders(config, headers);
  if (extraHeaders) Object.assign(out, extraHeaders);
  return { status, headers: out, body: JSON.stringify(body) };
}

function errorAnswer(
  config: ResolvedIngestHandlerConfig,
  headers: Map<string, string> | undefined,
  code: IngestErrorCode,
  message: string,
  more?: {
    problems?: readonly IngestProblem[];
    eventId?: string;
    errorCode?: string;
    headers?: Record<string, string>;
  },
): IngestResponse {
  const body: IngestErrorResponse = {
    error: code,
    message,
    ...(more?.problems ? { problems: more.problems } : {}),
    ...(more?.eventId !== undefined ? { eventId: more.eventId } : {}),
    ...(more?.errorCode !== undefined ? { errorCode: more.errorCode } : {}),
  };
  return answer(config, headers, INGEST_ERROR_STATUS[code], body, more?.headers);
}

async function handle(
  config: ResolvedIngestHandlerConfig,
  request: IngestRequest,
  headers: Map<string, string>,
  signal: AbortSignal | undefined,
): Promise<IngestResponse> {
  // 1. Route and method.
  const rawPath = request.path ?? '';
  const query = rawPath.indexOf('?');
  const path = query < 0 ? rawPath : rawPath.slice(0, query);
  if (path !== IngestRoute.Events && path !== IngestRoute.Event) {
    return errorAnswer(
      config,
      headers,
      IngestErrorCode.NotFound,
      `No route ${path}: use POST /v1/events or POST /v1/event`,
    );
  }
  const isBatch = path === IngestRoute.Events;
  const method = (request.method ?? '').toUpperCase();
  if (method === 'OPTIONS') {
    const out = corsHeaders(config, headers);
    out['access-control-allow-methods'] = ALLOWED_METHODS;
    out['access-control-allow-headers'] = ALLOWED_HEADERS;
    out['access-control-max-age'] = String(config.corsMaxAgeSeconds);
    delete out['content-type'];
    return { status: 204, headers: out, body: '' };
  }
  if (method !== 'POST') {
    return errorAnswer(
      config,
      headers,
      IngestErrorCode.MethodNotAllowed,
      `${method} is not allowed on ${path}: use POST`,
      {
        headers: { allow: ALLOWED_METHODS },
      },
    );
  }

  // 2. API key (403).
  const apiKey = headers.get(API_KEY_HEADER);
  if (apiKey === undefined || apiKey === '') {
    return errorAnswer(config, headers, IngestErrorCode.Forbidden, 'Missing x-api-key header');
  }
  if (!(await config.checkApiKey(apiKey))) {
    return errorAnswer(config, headers, IngestErrorCode.Forbidden, 'Invalid API key');
  }

  // 3. Media type and content encoding (415).
  const contentType = headers.get('content-type');
  if (!isJsonMediaType(contentType)) {
    return errorAnswer(
      config,
      headers,
      IngestErrorCode.UnsupportedMediaType,
      `Content-Type must be application/json, not ${contentType === undefined ? 'absent' : JSON.stringify(contentType)}`,
    );
  }
  const encoding = (headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== '') {
    return errorAnswer(
      config,
      headers,
      IngestErrorCode.UnsupportedMediaType,
      `Content-Encoding must be gzip or identity, not ${JSON.stringify(encoding)}`,
    );
  }

  // 4. Body size (413), before any parsing; gzip bodies are bounded raw and inflated.
  const tooLarge = (message: string) =>
    errorAnswer(config, headers, IngestErrorCode.PayloadTooLarge, message);
  const declared = Number(headers.get('content-length'));
  if (Number.isFinite(declared) && declared > config.maxBodyBytes) {
    return tooLarge(`The body is ${declared} bytes; the limit is ${config.maxBodyBytes}`);
  }
  const raw = await readBounded(request.body, config.maxBodyBytes);
  if (raw === undefined) return tooLarge(`The body is larger than the limit of ${config.maxBodyBytes} bytes`);
  let body = raw;
  if (encoding === 'gzip') {
    const inflated = await gunzipBounded(raw, config.maxBodyBytes);
    if (inflated.kind === 'too-large')
      return tooLarge(`${inflated.message} (the limit applies after decompression)`);
    if (inflated.kind === 'bad-encoding') {
      return errorAnswer(config, headers, IngestErrorCode.InvalidBody, inflated.message, {
        problems: [{ path: '', message: inflated.message }],
      });
    }
    body = inflated.bytes;
  }
  // A UTF-8 byte order mark is tolerated.
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);

  // 5. JSON syntax and schema (400).
  const parsed = parseIngestBody(body, isBatch);
  if (parsed.kind === 'syntax') {
    return errorAnswer(config, headers, IngestErrorCode.InvalidBody, 'The body is not valid JSON', {
      problems: parsed.problems,
    });
  }
  if (parsed.kind === 'invalid') {
    const shown = parsed.problems.length;
    const count = parsed.problemCount;
    return errorAnswer(
      config,
      headers,
      IngestErrorCode.ValidationFailed,
      count === shown
        ? `The body breaks the contract (${count} problem${count === 1 ? '' : 's'})`
        : `The body breaks the contract (${count} problems, the first ${shown} listed)`,
      { problems: parsed.problems },
    );
  }

  // 6. Envelopes and record size (413).
  const receivedAt = new Date(config.now()).toISOString();
  const records = parsed.records;
  const n = records.length;
  const entries = new Array<RecordWriterEntry>(n);
  const eventIds = new Array<string>(n);
  const sizes = new Array<number>(n);
  let oversize: IngestProblem[] | undefined;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    let eventId = r.eventId;
    if (eventId === undefined) {
      eventId = config.generateEventId();
      // A custom generator must keep to the contract (the envelope writes ids as ASCII).
      if (!EVENT_ID_PATTERN.test(eventId)) {
        throw new IngestError(
          `generateEventId returned ${JSON.stringify(eventId)}, not 1 to 128 of [A-Za-z0-9._:-]`,
        );
      }
    }
    // The event id spreads records over every shard (Kinesis hashes the key with MD5) and sends a
    // retried event to the same shard as its first attempt.
    const partitionKey = r.partitionKey ?? eventId;
    const compactLength = r.dataHasWhitespace
      ? compactJsonLength(body, r.dataStart, r.dataEnd)
      : r.dataEnd - r.dataStart;
    const data = spliceEnvelope(
      eventId,
      receivedAt,
      body,
      r.dataStart,
      r.dataEnd,
      !r.dataHasWhitespace,
      compactLength,
    );
    const size = data.length + Buffer.byteLength(partitionKey, 'utf8');
    if (size > config.maxRecordBytes) {
      oversize ??= [];
      oversize.push({
        path: isBatch ? `/records/${i}` : '',
        message: `The stored record (envelope and partition key) is ${size} bytes; the limit is ${config.maxRecordBytes}`,
      });
    }
    entries[i] = { partitionKey, data };
    eventIds[i] = eventId;
    sizes[i] = size;
  }
  if (oversize) {
    return errorAnswer(
      config,
      headers,
      IngestErrorCode.PayloadTooLarge,
      oversize.length === 1
        ? `The record at ${oversize[0]!.path || 'the body'} is too large`
        : `${oversize.length} records are too large`,
      { problems: oversize },
    );
  }

  // 7. Write.
  const outcome = await writeRecords(
    entries,
    sizes,
    {
      writer: config.recordWriter,
      maxBatchBytes: config.maxPutRecordsBytes,
      maxBatchRecords: config.maxPutRecordsRecords,
      maxConcurrent: config.maxConcurrentPutRecords,
      ...config.throttleRetry,
      random: config.random,
    },
    signal,
  );
  return answerWrite(config, headers, isBatch, eventIds, outcome);
}

function answerWrite(
  config: ResolvedIngestHandlerConfig,
  headers: Map<string, string>,
  isBatch: boolean,
  eventIds: readonly string[],
  outcome: Awaited<ReturnType<typeof writeRecords>>,
): IngestResponse {
  const n = eventIds.length;
  const retryAfter = { 'retry-after': String(config.retryAfterSeconds) };
  const { results, callErrors } = outcome;
  let hasRecordResult = false;
  let isAllThrottled = true;
  let isAnyRejected = false;
  for (let i = 0; i < n; i++) {
    const r = results[i];
    if (r !== undefined) {
      hasRecordResult = true;
      if (!isRecordWriteFailure(r) || !isThrottleCode(r.errorCode)) isAllThrottled = false;
    } else {
      const e = callErrors[i]!;
      if (e.kind !== UpstreamFailureKind.Throttled) isAllThrottled = false;
      if (e.kind === UpstreamFailureKind.Rejected) isAnyRejected = true;
    }
  }
  // Upstream details (Kinesis's messages may name the account, stream, key or role ARNs) go to the
  // server log only: one report per failed call, and one per per-record error code of this request.
  for (const e of new Set(callErrors)) if (e) config.onError(e);
  reportRecordFailures(config, results);

  if (!isBatch) {
    const eventId = eventIds[0]!;
    const r = results[0];
    if (r !== undefined && !isRecordWriteFailure(r)) {
      return answer(config, headers, 200, { eventId, shardId: r.shardId, sequenceNumber: r.sequenceNumber });
    }
    const callError = callErrors[0];
    const errorCode = clientErrorCode(r !== undefined ? r.errorCode : callError!.code);
    const message = r !== undefined ? recordFailureMessage(r.errorCode) : callFailureMessage(callError!.kind);
    if (isAllThrottled) {
      return errorAnswer(config, headers, IngestErrorCode.Throttled, message, {
        eventId,
        errorCode,
        headers: retryAfter,
      });
    }
    const isRejected = r !== undefined ? r.errorCode !== 'InternalFailure' : isAnyRejected;
    return isRejected
      ? errorAnswer(config, headers, IngestErrorCode.UpstreamRejected, message, { eventId, errorCode })
      : errorAnswer(config, headers, IngestErrorCode.UpstreamUnavailable, message, {
          eventId,
          errorCode,
          headers: retryAfter,
        });
  }

  // The upstream failed before any record result: 429 when throttled, else 5xx.
  if (!hasRecordResult && !isAllThrottled) {
    const first = callErrors[0]!;
    return isAnyRejected
      ? errorAnswer(
          config,
          headers,
          IngestErrorCode.UpstreamRejected,
          callFailureMessage(UpstreamFailureKind.Rejected),
          { errorCode: clientErrorCode(first.code) },
        )
      : errorAnswer(config, headers, IngestErrorCode.UpstreamUnavailable, callFailureMessage(first.kind), {
          errorCode: clientErrorCode(first.code),
          headers: retryAfter,
        });
  }
  const out = new Array<IngestRecordResult>(n);
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const r = results[i];
    const eventId = eventIds[i]!;
    if (r === undefined) {
      const e = callErrors[i]!;
      out[i] = { eventId, errorCode: clientErrorCode(e.code), errorMessage: callFailureMessage(e.kind) };
      failed += 1;
    } else if (isRecordWriteFailure(r)) {
      out[i] = {
        eventId,
        errorCode: clientErrorCode(r.errorCode),
        errorMessage: recordFailureMessage(r.errorCode),
      };
      failed += 1;
    } else {
      out[i] = { eventId, shardId: r.shardId, sequenceNumber: r.sequenceNumber };
    }
  }
  const body: IngestEventsResponse = { failedRecordCount: failed, records: out };
  if (failed === 0) return answer(config, headers, 200, body);
  if (failed === n && isAllThrottled) return answer(config, headers, 429, body, retryAfter);
  return answer(config, headers, 207, body);
}

/** Reports the per-record failures of a request to `onError`: one error per code, with Kinesis's text. */
function reportRecordFailures(
  config: ResolvedIngestHandlerConfig,
  results: readonly (RecordWriteResult | undefined)[],
): void {
  let byCode: Map<string, { count: number; message: string }> | undefined;
  for (const r of results) {
    if (r === undefined || !isRecordWriteFailure(r)) continue;
    byCode ??= new Map();
    const seen = byCode.get(r.errorCode);
    if (seen) seen.count += 1;
    else byCode.set(r.errorCode, { count: 1, message: r.errorMessage });
  }
  if (byCode === undefined) return;
  for (const [code, { count, message }] of byCode) {
    const kind = isThrottleCode(code)
      ? UpstreamFailureKind.Throttled
      : code === 'InternalFailure'
        ? UpstreamFailureKind.Unavailable
        : UpstreamFailureKind.Rejected;
    config.onError(
      new UpstreamError(
        kind,
        code,
        `Kinesis did not write ${count} of ${results.length} records: ${code}: ${message}`,
      ),
    );
  }
}
