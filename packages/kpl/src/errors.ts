// The codec's errors share the root and the one ConfigurationError of every Shardline package, so
// `instanceof ConfigurationError` holds whichever package threw it.
export { ConfigurationError, type ConfigurationProblem, ShardlineError } from '@shardline/common';
