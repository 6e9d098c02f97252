import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { propsProblems } from '../config/propsProblems.js';

/** Props of {@link ArchiveBucket}. */
export interface ArchiveBucketProps {
  /** The bucket name. @defaultValue a generated name */
  readonly bucketName?: string;
  /**
   * Days after which an unfinished multipart upload (a worker that died mid-object) is aborted and its
   * parts deleted. @defaultValue 1
   */
  readonly abortIncompleteMultipartUploadDays?: number;
  /** Days after which archived objects move to S3 Glacier Instant Retrieval. @defaultValue none */
  readonly transitionToGlacierIrDays?: number;
  /** Days after which server access logs are deleted. @defaultValue 90 */
  readonly accessLogRetentionDays?: number;
  /** @defaultValue RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The S3 actions an archiver needs on objects: write them (`s3:PutObject` covers multipart uploads) and
 * abort its own unfinished uploads.
 */
export const ARCHIVE_WRITER_ACTIONS = Object.freeze(['s3:PutObject', 's3:AbortMultipartUpload'] as const);
/** The bucket-level action an archiver needs: find the uploads a crashed worker left (to abort them). */
export const ARCHIVE_WRITER_BUCKET_ACTIONS = Object.freeze(['s3:ListBucketMultipartUploads'] as const);

/**
 * Where `shardline-s3-sink` proves at start that the bucket takes writes (a small object, deleted right
 * after), followed by its application name.
 */
export const START_CHECK_KEY_PREFIX = '.shardline-s3-sink/write-check/';

const BUCKET_NAME = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The archive bucket of the s3-sink: encrypted (SSE-S3), public access blocked, TLS-only, versioned,
 * an `AbortIncompleteMultipartUpload` lifecycle rule, and server access logs into a second bucket
 * (same protections, no logs of its own: logging the log bucket would loop).
 *
 * @throws ConfigurationError when props are wrong (every problem listed).
 */
export class ArchiveBucket extends Construct {
  /** The archive. */
  readonly bucket: s3.Bucket;
  /** Where the archive's server access logs go. */
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps = {}) {
    super(scope, id);
    const problems = propsProblems('ArchiveBucket');
    problems.optionalMatch(
      'bucketName',
      props.bucketName,
      BUCKET_NAME,
      'a valid S3 bucket name (3–63 of a-z 0-9 . -)',
    );
    problems.optionalInteger(
      'abortIncompleteMultipartUploadDays',
      props.abortIncompleteMultipartUploadDays,
      1,
      365,
    );
    problems.optionalInteger('transitionToGlacierIrDays', props.transitionToGlacierIrDays, 1, 36_500);
    problems.optionalInteger('accessLogRetentionDays', props.accessLogRetentionDays, 1, 36_500);
    problems.throwIfAny();

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [
        { expiration: Duration.days(props.accessLogRetentionDays ?? 90) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(props.abortIncompleteMultipartUploadDays ?? 1),
        },
        // Versioning keeps overwritten objects: drop old versions after a month.
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(30) },
        ...(props.transitionToGlacierIrDays === undefined
          ? []
          : [
              {
                id: 'glacier-instant-retrieval',
                transitions: [
                  {
                    storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transitionAfter: Duration.days(props.transitionToGlacierIrDays),
                  },
                ],
              },
            ]),
      ],
      removalPolicy,
    });
  }

  /**
   * Lets an archiver write objects under `prefix` (all keys when absent): exactly
   * {@link ARCHIVE_WRITER_ACTIONS} on those keys and {@link ARCHIVE_WRITER_BUCKET_ACTIONS} on the
   * bucket; nothing to read or delete.
   */
  grantArchiveWrite(grantee: iam.IGrantable, prefix?: string): iam.Grant {
    iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: [...ARCHIVE_WRITER_BUCKET_ACTIONS],
      resourceArns: [this.bucket.bucketArn],
      resource: this.bucket,
    });
    return iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: [...ARCHIVE_WRITER_ACTIONS],
      resourceArns: [this.bucket.arnForObjects(`${prefix ?? ''}*`)],
      resource: this.bucket,
    });
  }

  /**
   * Lets the `shardline-s3-sink` command of application `applicationName` check the bucket before it
   * takes leases: `s3:ListBucket` on the bucket (what `HeadBucket` needs; it lists key names, reads no
   * object) and `s3:PutObject`, `s3:DeleteObject` on its one start-check key
   * (`{@link START_CHECK_KEY_PREFIX}<applicationName>`) — without them the command exits at start.
   */
  grantStartCheck(grantee: iam.IGrantable, applicationName: string): void {
    iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
      resource: this.bucket,
    });
    iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['s3:PutObject', 's3:DeleteObject'],
      resourceArns: [this.bucket.arnForObjects(`${START_CHECK_KEY_PREFIX}${applicationName}`)],
      resource: this.bucket,
    });
  }
}
