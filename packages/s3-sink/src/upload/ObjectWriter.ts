import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { backoffDelayMs, sleepUnlessAborted, withDeadline } from '@shardline/common';
import type { ExtendedSequenceNumber } from '@shardline/consumer-core';
import type { ResolvedS3SinkConfig } from '../config/resolveS3SinkConfig.js';
import { S3WriteError } from '../errors.js';
import { joinChunks, type ObjectPlan, objectBody } from '../objects/planObjects.js';
import type { S3SinkEvent } from '../S3SinkEvents.js';
import { describeS3Failure } from './describeS3Failure.js';

/** The manifest written next to each object (`<manifestPrefix><key>.json`). */
export interface ObjectManifest {
  readonly version: 1;
  readonly bucket: string;
  readonly key: string;
  readonly kind: 'data' | 'error';
  readonly errorOutputType: string | undefined;
  readonly partitionValues: Readonly<Record<string, string>>;
  readonly stream: string;
  readonly shardId: string;
  readonly firstSequenceNumber: string;
  readonly firstSubSequenceNumber: number;
  readonly lastSequenceNumber: string;
  readonly lastSubSequenceNumber: number;
  readonly recordCount: number;
  /** Bytes stored (after compression). */
  readonly bytes: number;
  readonly uncompressedBytes: number;
  /** The body's record format: `json` (JSON lines; always for the error output) or `parquet`. */
  readonly format: string;
  /** The codec over the whole body (`none` for Parquet, which compresses its pages itself). */
  readonly compression: string;
  /** SHA-256 (hex) of the stored bytes. */
  readonly sha256: string;
  /** SHA-256 (hex) of the uncompressed bytes (stable whatever the compression library). */
  readonly uncompressedSha256: string;
  /** Arrival time of the oldest record (the key's time). */
  readonly oldestArrival: string;
}

/** How a write attempt may go on. */
export interface WriteControl {
  /** Aborted: stop retrying (stop deadline, lease lost). */
  readonly signal: AbortSignal;
  /**
   * Called before each retry: resolves `false` when the range must be abandoned (the lease is gone).
   * The sink re-writes its pending checkpoint here, which is fenced by the lease counter.
   */
  readonly mayRetry: () => Promise<boolean>;
  /**
   * A multipart upload was created: resolves `false` when it must not go on (the lease is gone). No part
   * is sent before it resolves, so the next owner always knows which upload to abort.
   */
  readonly onMultipartUploadCreated: (key: string, uploadId: string) => Promise<boolean>;
}

/** An object made durable. */
export interface WrittenObject {
  readonly manifest: ObjectManifest;
  readonly isMultipart: boolean;
  readonly uploadLatencyMs: number;
}

/**
 * Writes objects with `@aws-sdk/lib-storage` `Upload` (one `PutObject` up to a part, multipart above),
 * then their manifests; retries S3 failures with jittered backoff, and aborts the multipart upload of
 * every failed attempt.
 */
export class ObjectWriter {
  readonly #config: ResolvedS3SinkConfig;
  readonly #emit: (event: S3SinkEvent) => void;
  readonly #onUploadError: () => void;

  constructor(config: ResolvedS3SinkConfig, emit: (event: S3SinkEvent) => void, onUploadError: () => void) {
    this.#config = config;
    this.#emit = emit;
    this.#onUploadError = onUploadError;
  }

  /**
   * Compresses and writes one object and its manifest.
   * @returns the object, or `undefined` when abandoned (signal aborted, or `mayRetry` said no).
   */
  async write(plan: ObjectPlan, control: WriteControl): Promise<WrittenObject | undefined> {
    const config = this.#config;
    // One copy of the records into one buffer: compressed (or stored) and hashed in one pass each.
    // Parquet bodies are made here, at write time (they may yield to the event loop between row groups).
    const { chunks, uncompressedBytes } = await objectBody(plan);
    const raw = joinChunks(chunks, uncompressedBytes);
    const body = await config.codec.compress([raw]);
    const sha256 = createHash('sha256').update(body).digest('hex');
    // Uncompressed, the body is the raw bytes themselves: one hash is enough.
    const uncompressedSha256 = body === raw ? sha256 : createHash('sha256').update(raw).digest('hex');
    const manifest: ObjectManifest = {
      version: 1,
      bucket: config.bucket,
      key: plan.key,
      kind: plan.kind,
      errorOutputType: plan.errorOutputType,
      partitionValues: plan.partitionValues,
      stream: config.streamLabel,
      shardId: plan.shardId,
      firstSequenceNumber: plan.first.sequenceNumber,
      firstSubSequenceNumber: plan.first.subSequenceNumber,
      lastSequenceNumber: plan.last.sequenceNumber,
      lastSubSequenceNumber: plan.last.subSequenceNumber,
      recordCount: plan.recordCount,
      bytes: body.byteLength,
      uncompressedBytes,
      format: plan.format,
      compression: config.codec.name,
      sha256,
      uncompressedSha256,
      oldestArrival: plan.oldestArrival,
    };
    const startedAtMs = performance.now();
    const isMultipart = body.byteLength > config.uploadPartSizeBytes;
    const isWritten = await this.#withRetries(plan, control, 'Upload', () =>
      this.#upload(plan, body, manifest, control),
    );
    if (!isWritten) return undefined;
    if (config.manifestPrefix !== null) {
      const manifestKey = `${config.manifestPrefix}${plan.key}.json`;
      const text = `${JSON.stringify(manifest)}\n`;
      const isManifestWritten = await this.#withRetries(plan, control, 'PutObject (manifest)', async () => {
        await this.#send(
          new PutObjectCommand({
            Bucket: config.bucket,
            Key: manifestKey,
            Body: text,
            ContentType: 'application/json',
          }),
          control.signal,
        );
      });
      if (!isManifestWritten) return undefined;
    }
    return { manifest, isMultipart, uploadLatencyMs: Math.round(performance.now() - startedAtMs) };
  }

  async #upload(
    plan: ObjectPlan,
    body: Uint8Array,
    manifest: ObjectManifest,
    control: WriteControl,
  ): Promise<void> {
    const config = this.#config;
    // The same client, but every request has its deadline (lib-storage sends each part, the
    // PutObject and CompleteMultipartUpload through it), and its answer to CreateMultipartUpload is
    // held until the upload id is recorded.
    const client = Object.create(config.s3Client) as S3Client;
    (client as { send: unknown }).send = async (command: unknown) => {
      const out = await this.#send(command as S3Command, control.signal);
      if (command instanceof CreateMultipartUploadCommand) {
        const uploadId = (out as { UploadId?: string }).UploadId;
        if (uploadId !== undefined && !(await control.onMultipartUploadCreated(plan.key, uploadId))) {
          await this.abortMultipartUpload(plan.shardId, plan.key, uploadId, 'failure');
          throw new S3WriteError(plan.key, 'CreateMultipartUpload', 1, {
            cause: new Error('the lease was lost before the upload could be recorded'),
          });
        }
      }
      return out;
    };
    // Upload ignores its client's deadline once a part failed; aborting it stops the other parts too.
    const abortController = new AbortController();
    const onAbort = () => abortController.abort();
    control.signal.addEventListener('abort', onAbort, { once: true });
    const upload = new Upload({
      client,
      abortController,
      partSize: config.uploadPartSizeBytes,
      queueSize: config.uploadQueueSize,
      // Aborted here, with retries: lib-storage's own abort is one try that an outage makes fail.
      leavePartsOnError: true,
      params: {
        Bucket: config.bucket,
        Key: plan.key,
        Body: body,
        ContentType: plan.contentType,
        Metadata: {
          'shardline-shard-id': plan.shardId,
          'shardline-first-sequence-number': positionText(plan.first),
          'shardline-last-sequence-number': positionText(plan.last),
          'shardline-record-count': String(plan.recordCount),
          'shardline-sha256': manifest.sha256,
        },
      },
    });
    try {
      await upload.done();
    } catch (error) {
      abortController.abort();
      if (upload.uploadId !== undefined)
        await this.abortMultipartUpload(plan.shardId, plan.key, upload.uploadId, 'failure');
      throw error;
    } finally {
      control.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Sends one S3 request with its deadline (`s3RequestTimeoutMs`), through an abort signal: the SDK's
   * `requestTimeout` counts socket inactivity only, so a server that never answers, or answers a
   * byte at a time, would hold the call forever.
   */
  #send(command: S3Command, signal: AbortSignal | undefined): Promise<unknown> {
    const config = this.#config;
    const send = config.s3Client.send.bind(config.s3Client) as (
      command: S3Command,
      options: { abortSignal: AbortSignal },
    ) => Promise<unknown>;
    return withDeadline(
      command.constructor.name.replace(/Command$/, ''),
      config.s3RequestTimeoutMs,
      (abortSignal) => send(command, { abortSignal }),
      signal,
    );
  }

  async #withRetries(
    plan: ObjectPlan,
    control: WriteControl,
    operation: string,
    attempt: () => Promise<void>,
  ): Promise<boolean> {
    for (let n = 1; ; n++) {
      if (control.signal.aborted) return false;
      try {
        await attempt();
        return true;
      } catch (error) {
        this.#onUploadError();
        const failure = new S3WriteError(plan.key, operation, n, { cause: error, retriable: true });
        if (control.signal.aborted) return false;
        const delayMs = backoffDelayMs(n, {
          initialDelayMs: this.#config.retryInitialDelayMs,
          maxDelayMs: this.#config.retryMaxDelayMs,
        });
        const reason = describeS3Failure(error);
        this.#config.logger.warn(`S3 ${operation} failed (${reason}); retrying`, {
          key: plan.key,
          attempt: n,
          delayMs,
          error,
        });
        this.#emit({
          type: 'RETRY',
          shardId: plan.shardId,
          key: plan.key,
          attempt: n,
          delayMs,
          reason,
          error: failure,
        });
        if (!(await sleepUnlessAborted(delayMs, control.signal))) return false;
        if (!(await control.mayRetry())) return false;
      }
    }
  }

  /** Aborts a multipart upload (a few tries; the takeover sweep and a lifecycle rule catch the rest). */
  async abortMultipartUpload(
    shardId: string,
    key: string,
    uploadId: string,
    reason: 'failure' | 'takeover',
  ): Promise<boolean> {
    for (let n = 1; n <= 5; n++) {
      try {
        await this.#send(
          new AbortMultipartUploadCommand({ Bucket: this.#config.bucket, Key: key, UploadId: uploadId }),
          undefined,
        );
        this.#emit({ type: 'MULTIPART_UPLOAD_ABORTED', shardId, key, uploadId, reason });
        return true;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'NoSuchUpload') return true;
        if (n === 5) {
          this.#config.logger.error('Could not abort a multipart upload', { key, uploadId, error });
          this.#emit({ type: 'ERROR', shardId, error: error as Error });
          return false;
        }
        await sleepUnlessAborted(
          backoffDelayMs(n, { initialDelayMs: this.#config.retryInitialDelayMs, maxDelayMs: 2_000 }),
          undefined,
        );
      }
    }
    return false;
  }

  /**
   * Lists the bucket's incomplete multipart uploads under the sink's prefixes and aborts those of
   * `shardId` (file names `<stream>-<shardId>-<sequence number>...`): left by a worker that died.
   * @returns how many were aborted.
   */
  async abortIncompleteUploads(shardId: string, signal?: AbortSignal): Promise<number> {
    const config = this.#config;
    const roots = [config.prefix.staticPrefix, config.errorPrefix.staticPrefix].sort();
    const prefixes = roots.filter((root, i) => !roots.slice(0, i).some((other) => root.startsWith(other)));
    const fileName = new RegExp(
      `(^|/)${escapeRegExp(`${config.streamLabel}-${shardId}-`)}\\d+(-\\d+)?[^/]*$`,
    );
    let aborted = 0;
    for (const prefix of prefixes) {
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const page = (await this.#send(
          new ListMultipartUploadsCommand({
            Bucket: config.bucket,
            Prefix: prefix || undefined,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
          signal,
        )) as ListMultipartUploadsCommandOutput;
        for (const upload of page.Uploads ?? []) {
          if (upload.Key && upload.UploadId && fileName.test(upload.Key)) {
            if (await this.abortMultipartUpload(shardId, upload.Key, upload.UploadId, 'takeover'))
              aborted += 1;
          }
        }
        if (!page.IsTruncated) break;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
        if (keyMarker === undefined && uploadIdMarker === undefined) break;
      }
    }
    return aborted;
  }
}

/** Any S3 command (its class name names the operation in a deadline error). */
type S3Command = object;

function positionText(p: ExtendedSequenceNumber): string {
  return p.subSequenceNumber > 0 ? `${p.sequenceNumber}.${p.subSequenceNumber}` : p.sequenceNumber;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
