import type { Lease } from './Lease.js';

/**
 * The lease-item attribute where each Shardline worker records how it reads the shard, written with
 * every take and renewal: `polling`, or `fanOut:<consumerName>`. The Java KCL ignores it (and keeps it:
 * its writes update single attributes); it is never a new kind of item.
 */
export const RETRIEVAL_ATTRIBUTE = 'shardlineRetrieval';

/** The retrieval of a lease item's holder, as written in {@link RETRIEVAL_ATTRIBUTE}, if any. */
export function retrievalOf(lease: Lease): string | undefined {
  const value = lease.unknownAttributes[RETRIEVAL_ATTRIBUTE] as { S?: unknown } | undefined;
  return typeof value?.S === 'string' ? value.S : undefined;
}

/** The value of {@link RETRIEVAL_ATTRIBUTE} for a retrieval mode: `polling` or `fanOut:<consumerName>`. */
export function retrievalLabel(
  retrieval: { readonly mode: 'polling' } | { readonly mode: 'fanOut'; readonly consumerName: string },
): string {
  return retrieval.mode === 'polling' ? 'polling' : `fanOut:${retrieval.consumerName}`;
}
