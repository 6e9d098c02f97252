import { decodeEnvelope } from '../envelope/envelopeCodec.js';
import { EnvelopeDecodeError } from '../errors.js';
import type { IngestVector } from './types.js';

/** An answer to check, as the gateway under test gave it. */
export interface VectorResponse {
  readonly status: number;
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, string | readonly string[] | number | undefined>>;
  /** The body as text or bytes. */
  readonly body: string | Uint8Array;
}

/** Options of {@link checkVectorResponse}. */
export interface CheckVectorOptions {
  /**
   * `'handler'` (the handler, the local gateway, the Lambda function): the exact status;
   * `'api-gateway'`: `apiGatewayStatuses` are accepted too. @defaultValue 'handler'
   */
  readonly target?: 'handler' | 'api-gateway';
  /** Check the status and headers only (for documented exceptions). @defaultValue false */
  readonly isStatusOnly?: boolean;
}

/** A record read back from the stream. */
export interface StoredRecordView {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Checks `actual` against a partial `expected` shape; appends what differs to `out`. */
export function matchShape(expected: unknown, actual: unknown, path: string, out: string[]): void {
  if (expected instanceof RegExp) {
    if (typeof actual !== 'string' || !expected.test(actual)) {
      out.push(`${path || '/'}: expected a string matching ${expected}, got ${JSON.stringify(actual)}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) {
      out.push(`${path || '/'}: expected an array, got ${JSON.stringify(actual)}`);
      return;
    }
    if (actual.length !== expected.length) {
      out.push(
        `${path || '/'}: expected ${expected.length} elements, got ${actual.length}: ${JSON.stringify(actual).slice(0, 500)}`,
      );
      return;
    }
    for (let i = 0; i < expected.length; i++) matchShape(expected[i], actual[i], `${path}/${i}`, out);
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      out.push(`${path || '/'}: expected an object, got ${JSON.stringify(actual)}`);
      return;
    }
    for (const [key, value] of Object.entries(expected)) {
      if (value === undefined) {
        if (key in actual) out.push(`${path}/${key}: expected no such field`);
        continue;
      }
      if (!(key in actual)) {
        out.push(`${path}/${key}: missing`);
        continue;
      }
      matchShape(value, (actual as Record<string, unknown>)[key], `${path}/${key}`, out);
    }
    return;
  }
  if (!Object.is(expected, actual))
    out.push(`${path || '/'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function headerOf(headers: VectorResponse['headers'], name: string): string | undefined {
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const v = headers[key];
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v.join(', ') : String(v);
  }
  return undefined;
}

/**
 * Checks a gateway's answer to `vector.request` against the vector: status, headers, body shape and
 * the vector's own checks. Returns what is wrong (empty when the answer is right), so every runner
 * (handler, local gateway, Lambda, VTL) reports the same way.
 */
export function checkVectorResponse(
  vector: IngestVector,
  response: VectorResponse,
  options: CheckVectorOptions = {},
): string[] {
  const out: string[] = [];
  const { expect } = vector;
  const statuses =
    options.target === 'api-gateway'
      ? [expect.status, ...(expect.apiGatewayStatuses ?? [])]
      : [expect.status];
  if (!statuses.includes(response.status)) {
    out.push(`status: expected ${statuses.join(' or ')}, got ${response.status}`);
  }
  for (const [name, want] of Object.entries(expect.headers ?? {})) {
    const got = headerOf(response.headers, name);
    if (want === null) {
      if (got !== undefined) out.push(`header ${name}: expected absent, got ${JSON.stringify(got)}`);
    } else if (got === undefined) {
      out.push(`header ${name}: missing`);
    } else if (typeof want === 'string' ? got !== want : !want.test(got)) {
      out.push(`header ${name}: expected ${String(want)}, got ${JSON.stringify(got)}`);
    }
  }
  if (options.isStatusOnly || (expect.body === undefined && expect.check === undefined)) return out;
  const text =
    typeof response.body === 'string' ? response.body : Buffer.from(response.body).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    out.push(`body: not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    return out;
  }
  if (expect.body !== undefined) matchShape(expect.body, body, '', out);
  if (expect.check) out.push(...expect.check(body));
  return out;
}

/** The event ids of an answer, in request order. */
function answerEventIds(body: unknown): (string | undefined)[] {
  if (body === null || typeof body !== 'object') return [];
  const b = body as { records?: { eventId?: string }[]; eventId?: string };
  if (Array.isArray(b.records)) return b.records.map((r) => r?.eventId);
  return [b.eventId];
}

/**
 * Checks what landed in the stream for a vector: exactly the expected records, each once, each byte for
 * byte `{"eventId":…,"receivedAt":…,"data":…}` with the expected data text and partition key, all with
 * one `receivedAt`. `stored` must hold the records written while the vector ran (e.g. a fresh stream).
 */
export function checkVectorStored(
  vector: IngestVector,
  responseBody: string | unknown,
  stored: readonly StoredRecordView[],
): string[] {
  const expected = vector.expect.stored;
  if (expected === undefined) return [];
  const out: string[] = [];
  let body: unknown = responseBody;
  if (typeof responseBody === 'string') {
    try {
      body = responseBody === '' ? undefined : JSON.parse(responseBody);
    } catch {
      body = undefined;
    }
  }
  const answeredIds = answerEventIds(body);
  const byId = new Map<string, StoredRecordView[]>();
  for (const record of stored) {
    let id: string;
    try {
      id = decodeEnvelope(record.data).eventId;
    } catch (error) {
      out.push(
        `stored record is not an envelope: ${error instanceof EnvelopeDecodeError ? error.message : String(error)}`,
      );
      continue;
    }
    const list = byId.get(id) ?? [];
    list.push(record);
    byId.set(id, list);
  }
  if (stored.length !== expected.length)
    out.push(`stored: expected ${expected.length} records, got ${stored.length}`);
  const receivedAts = new Set<string>();
  expected.forEach((want, i) => {
    const eventId = want.eventId ?? answeredIds[i];
    if (eventId === undefined) {
      out.push(`stored[${i}]: no event id in the vector or the answer`);
      return;
    }
    const found = byId.get(eventId) ?? [];
    if (found.length !== 1) {
      out.push(`stored[${i}]: expected one record with eventId ${eventId}, found ${found.length}`);
      return;
    }
    const record = found[0]!;
    const partitionKey = want.partitionKey ?? eventId;
    if (record.partitionKey !== partitionKey) {
      out.push(
        `stored[${i}]: partition key ${JSON.stringify(record.partitionKey)}, expected ${JSON.stringify(partitionKey)}`,
      );
    }
    const text = Buffer.from(record.data).toString('utf8');
    const receivedAt = decodeEnvelope(record.data).receivedAt;
    receivedAts.add(receivedAt);
    if (!ISO_UTC_MS.test(receivedAt))
      out.push(`stored[${i}]: receivedAt ${receivedAt} is not ISO-8601 UTC with milliseconds`);
    const wantText = `{"eventId":${JSON.stringify(eventId)},"receivedAt":${JSON.stringify(receivedAt)},"data":${want.dataJson}}`;
    if (text !== wantText || !Buffer.from(wantText, 'utf8').equals(Buffer.from(record.data))) {
      out.push(
        `stored[${i}]: bytes differ:\n  expected ${wantText.slice(0, 300)}\n  got      ${text.slice(0, 300)}`,
      );
    }
  });
  if (receivedAts.size > 1)
    out.push(`stored: one request should have one receivedAt, got ${[...receivedAts].join(', ')}`);
  return out;
}
