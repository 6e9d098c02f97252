// Abortable waits are @shardline/common's.
export { abortReason, isAbort, sleep, sleepUnlessAborted } from '@shardline/common';
