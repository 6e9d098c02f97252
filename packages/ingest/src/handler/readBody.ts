import { gunzip } from 'node:zlib';

/** The outcome of reading (and inflating) a body within the limit. */
export type BodyReadResult =
  | { readonly kind: 'ok'; readonly bytes: Uint8Array }
  | { readonly kind: 'too-large'; readonly message: string }
  | { readonly kind: 'bad-encoding'; readonly message: string };

/** A request body: bytes, or chunks as they arrive (a Node `IncomingMessage` is one). */
export type RequestBody = Uint8Array | AsyncIterable<Uint8Array>;

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Reads a body, stopping as soon as it passes `maxBytes`. The iterator is then left as it is (not
 * `return()`ed: for a Node request that would destroy the socket before the 413 could be read); the
 * HTTP adapter decides whether to drain the rest or close the connection.
 */
export async function readBounded(body: RequestBody, maxBytes: number): Promise<Uint8Array | undefined> {
  if (body instanceof Uint8Array) return body.length > maxBytes ? undefined : body;
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const step = await iterator.next();
    if (step.done) break;
    total += step.value.length;
    if (total > maxBytes) return undefined;
    chunks.push(step.value);
  }
  return concat(chunks, total);
}

/**
 * Inflates a gzip body, stopping as soon as the output passes `maxBytes` (a gzip bomb costs at most
 * that much memory and time). Runs on the libuv thread pool, not the event loop.
 */
export function gunzipBounded(compressed: Uint8Array, maxBytes: number): Promise<BodyReadResult> {
  return new Promise((resolve) => {
    gunzip(compressed, { maxOutputLength: maxBytes }, (error, out) => {
      if (!error) {
        resolve({ kind: 'ok', bytes: out });
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
        resolve({ kind: 'too-large', message: `The body inflates to more than ${maxBytes} bytes` });
      } else {
        resolve({ kind: 'bad-encoding', message: `The body is not valid gzip data: ${error.message}` });
      }
    });
  });
}
