import { errorText, ShardlineError } from '@shardline/common';

// The root and configuration errors are @shardline/common's, shared by every Shardline package (one class,
// so `instanceof ConfigurationError` holds whichever package threw it).
export { ConfigurationError, type ConfigurationProblem, ShardlineError } from '@shardline/common';

/** The lease table exists but cannot be a lease table: wrong key schema. Never retriable. */
export class LeaseTableSchemaError extends ShardlineError {
  /** The table's name. */
  readonly tableName: string;
  /** The key schema found, e.g. `id (HASH, N), ts (RANGE, N)`. */
  readonly keySchema: string;

  constructor(tableName: string, keySchema: string) {
    super(
      `DynamoDB table ${tableName} exists but is not a lease table: its key schema is ${keySchema}; a lease ` +
        'table has exactly one key, leaseKey (HASH, type S). Pick another leaseTableName or applicationName.',
    );
    this.tableName = tableName;
    this.keySchema = keySchema;
  }
}

/** A lease this worker held was taken by another worker or released; the shard is no longer ours. */
export class LeaseLostError extends ShardlineError {
  /** The lease (shard id). */
  readonly leaseKey: string;

  constructor(leaseKey: string, message?: string) {
    super(message ?? `Lease ${leaseKey} is no longer held by this worker.`);
    this.leaseKey = leaseKey;
  }
}

/** A checkpoint was refused before anything was written (a record of another shard, or not delivered). */
export class CheckpointRejectedError extends ShardlineError {
  /** The shard. */
  readonly shardId: string;

  constructor(shardId: string, message: string) {
    super(message);
    this.shardId = shardId;
  }
}

/** A call to AWS (or another dependency) failed. `retriable` follows the AWS error's nature. */
export class DependencyError extends ShardlineError {
  /** `kinesis` or `dynamodb`. */
  readonly service: string;
  /** The API called, e.g. `GetRecords`. */
  readonly operation: string;
  /** The AWS error name when there is one, e.g. `ResourceNotFoundException`. */
  readonly errorName: string | undefined;

  constructor(service: string, operation: string, cause: unknown, retriable: boolean, detail?: string) {
    const name = cause instanceof Error ? cause.name : undefined;
    const message = cause instanceof Error ? cause.message : String(cause);
    super(
      `${service} ${operation} failed${detail ? ` (${detail})` : ''}: ${name ? `${name}: ` : ''}${message}`,
      {
        cause,
        retriable,
      },
    );
    this.service = service;
    this.operation = operation;
    this.errorName = name;
  }
}

/** A provisioned-throughput limit was hit (`ProvisionedThroughputExceededException`, throttling). */
export class ThroughputExceededError extends DependencyError {
  constructor(service: string, operation: string, cause: unknown) {
    super(service, operation, cause, true, 'throttled');
  }
}

/**
 * An operation was given up after `attempts` tries: it kept failing with retriable errors for its whole
 * budget, or failed with an error that cannot be retried (`cause` is the last error). Thrown by
 * `RecordBatch.checkpoint()`/`prepareCheckpoint()` when the lease table did not take the write.
 */
export class RetriesExhaustedError extends ShardlineError {
  /** How many tries were made. */
  readonly attempts: number;

  constructor(what: string, attempts: number, cause: unknown) {
    super(
      `${what} failed ${attempts === 1 ? 'once' : `${attempts} times`}; giving up. Last error: ${errorText(cause)}`,
      { cause },
    );
    this.attempts = attempts;
  }
}

/** The user's processor failed on a batch every time it was tried. */
export class RecordProcessingError extends ShardlineError {
  /** The shard. */
  readonly shardId: string;
  /** How many times the batch was tried. */
  readonly attempts: number;
  /** Sequence number of the batch's first record. */
  readonly firstSequenceNumber: string | undefined;

  constructor(shardId: string, attempts: number, firstSequenceNumber: string | undefined, cause: unknown) {
    super(
      `Processing a batch of shard ${shardId} starting at sequence number ${firstSequenceNumber ?? '(empty)'} ` +
        `failed ${attempts} times. Last error: ${errorText(cause)}`,
      { cause },
    );
    this.shardId = shardId;
    this.attempts = attempts;
    this.firstSequenceNumber = firstSequenceNumber;
  }
}

/** The consumer is not in a state that allows the call (e.g. `start()` after `stop()`). */
export class InvalidStateError extends ShardlineError {}

/**
 * The lease table's leases belong to another stream than the one being read: its ARN or creation time
 * differs (the stream was deleted and recreated under the same name, or the application name is reused
 * for another stream). Shard ids restart at `shardId-000000000000`, so using these checkpoints would
 * skip or misplace records silently. Never retriable.
 */
export class StreamIdentityMismatchError extends ShardlineError {
  /** The lease table. */
  readonly tableName: string;
  /** The stream being read: ARN and creation time. */
  readonly stream: { readonly streamArn: string; readonly createdAt: Date };
  /** The stream the leases were written for (the first mismatching lease's stamp). */
  readonly leaseStream: { readonly streamArn: string; readonly createdAt: Date };
  /** Keys of the leases stamped with another stream. */
  readonly leaseKeys: readonly string[];

  constructor(
    tableName: string,
    stream: { readonly streamArn: string; readonly createdAt: Date },
    leaseStream: { readonly streamArn: string; readonly createdAt: Date },
    leaseKeys: readonly string[],
  ) {
    super(
      `Lease table ${tableName} holds checkpoints of another stream: ${leaseKeys.length} lease(s) ` +
        `(${leaseKeys.slice(0, 3).join(', ')}${leaseKeys.length > 3 ? ', ...' : ''}) belong to ` +
        `${leaseStream.streamArn} created ${leaseStream.createdAt.toISOString()}, but the stream read is ` +
        `${stream.streamArn} created ${stream.createdAt.toISOString()} (recreated, or the application name ` +
        'is reused). Refusing to start rather than reuse those checkpoints. Move them deliberately with ' +
        '`shardline reset --app <name> --stream <name> --to TRIM_HORIZON|LATEST|<time> --yes` (which also ' +
        'stamps the leases with this stream), use another applicationName, or set acceptStreamIdentityChange.',
    );
    this.tableName = tableName;
    this.stream = stream;
    this.leaseStream = leaseStream;
    this.leaseKeys = leaseKeys;
  }
}

/**
 * A stream already has the most registered consumers AWS allows (20 per stream): registering this
 * application's fan-out consumer failed. Deregister one (`shardline consumers deregister`) or read this
 * application with polling. Never retriable.
 */
export class StreamConsumerLimitError extends ShardlineError {
  /** The stream. */
  readonly streamArn: string;
  /** The consumer that could not be registered. */
  readonly consumerName: string;
  /** The consumers registered on the stream when it failed, by name. */
  readonly registeredConsumerNames: readonly string[];

  constructor(
    streamArn: string,
    consumerName: string,
    registeredConsumerNames: readonly string[],
    cause?: unknown,
  ) {
    super(
      `Cannot register fan-out consumer ${consumerName} on ${streamArn}: the stream already has ` +
        `${registeredConsumerNames.length} registered consumers (AWS allows 20 per stream: ${registeredConsumerNames.join(', ')}). ` +
        'Deregister one that is no longer used, or read this application with retrieval: polling.',
      { cause, retriable: false },
    );
    this.streamArn = streamArn;
    this.consumerName = consumerName;
    this.registeredConsumerNames = registeredConsumerNames;
  }
}

/**
 * The Kinesis client cannot make an enhanced fan-out subscription: `SubscribeToShard` needs an HTTP/2
 * request handler on AWS (`NodeHttp2Handler`) and answers with an event stream the client must decode.
 * The README's "Retrieval modes" gives the client setup for AWS and for the local emulators.
 */
export class FanOutClientError extends ShardlineError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause, retriable: false });
  }
}
