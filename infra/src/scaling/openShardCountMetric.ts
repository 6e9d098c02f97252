/** The namespace and name of the open shard count that the stream scaler publishes. */
export const OPEN_SHARD_COUNT_METRIC = Object.freeze({
  namespace: 'Shardline/Streams',
  name: 'OpenShardCount',
});
