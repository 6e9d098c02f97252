import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzipAsync = promisify(gzipCallback);

/**
 * Compresses an object's bytes. Must be deterministic (the same input always gives the same output with
 * the same library version): a replayed range is written again under the same key.
 */
export interface CompressionCodec {
  /** Shown in manifests and events, e.g. `gzip`. */
  readonly name: string;
  /** Appended to object keys, e.g. `.gz` (may be empty). */
  readonly extension: string;
  /** The objects' `Content-Type`. */
  readonly contentType: string;
  /**
   * Compresses the concatenation of `chunks`. The sink passes one chunk (the object's whole body); it
   * must not be modified.
   */
  compress(chunks: readonly Uint8Array[]): Promise<Uint8Array>;
}

/** One chunk as it is (no copy), several concatenated. */
function joined(chunks: readonly Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** No compression: newline-delimited records as they are. */
export const noCompression: CompressionCodec = {
  name: 'none',
  extension: '',
  contentType: 'application/x-ndjson',
  compress: async (chunks) => joined(chunks),
};

/** GZIP (zlib level 6, the default), readable by `gunzip`, Athena, Spark... */
export const gzipCompression: CompressionCodec = {
  name: 'gzip',
  extension: '.gz',
  contentType: 'application/gzip',
  // No Content-Encoding header: the object is a .gz file, and clients must not inflate it on the way.
  compress: async (chunks) => gzipAsync(joined(chunks)),
};
