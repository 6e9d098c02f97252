import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DeleteObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorCode, httpStatusCode, isTransientAwsError, sleep, withDeadline } from '@shardline/common';
import { describeS3Failure } from '../upload/describeS3Failure.js';

/** A destination the CLI could not use, with the exit code that names it. */
export interface DestinationProblem {
  readonly exitCode: number;
  readonly message: string;
}

/** What {@link checkDestinations} checks. */
export interface DestinationChecks {
  readonly kinesisClient: KinesisClient;
  readonly dynamoDBClient: DynamoDBClient;
  readonly s3Client: S3Client;
  readonly streamName: string | undefined;
  readonly streamArn: string | undefined;
  readonly leaseTableName: string;
  readonly bucket: string;
  /** Key of the small object written to prove the bucket is writable; `undefined`: no write check. */
  readonly writeCheckKey: string | undefined;
  /** Deadline of each call. */
  readonly timeoutMs: number;
  /** Exit codes by problem. */
  readonly exitCodes: {
    readonly stream: number;
    readonly leaseTable: number;
    readonly bucketMissing: number;
    readonly bucketNotWritable: number;
  };
}

const NO_NETWORK_TRIES = 3;
const WRITE_CHECK_BODY = new TextEncoder().encode('shardline-s3-sink start check: the bucket takes writes\n');
const NO_ERROR_CODES = { throttling: new Set<string>(), transient: new Set<string>() };

/**
 * Checks, before any lease is taken, that the stream exists and is readable, that the lease table
 * can be reached (a missing table is fine: it is created), and that the bucket exists and takes a
 * write. Transient failures (throttling, 5xx, connection refused) are tried {@link NO_NETWORK_TRIES}
 * times; what still fails is returned with its cause.
 */
export async function checkDestinations(checks: DestinationChecks): Promise<DestinationProblem | undefined> {
  const stream = checks.streamName ?? checks.streamArn ?? '';
  try {
    await call(checks, 'DescribeStreamSummary', (abortSignal) =>
      checks.kinesisClient.send(
        new DescribeStreamSummaryCommand(
          checks.streamArn ? { StreamARN: checks.streamArn } : { StreamName: checks.streamName },
        ),
        { abortSignal },
      ),
    );
  } catch (error) {
    const name = awsErrorCode(error);
    return {
      exitCode: checks.exitCodes.stream,
      message:
        name === 'ResourceNotFoundException'
          ? `the stream ${stream} does not exist`
          : `the stream ${stream} cannot be read: ${cause(error)}`,
    };
  }
  try {
    await call(checks, 'DescribeTable', (abortSignal) =>
      checks.dynamoDBClient.send(new DescribeTableCommand({ TableName: checks.leaseTableName }), {
        abortSignal,
      }),
    );
  } catch (error) {
    if (awsErrorCode(error) !== 'ResourceNotFoundException') {
      return {
        exitCode: checks.exitCodes.leaseTable,
        message: `the lease table ${checks.leaseTableName} cannot be reached: ${cause(error)}`,
      };
    }
  }
  try {
    await call(checks, 'HeadBucket', (abortSignal) =>
      checks.s3Client.send(new HeadBucketCommand({ Bucket: checks.bucket }), { abortSignal }),
    );
  } catch (error) {
    // HeadBucket answers without a body: a missing bucket is a bare 404 (NotFound).
    const isMissing = awsErrorCode(error) === 'NoSuchBucket' || httpStatusCode(error) === 404;
    return isMissing
      ? { exitCode: checks.exitCodes.bucketMissing, message: `the bucket ${checks.bucket} does not exist` }
      : {
          exitCode: checks.exitCodes.bucketNotWritable,
          message: `the bucket ${checks.bucket} cannot be used: ${cause(error)}`,
        };
  }
  if (checks.writeCheckKey !== undefined) {
    const key = checks.writeCheckKey;
    try {
      await call(checks, 'PutObject', (abortSignal) =>
        checks.s3Client.send(
          new PutObjectCommand({
            Bucket: checks.bucket,
            Key: key,
            Body: WRITE_CHECK_BODY,
            ContentLength: WRITE_CHECK_BODY.byteLength,
            ContentType: 'text/plain',
          }),
          { abortSignal },
        ),
      );
    } catch (error) {
      return {
        exitCode: checks.exitCodes.bucketNotWritable,
        message: `the bucket ${checks.bucket} is not writable (PutObject ${key}): ${cause(error)}`,
      };
    }
    // The check leaves nothing behind where it may (readers of the bucket need not skip it); without
    // s3:DeleteObject the small object stays, overwritten at each start.
    await checks.s3Client
      .send(new DeleteObjectCommand({ Bucket: checks.bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(checks.timeoutMs),
      })
      .catch(() => undefined);
  }
  return undefined;
}

async function call<T>(
  checks: DestinationChecks,
  operation: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withDeadline(operation, checks.timeoutMs, run);
    } catch (error) {
      if (attempt >= NO_NETWORK_TRIES || !isTransientAwsError(error, NO_ERROR_CODES)) throw error;
      await sleep(500 * attempt);
    }
  }
}

function cause(error: unknown): string {
  return describeS3Failure(error);
}
