import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { integerArgument } from '@shardline/common';
import { type Command, InvalidArgumentError } from 'commander';
import type { S3SinkOptions } from '../config/resolveS3SinkConfig.js';
import type { RecordTransform } from '../routing/RecordTransform.js';

/** The flags of this block (`--buffer-records`, `--transform`). */
export interface TransformFlags {
  bufferRecords?: number;
  transform?: string;
}

const nonNegativeInteger = integerArgument(0, (message: string): never => {
  throw new InvalidArgumentError(message);
});

/** Adds `--buffer-records` and `--transform` to the program. */
export function addTransformFlags(command: Command): Command {
  return command
    .option(
      '--buffer-records <n>',
      'most records per shard buffer, like Kafka Connect flush.size (default 0: no bound)',
      nonNegativeInteger,
    )
    .option(
      '--transform <module>',
      'an ES module exporting `transform(record, shardId)` (pure) and `version` (a string): see the README',
    );
}

/**
 * The sink options of these flags: imports the `--transform` module (relative to `cwd`).
 * @returns the options, or a message saying why the module cannot be used.
 */
export async function transformFlagOptions(
  flags: TransformFlags,
  cwd: string,
): Promise<Pick<S3SinkOptions, 'bufferRecords' | 'transform'> | string> {
  const options: { bufferRecords?: number; transform?: RecordTransform } = {};
  if (flags.bufferRecords !== undefined) options.bufferRecords = flags.bufferRecords;
  if (flags.transform === undefined) return options;
  const path = isAbsolute(flags.transform) ? flags.transform : resolve(cwd, flags.transform);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    return `--transform ${flags.transform}: cannot import it: ${(error as Error).message}`;
  }
  // Named exports, or the same two as properties of the default export.
  const source =
    typeof module.transform === 'function' ? module : (module.default as Record<string, unknown>);
  const transform = source?.transform;
  const version = source?.version;
  if (typeof transform !== 'function' || typeof version !== 'string') {
    return `--transform ${flags.transform}: the module must export a function \`transform\` and a string \`version\``;
  }
  // Bound to its module or default export: a transform that uses `this` keeps it.
  options.transform = {
    version,
    transform: (transform as RecordTransform['transform']).bind(source) as RecordTransform['transform'],
  };
  return options;
}
