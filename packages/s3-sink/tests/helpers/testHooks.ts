import { type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import type { S3SinkHookInfo, S3SinkHooks } from '../../src/S3SinkEvents.js';

/** Crash points of the CLI for tests: `<point>:<n>` holds the process at the n-th time it gets there. */
export const TestHookPoint = {
  RangeSealed: 'range-sealed',
  PendingWritten: 'pending-written',
  /** The second part of a multipart upload is about to be sent (the first is in S3). */
  MidMultipart: 'mid-multipart',
  ObjectsWritten: 'objects-written',
  Checkpointed: 'checkpointed',
} as const;
/** See {@link TestHookPoint}. */
export type TestHookPoint = (typeof TestHookPoint)[keyof typeof TestHookPoint];

const hang = () => new Promise<never>(() => {});

/**
 * Parses a crash point `<point>:<n>` (the `--test-hook` argument of `sinkWithTestHooks.ts`): when the
 * point is reached for the n-th time, a `HOOK <point> ...` line is printed and the sink hangs there, for
 * the test to SIGKILL it.
 */
export function parseTestHook(
  value: string | undefined,
  print: (line: string) => void,
): { hooks: S3SinkHooks | undefined; wrapS3Client: ((client: S3Client) => S3Client) | undefined } {
  const match = /^([a-z-]+):(\d+)$/.exec(value ?? '');
  if (!match) return { hooks: undefined, wrapS3Client: undefined };
  const point = match[1] as TestHookPoint;
  const atCount = Number(match[2]);
  let count = 0;
  const reach = (detail: string): Promise<void> | undefined => {
    count += 1;
    if (count !== atCount) return undefined;
    print(`HOOK ${point} ${detail}\n`);
    return hang();
  };
  const at =
    (name: TestHookPoint) =>
    (info: S3SinkHookInfo): Promise<void> | undefined =>
      name === point
        ? reach(
            `${info.shardId} ${info.first.sequenceNumber} ${info.last.sequenceNumber} ${info.recordCount}`,
          )
        : undefined;
  const hooks: S3SinkHooks = {
    rangeSealed: at(TestHookPoint.RangeSealed),
    pendingWritten: at(TestHookPoint.PendingWritten),
    objectsWritten: at(TestHookPoint.ObjectsWritten),
    checkpointed: at(TestHookPoint.Checkpointed),
  };
  const wrapS3Client =
    point === TestHookPoint.MidMultipart
      ? (client: S3Client): S3Client => {
          const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
          const firstParts = new Map<string, Promise<unknown>>();
          (client as { send: unknown }).send = async (command: unknown) => {
            if (command instanceof UploadPartCommand) {
              const uploadId = command.input.UploadId ?? '';
              const first = firstParts.get(uploadId);
              if (first === undefined) {
                const sent = send(command);
                firstParts.set(
                  uploadId,
                  sent.catch(() => undefined),
                );
                return sent;
              }
              // Parts go out concurrently: hold a later part until the first is in S3, then hang.
              await first;
              const held = reach(`${command.input.Key} ${uploadId} part ${command.input.PartNumber}`);
              if (held) await held;
            }
            return send(command);
          };
          return client;
        }
      : undefined;
  return { hooks, wrapS3Client };
}
