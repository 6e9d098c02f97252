import { Buffer } from 'node:buffer';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { DeadlineExceededError, ProblemList, withDeadline } from '@shardline/common';
import { ConfigurationError, DestinationError, TransportError } from '../../errors.js';
import { INGEST_LIMITS, type IngestErrorResponse, type IngestEventsResponse } from '../../internal/ingest.js';
import { describeCause } from '../describeCause.js';
import { PERMANENT_RECORD_CODES } from '../recordCodes.js';
import type { RecordOutcome, SendResult, Transport, TransportLimits, TransportRecord } from '../Transport.js';

const gzip = promisify(gzipCallback);

/** Options of {@link httpTransport}. */
export interface HttpTransportOptions {
  /** The ingest API's base URL, e.g. `http://127.0.0.1:4000` (requests go to `<url>/v1/events`). */
  readonly url: string;
  /** Sent as `x-api-key`. */
  readonly apiKey: string;
  /** The `fetch` to use (tests, proxies, custom agents). @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Compress request bodies (`Content-Encoding: gzip`). @defaultValue false */
  readonly gzip?: boolean;
  /**
   * Deadline of one request, from sending to the last byte of the answer: past it the request is
   * aborted (its connection closed) and fails with code `Timeout`; the producer retries its records
   * with backoff (same event ids: at-least-once). @defaultValue 30000
   */
  readonly timeoutMs?: number;
}

const THROTTLE_CODES = new Set(['ProvisionedThroughputExceededException', 'KMSThrottlingException']);
const RECORD_PATH = /^\/records\/(\d+)(?:\/|$)/;
// {"eventId":"","partitionKey":,"data":}, — the framing of one record in the body, without its values.
const RECORD_FRAME_BYTES = 40;

/** Parses `Retry-After`: delta-seconds or an HTTP date. @internal */
export function parseRetryAfterMs(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * The ingest API transport: `POST <url>/v1/events` with up to 500 records per request. Records of a 207
 * or 429 answer that failed come back as failed outcomes (the producer retries only those, with the
 * same event ids); `Retry-After` is honoured; 4xx answers other than 429 are not retried.
 *
 * @throws {@link ConfigurationError} listing every problem of `options`.
 * @example
 * ```ts
 * const producer = createProducer({ transport: httpTransport({ url: 'https://ingest.example.com', apiKey }) });
 * ```
 */
export function httpTransport(options: HttpTransportOptions): HttpTransport {
  return new HttpTransport(options);
}

/** See {@link httpTransport}. */
export class HttpTransport implements Transport {
  readonly name = 'http';
  readonly limits: TransportLimits = {
    maxRecordsPerRequest: INGEST_LIMITS.maxRecordsPerRequest,
    // The body limit, less the `{"records":[]}` around the records.
    maxRequestBytes: INGEST_LIMITS.maxBodyBytes - 16,
  };
  readonly #endpoint: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;
  readonly #isGzip: boolean;
  readonly #timeoutMs: number;

  constructor(options: HttpTransportOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError(
        [{ path: '(options)', message: 'must be an object' }],
        'http transport options',
      );
    }
    const problems = new ProblemList('http transport options');
    let endpoint = '';
    try {
      const url = new URL(options.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      endpoint = `${url.origin}${url.pathname.replace(/\/+$/, '')}/v1/events`;
    } catch {
      problems.add('url', `must be an http(s) URL, got ${JSON.stringify(options.url)}`);
    }
    if (typeof options.apiKey !== 'string' || options.apiKey.length === 0)
      problems.add('apiKey', 'must be a non-empty string');
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') problems.add('fetch', 'must be a fetch function');
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
      problems.add('timeoutMs', 'must be a positive integer');
    if (options.gzip !== undefined && typeof options.gzip !== 'boolean')
      problems.add('gzip', 'must be a boolean');
    problems.throwIfAny();
    this.#endpoint = endpoint;
    this.#apiKey = options.apiKey;
    this.#fetch = fetchFn;
    this.#isGzip = options.gzip ?? false;
    this.#timeoutMs = timeoutMs;
  }

  /** The URL requests go to. */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** One POST with the deadline over the whole exchange (headers and body). */
  #post(
    body: Uint8Array,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<{ response: Response; text: string }> {
    return withDeadline(
      `POST ${this.#endpoint}`,
      this.#timeoutMs,
      async (abortSignal) => {
        const response = await this.#fetch(this.#endpoint, {
          method: 'POST',
          headers,
          body,
          signal: abortSignal,
        });
        return { response, text: await response.text() };
      },
      signal,
    );
  }

  /**
   * Checks that the URL is an ingest API that takes the API key: sends a request with no records
   * (`{"records":[]}`), which the API refuses with 400 after checking the route and the key, so
   * nothing is written.
   *
   * @throws {@link DestinationError} when the API cannot be reached, is not at this URL (404, 405) or
   * refuses the key (403).
   */
  async check(signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': this.#apiKey };
    if (this.#isGzip) headers['content-encoding'] = 'gzip';
    const empty = Buffer.from('{"records":[]}');
    let status: number;
    let text: string;
    try {
      const answer = await this.#post(this.#isGzip ? await gzip(empty) : empty, headers, signal);
      status = answer.response.status;
      text = answer.text;
    } catch (error) {
      if (signal.aborted) throw error;
      const cause =
        error instanceof DeadlineExceededError
          ? describeCause({ code: 'Timeout', message: error.message })
          : describeCause(error);
      throw new DestinationError(
        'unreachable',
        `cannot reach the ingest API at ${this.#endpoint}: ${cause}`,
        {
          cause: error,
        },
      );
    }
    // 400: the contract's answer to an empty batch. A 2xx from a lenient server is fine too.
    if (status === 400 || (status >= 200 && status < 300)) return;
    if (status === 403)
      throw new DestinationError(
        'forbidden',
        `the ingest API at ${this.#endpoint} refused the API key (HTTP 403)`,
      );
    if (status === 404 || status === 405)
      throw new DestinationError(
        'missing',
        `no ingest API at ${this.#endpoint} (HTTP ${status}): check --url`,
      );
    throw new DestinationError(
      'unreachable',
      `the ingest API at ${this.#endpoint} answered HTTP ${status}: ${text.slice(0, 200)}`,
    );
  }

  requestBytes(record: TransportRecord): number {
    const dataBytes = record.envelope.byteLength - 1 - record.dataOffset;
    return (
      RECORD_FRAME_BYTES +
      record.eventId.length +
      Buffer.byteLength(JSON.stringify(record.partitionKey), 'utf8') +
      dataBytes
    );
  }

  /** The request body for `records`: `{"records":[{"eventId","partitionKey","data"},...]}`, data spliced as is. @internal */
  static body(records: readonly TransportRecord[]): Buffer {
    const parts: Uint8Array[] = [Buffer.from('{"records":[', 'latin1')];
    records.forEach((r, i) => {
      parts.push(
        Buffer.from(
          `${i === 0 ? '' : ','}{"eventId":"${r.eventId}","partitionKey":${JSON.stringify(r.partitionKey)},"data":`,
          'utf8',
        ),
      );
      parts.push(r.envelope.subarray(r.dataOffset, r.envelope.byteLength - 1));
      parts.push(Buffer.from('}', 'latin1'));
    });
    parts.push(Buffer.from(']}', 'latin1'));
    return Buffer.concat(parts);
  }

  async send(records: readonly TransportRecord[], signal: AbortSignal): Promise<SendResult> {
    if (records.some((r) => r.explicitHashKey !== undefined)) {
      // The API has no explicitHashKey: those records fail for good; the others go as usual.
      const sendable = records.filter((r) => r.explicitHashKey === undefined);
      const sent = sendable.length === 0 ? { outcomes: [] } : await this.send(sendable, signal);
      let next = 0;
      return {
        ...sent,
        outcomes: records.map(
          (r): RecordOutcome =>
            r.explicitHashKey === undefined
              ? sent.outcomes[next++]!
              : {
                  ok: false,
                  errorCode: 'UnsupportedExplicitHashKey',
                  errorMessage: 'The ingest API takes no explicitHashKey: use the Kinesis transport',
                  retriable: false,
                  isThrottle: false,
                },
        ),
      };
    }
    const raw = HttpTransport.body(records);
    const body = this.#isGzip ? await gzip(raw) : raw;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': this.#apiKey };
    if (this.#isGzip) headers['content-encoding'] = 'gzip';
    let response: Response;
    let text: string;
    try {
      ({ response, text } = await this.#post(body, headers, signal));
    } catch (error) {
      if (signal.aborted)
        throw new TransportError('ProducerClosed', 'aborted by close()', { retriable: false, cause: error });
      if (error instanceof DeadlineExceededError) {
        throw new TransportError('Timeout', `POST ${this.#endpoint}: ${error.message}`, {
          retriable: true,
          cause: error,
        });
      }
      // The request may have been written before the connection failed: retrying (same ids) is at-least-once.
      throw new TransportError('NetworkError', `POST ${this.#endpoint} failed: ${networkMessage(error)}`, {
        retriable: true,
        cause: error,
      });
    }
    const status = response.status;
    const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'));
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status === 200 || status === 207 || status === 429) {
      const answer = json as IngestEventsResponse | undefined;
      if (Array.isArray(answer?.records) && answer.records.length === records.length) {
        return { outcomes: answer.records.map((r, i) => toOutcome(r, records[i]!.eventId)), retryAfterMs };
      }
      if (status === 429) {
        throw new TransportError('HTTP_429', `Throttled: ${describe(json, text)}`, {
          retriable: true,
          isThrottle: true,
          retryAfterMs,
        });
      }
      throw new TransportError(
        'InvalidResponse',
        `HTTP ${status} without one result per record (${records.length} sent): ${text.slice(0, 200)}`,
        // A 200 may hide written records: sending again is at-least-once, which eventIds make safe.
        { retriable: true },
      );
    }
    if ((status === 400 || status === 413) && isError(json)) {
      // Validation is all-or-nothing: nothing was written. Records named by a problem are bad for good;
      // the others are fine and may go again.
      const bad = new Map<number, string>();
      let isWholeBody = false;
      for (const problem of json.problems ?? []) {
        const match = RECORD_PATH.exec(problem.path);
        if (match === null) isWholeBody = true;
        else bad.set(Number(match[1]), `${problem.path}: ${problem.message}`);
      }
      if (!isWholeBody && bad.size > 0) {
        return {
          outcomes: records.map((_r, i) =>
            bad.has(i)
              ? {
                  ok: false,
                  errorCode: `HTTP_${status}`,
                  errorMessage: bad.get(i)!,
                  retriable: false,
                  isThrottle: false,
                }
              : {
                  ok: false,
                  errorCode: 'RejectedWithOthers',
                  errorMessage: 'not written: another record of the request was invalid',
                  retriable: true,
                  isThrottle: false,
                },
          ),
        };
      }
    }
    const retriable = status >= 500 || status === 408;
    throw new TransportError(
      `HTTP_${status}`,
      `POST ${this.#endpoint} answered ${status}: ${describe(json, text)}`,
      {
        retriable,
        retryAfterMs,
      },
    );
  }
}

function isError(json: unknown): json is IngestErrorResponse {
  return typeof json === 'object' && json !== null && typeof (json as IngestErrorResponse).error === 'string';
}

function describe(json: unknown, text: string): string {
  if (isError(json)) {
    const problems = (json.problems ?? []).map((p) => `${p.path}: ${p.message}`).join('; ');
    return `${json.error}: ${json.message}${problems ? ` (${problems})` : ''}`;
  }
  return text.slice(0, 200);
}

function toOutcome(result: IngestEventsResponse['records'][number], eventId: string): RecordOutcome {
  if ('errorCode' in result && result.errorCode !== undefined) {
    return {
      ok: false,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      retriable: !PERMANENT_RECORD_CODES.has(result.errorCode),
      isThrottle: THROTTLE_CODES.has(result.errorCode),
    };
  }
  if (!('sequenceNumber' in result) || result.eventId !== eventId) {
    return {
      ok: false,
      errorCode: 'InvalidResponse',
      errorMessage: `the answer's record does not match event ${eventId}`,
      retriable: true,
      isThrottle: false,
    };
  }
  return { ok: true, shardId: result.shardId, sequenceNumber: result.sequenceNumber };
}

/** fetch's "fetch failed" says nothing: the cause (ECONNREFUSED...) does. */
function networkMessage(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const cause = (error as { cause?: { message?: string } })?.cause?.message;
  return cause === undefined || cause === '' ? message : `${message}: ${cause}`;
}
