import { Buffer } from 'node:buffer';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** An event the producer could not deliver, with why. */
export interface DeadLetter {
  readonly eventId: string;
  readonly partitionKey: string;
  /** When the event had one. */
  readonly explicitHashKey: string | undefined;
  /** The event's `data` as exact JSON text (big integers keep every digit). */
  readonly dataJson: string;
  /** The last error code: a per-record code (`ProvisionedThroughputExceededException`), a transport code
   * (`HTTP_403`, `ResourceNotFoundException`, `NetworkError`), or `ProducerClosed`. */
  readonly errorCode: string;
  readonly errorMessage: string;
  /** How many times it was sent (0 when it never was). */
  readonly attempts: number;
  /** ISO-8601 UTC time of the decision. */
  readonly failedAt: string;
}

/** Takes dead letters. `write` resolves once the letter is stored; a rejection means it was not. */
export interface DeadLetterSink {
  write(letter: DeadLetter): Promise<void>;
  /** Flushes and releases resources; called by the producer's `close()`. */
  close?(): Promise<void>;
}

/**
 * Appends dead letters to a JSONL file (one JSON object per line, `data` spliced as its exact JSON text),
 * created with its folder on the first letter. Writes are serialized; `write` resolves once the line is
 * handed to the operating system, and `close()` syncs the file to disk.
 *
 * @example
 * ```ts
 * const producer = createProducer({ transport, deadLetter: new JsonlDeadLetterSink('failed.jsonl') });
 * ```
 */
export class JsonlDeadLetterSink implements DeadLetterSink {
  /** The file's path. */
  readonly path: string;
  #file: Promise<FileHandle> | undefined;
  #tail: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** One JSONL line for `letter` (with its newline). */
  static format(letter: DeadLetter): string {
    const head = JSON.stringify({
      eventId: letter.eventId,
      partitionKey: letter.partitionKey,
      ...(letter.explicitHashKey === undefined ? {} : { explicitHashKey: letter.explicitHashKey }),
      errorCode: letter.errorCode,
      errorMessage: letter.errorMessage,
      attempts: letter.attempts,
      failedAt: letter.failedAt,
    });
    return `${head.slice(0, -1)},"data":${letter.dataJson}}\n`;
  }

  write(letter: DeadLetter): Promise<void> {
    const line = Buffer.from(JsonlDeadLetterSink.format(letter), 'utf8');
    const done = this.#tail.then(async () => {
      this.#file ??= mkdir(dirname(this.path), { recursive: true }).then(() => open(this.path, 'a'));
      const file = await this.#file;
      await file.write(line);
    });
    // The next write waits for this one whatever its fate; this one's caller sees its own failure.
    this.#tail = done.catch(() => {});
    return done;
  }

  async close(): Promise<void> {
    await this.#tail;
    if (this.#file === undefined) return;
    const file = await this.#file;
    this.#file = undefined;
    try {
      await file.sync();
    } finally {
      await file.close();
    }
  }
}

/** A function given as `deadLetter`: called once per dead letter; the producer waits for it. */
export type DeadLetterHandler = (letter: DeadLetter) => void | Promise<void>;

/** Wraps a {@link DeadLetterHandler} as a sink. @internal */
export function handlerSink(handler: DeadLetterHandler): DeadLetterSink {
  return { write: async (letter) => handler(letter) };
}
