/**
 * Which stream a lease table's leases belong to: the stream's ARN and creation time
 * (`DescribeStreamSummary`). Shard ids restart at `shardId-000000000000` in a recreated stream, so the
 * name alone cannot tell an old table's checkpoints from this stream's (the Java KCL's issue #187).
 */
export interface StreamIdentity {
  /** `StreamARN`. */
  readonly streamArn: string;
  /** `StreamCreationTimestamp`. */
  readonly createdAt: Date;
}

/**
 * The lease-item attributes holding a {@link StreamIdentity}. Attributes of the lease items themselves:
 * the Java KCL 2.x reads every item of the table as a lease, so no item of another kind may be added,
 * and it ignores attributes it does not know.
 */
export const STREAM_IDENTITY_ATTRIBUTES = {
  streamArn: 'shardlineStreamArn',
  createdAt: 'shardlineStreamCreatedAt',
} as const;

/** The attributes (DynamoDB `AttributeValue` shapes, as kept in `unknownAttributes`) of an identity. */
export function streamIdentityAttributes(identity: StreamIdentity): Record<string, { S: string }> {
  return {
    [STREAM_IDENTITY_ATTRIBUTES.streamArn]: { S: identity.streamArn },
    [STREAM_IDENTITY_ATTRIBUTES.createdAt]: { S: identity.createdAt.toISOString() },
  };
}

/** What the stamp is read from: a lease's attributes (structural, so `Lease.ts` can use this module). */
export interface StampedItem {
  /** Where the stamp's attributes are kept (see {@link STREAM_IDENTITY_ATTRIBUTES}). */
  readonly unknownAttributes: Readonly<Record<string, unknown>>;
}

/** The stream a lease was stamped with, or `undefined` for a lease written before the stamp existed (or by the KCL). */
export function streamIdentityOf(lease: StampedItem): StreamIdentity | undefined {
  const arn = (lease.unknownAttributes[STREAM_IDENTITY_ATTRIBUTES.streamArn] as { S?: unknown } | undefined)
    ?.S;
  const at = (lease.unknownAttributes[STREAM_IDENTITY_ATTRIBUTES.createdAt] as { S?: unknown } | undefined)
    ?.S;
  if (typeof arn !== 'string' || typeof at !== 'string') return undefined;
  const createdAt = new Date(at);
  return Number.isNaN(createdAt.getTime()) ? undefined : { streamArn: arn, createdAt };
}

/** Whether two identities name the same stream (same ARN, same creation second). */
export function isSameStream(a: StreamIdentity, b: StreamIdentity): boolean {
  // Creation times are compared to the second: that is all some services (kinesalite) keep.
  return (
    a.streamArn === b.streamArn &&
    Math.floor(a.createdAt.getTime() / 1000) === Math.floor(b.createdAt.getTime() / 1000)
  );
}

/** What {@link checkStreamIdentity} found. */
export interface StreamIdentityCheck<L extends StampedItem = StampedItem> {
  /** Leases stamped with another stream. */
  readonly mismatched: readonly L[];
  /** Leases without a stamp (older Shardline, or the Java KCL): adopted, to be stamped. */
  readonly unstamped: readonly L[];
}

/** Sorts a table's leases by their stamp against the stream being read. Pure. */
export function checkStreamIdentity<L extends StampedItem>(
  leases: readonly L[],
  stream: StreamIdentity,
): StreamIdentityCheck<L> {
  const mismatched: L[] = [];
  const unstamped: L[] = [];
  for (const lease of leases) {
    const stamped = streamIdentityOf(lease);
    if (stamped === undefined) unstamped.push(lease);
    else if (!isSameStream(stamped, stream)) mismatched.push(lease);
  }
  return { mismatched, unstamped };
}
