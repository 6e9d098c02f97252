import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { ProblemList } from '@shardline/common';
import {
  createIngestHandler,
  type IngestHandler,
  type IngestHandlerOptions,
  KinesisRecordWriter,
  type RecordWriter,
} from '@shardline/ingest';
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigurationError, PortInUseError } from '../errors.js';

/**
 * kinesalite refuses `PutRecords` requests much above 5 MB of JSON (base64 makes data a third larger):
 * 3 MiB of record bytes per call keeps every request under that with room for the envelope.
 */
const EMULATOR_PUT_RECORDS_BYTES = 3 * 1024 * 1024;

/**
 * How much of a refused body is read and thrown away before answering; past it the answer is sent and
 * the connection closed at once.
 */
const MAX_DISCARDED_BYTES = 32 * 1024 * 1024;

/** Options of {@link startIngestGateway}. */
export interface IngestGatewayOptions {
  /** Where records go. The gateway never destroys this client. */
  readonly kinesisClient: Pick<KinesisClient, 'send'>;
  /** The stream the events are written to. */
  readonly streamName: string;
  /** Accepted `x-api-key` values. */
  readonly apiKeys: readonly string[];
  /** @defaultValue `'127.0.0.1'` */
  readonly host?: string;
  /** `0` picks a free port. @defaultValue 0 */
  readonly port?: number;
  /** CORS origins. @defaultValue `'*'` */
  readonly allowedOrigins?: '*' | readonly string[];
  /** Bytes of one `PutRecords` call. @defaultValue 3145728 (3 MiB, under the emulators' request cap) */
  readonly maxPutRecordsBytes?: number;
  /** Everything else the contract handler takes (limits, retries, clock). */
  readonly handler?: Omit<
    IngestHandlerOptions,
    'recordWriter' | 'apiKeys' | 'allowedOrigins' | 'maxPutRecordsBytes'
  >;
  /**
   * Wraps the Kinesis record writer, e.g. to inject faults in tests (`withKinesisFault` of
   * `@shardline/ingest/testing`). @defaultValue none
   */
  readonly wrapRecordWriter?: (writer: RecordWriter) => RecordWriter;
  /** Told about upstream faults and unexpected errors. @defaultValue no-op */
  readonly onError?: (error: unknown) => void;
}

/** A running ingest gateway. */
export interface IngestGateway {
  /** Base URL, e.g. `http://127.0.0.1:4599`; events go to `${url}/v1/events`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting requests and waits for those in flight. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The ingest API on this machine: a thin fastify adapter around the framework-independent contract
 * handler of `@shardline/ingest` (the same code runs as the AWS Lambda function behind API Gateway),
 * writing to a Kinesis stream with `PutRecords`.
 *
 * @example
 * ```ts
 * const gateway = await startIngestGateway({ kinesisClient, streamName: 'events', apiKeys: ['dev-key'] });
 * await fetch(`${gateway.url}/v1/events`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json', 'x-api-key': 'dev-key' },
 *   body: JSON.stringify({ records: [{ data: { type: 'view' } }] }),
 * });
 * await gateway.close();
 * ```
 *
 * @throws {@link ConfigurationError} listing every problem with the options.
 * @throws {@link PortInUseError} when `port` is taken.
 */
export async function startIngestGateway(options: IngestGatewayOptions): Promise<IngestGateway> {
  const problems = new ProblemList('local stack options');
  if (typeof options?.kinesisClient?.send !== 'function') {
    problems.add('kinesisClient', 'must be a KinesisClient');
  }
  if (typeof options?.streamName !== 'string' || !/^[a-zA-Z0-9_.-]{1,128}$/.test(options.streamName)) {
    problems.add('streamName', 'must be a stream name (1–128 of a-z A-Z 0-9 _ . -)');
  }
  const port = options?.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    problems.add('port', `must be an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  }
  problems.throwIfAny();

  const onError = options.onError ?? (() => {});
  const handler = createIngestHandler({
    ...options.handler,
    recordWriter: (options.wrapRecordWriter ?? ((w) => w))(
      new KinesisRecordWriter({ client: options.kinesisClient, streamName: options.streamName }),
    ),
    apiKeys: options.apiKeys,
    allowedOrigins: options.allowedOrigins ?? '*',
    maxPutRecordsBytes: options.maxPutRecordsBytes ?? EMULATOR_PUT_RECORDS_BYTES,
    onError,
  });
  const app = buildGatewayApp(handler);
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ port, host });
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new PortInUseError('ingest gateway', port, error);
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    close: () => {
      closing ??= app.close();
      return closing;
    },
  };
}

/** The fastify app: every route and method goes to the contract handler, with the raw body stream. */
export function buildGatewayApp(handler: IngestHandler): FastifyInstance {
  const app = Fastify({
    logger: false,
    // The handler reads the body itself, bounded, so that the contract's order of checks holds
    // (403 before 415 before 413) and gzip is inflated with a limit.
    bodyLimit: Number.MAX_SAFE_INTEGER,
    requestTimeout: 60_000,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.route({
    method: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'],
    url: '*',
    handler: async (request, reply) => {
      const abort = new AbortController();
      // The response closing before it was sent means the client went away: stop writing for it.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) abort.abort(new Error('client went away'));
      });
      const body = (request.body as Readable | undefined) ?? request.raw;
      const answer = await handler(
        { method: request.method, path: request.url, headers: request.headers, body },
        { signal: abort.signal },
      );
      if (!request.raw.complete) {
        // Answered before the whole body arrived (403, 415, 413...): the client may still be uploading.
        // Read the rest and throw it away before answering, so that it finishes sending and then reads
        // the answer (closing earlier would reset a connection it is still writing to: EPIPE, not 413);
        // then close the connection rather than keep it for another request.
        reply.header('connection', 'close');
        await discardBody(request.raw, MAX_DISCARDED_BYTES);
      }
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    },
  });
  return app;
}

/**
 * Reads what is left of a request body and drops it, up to `maxBytes`; resolves when the body ended
 * (true), or when it passed `maxBytes`, failed or the client went away (false: the connection is then
 * closed after the answer, and a client still sending may see it reset). Works whether or not the body
 * was partly read through its async iterator (the handler stops reading at its limit).
 */
function discardBody(body: IncomingMessage, maxBytes: number): Promise<boolean> {
  if (body.complete || body.readableEnded || body.destroyed) return Promise.resolve(body.complete);
  return new Promise((resolve) => {
    let discardedBytes = 0;
    const finish = (isDrained: boolean) => {
      body.off('readable', onReadable);
      body.off('end', onEnd);
      body.off('error', onFail);
      body.off('close', onFail);
      resolve(isDrained);
    };
    const onEnd = () => finish(true);
    const onFail = () => finish(body.complete);
    const onReadable = () => {
      for (let chunk = body.read() as Buffer | null; chunk !== null; chunk = body.read() as Buffer | null) {
        discardedBytes += chunk.length;
        if (discardedBytes > maxBytes) {
          finish(false);
          return;
        }
      }
    };
    body.on('readable', onReadable);
    body.once('end', onEnd);
    body.once('error', onFail);
    body.once('close', onFail);
    onReadable();
  });
}
