import { EventStreamCodec, type MessageHeaders } from '@smithy/core/event-streams';

// The AWS event-stream framing (prelude, headers, payload, CRC32s) as the SDK itself decodes it.
const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);

const JSON_CONTENT = { type: 'string', value: 'application/json' } as const;

function frame(headers: MessageHeaders, body: unknown): Uint8Array {
  return codec.encode({ headers, body: new Uint8Array(Buffer.from(JSON.stringify(body), 'utf8')) });
}

/** The first message of every subscription: `:event-type` `initial-response` with an empty JSON body. */
export function initialResponseFrame(): Uint8Array {
  return frame(
    {
      ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: 'initial-response' },
      ':content-type': JSON_CONTENT,
    },
    {},
  );
}

/** A `SubscribeToShardEvent` message whose payload is the event as AWS JSON 1.1. */
export function subscribeToShardEventFrame(event: Record<string, unknown>): Uint8Array {
  return frame(
    {
      ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: 'SubscribeToShardEvent' },
      ':content-type': JSON_CONTENT,
    },
    event,
  );
}

/** A modeled mid-stream error (`:message-type` `exception`): the SDK throws it typed from the iterator. */
export function exceptionFrame(errorName: string, message: string): Uint8Array {
  return frame(
    {
      ':message-type': { type: 'string', value: 'exception' },
      ':exception-type': { type: 'string', value: errorName },
      ':content-type': JSON_CONTENT,
    },
    { message },
  );
}

/** Decodes one whole message (for tests of the framing). */
export function decodeFrame(bytes: Uint8Array): {
  headers: Record<string, unknown>;
  body: unknown;
} {
  const message = codec.decode(bytes);
  const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, v.value]));
  const text = Buffer.from(message.body).toString('utf8');
  return { headers, body: text.length > 0 ? JSON.parse(text) : undefined };
}
