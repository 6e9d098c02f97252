import { Buffer } from 'node:buffer';
import { hash } from 'node:crypto';
import { DIGEST_BYTES, FRAME_BYTES, KPL_MAGIC, MAGIC_BYTES } from './constants.js';
import { AggregatedRecordTag, RecordTag } from './messages.js';
import type { UserRecord } from './UserRecord.js';
import { varintSize, writeVarint } from './wire.js';

interface Entry {
  readonly partitionKeyIndex: number;
  /** -1 when the record has no explicit hash key. */
  readonly explicitHashKeyIndex: number;
  readonly data: Uint8Array;
  /** Size of the encoded `Record` message, without its tag and length prefix. */
  readonly messageBytes: number;
}

const encoder = new TextEncoder();

/**
 * Collects user records into the tables and entries of one `AggregatedRecord` and keeps the exact size
 * of its protobuf encoding up to date, in O(1) per record (one map lookup per key, no re-encoding).
 * Records are referenced, not copied, until {@link AggregateBuilder.encode}. Internal to `kpl/`; inputs
 * are validated by the callers.
 */
export class AggregateBuilder {
  readonly #partitionKeys = new Map<string, number>();
  readonly #explicitHashKeys = new Map<string, number>();
  #entries: Entry[] = [];
  #protobufBytes = 0;

  /** Number of user records added. */
  get recordCount(): number {
    return this.#entries.length;
  }

  /** Exact size of the encoded record: magic, protobuf message and digest. */
  get encodedBytes(): number {
    return FRAME_BYTES + this.#protobufBytes;
  }

  /** Exact size of the encoded record if `record` were added. */
  encodedBytesWith(record: UserRecord): number {
    return FRAME_BYTES + this.#protobufBytes + this.#measure(record, false);
  }

  /** Adds a record; returns the new {@link AggregateBuilder.encodedBytes}. */
  add(record: UserRecord): number {
    this.#protobufBytes += this.#measure(record, true);
    return FRAME_BYTES + this.#protobufBytes;
  }

  /** Removes every record. */
  clear(): void {
    this.#partitionKeys.clear();
    this.#explicitHashKeys.clear();
    this.#entries = [];
    this.#protobufBytes = 0;
  }

  /** Writes magic, protobuf message and MD5 digest into one new array of exactly `encodedBytes`. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.encodedBytes);
    out.set(KPL_MAGIC, 0);
    let pos = MAGIC_BYTES;
    // Tables first, then records: field-number order, as protobuf serializers (and the KPL) write it.
    for (const key of this.#partitionKeys.keys())
      pos = writeString(out, pos, AggregatedRecordTag.PARTITION_KEY_TABLE, key);
    for (const key of this.#explicitHashKeys.keys()) {
      pos = writeString(out, pos, AggregatedRecordTag.EXPLICIT_HASH_KEY_TABLE, key);
    }
    for (const entry of this.#entries) {
      out[pos++] = AggregatedRecordTag.RECORDS;
      pos = writeVarint(out, pos, entry.messageBytes);
      out[pos++] = RecordTag.PARTITION_KEY_INDEX;
      pos = writeVarint(out, pos, entry.partitionKeyIndex);
      if (entry.explicitHashKeyIndex >= 0) {
        out[pos++] = RecordTag.EXPLICIT_HASH_KEY_INDEX;
        pos = writeVarint(out, pos, entry.explicitHashKeyIndex);
      }
      out[pos++] = RecordTag.DATA;
      pos = writeVarint(out, pos, entry.data.length);
      out.set(entry.data, pos);
      pos += entry.data.length;
    }
    const protobufEnd = out.length - DIGEST_BYTES;
    if (pos !== protobufEnd)
      throw new Error(`KPL size accounting is off: wrote ${pos} bytes, expected ${protobufEnd}`);
    out.set(hash('md5', out.subarray(MAGIC_BYTES, protobufEnd), 'buffer'), protobufEnd);
    return out;
  }

  /** Protobuf bytes that `record` adds; with `commit`, adds it. */
  #measure(record: UserRecord, commit: boolean): number {
    let added = 0;
    let partitionKeyIndex = this.#partitionKeys.get(record.partitionKey);
    if (partitionKeyIndex === undefined) {
      partitionKeyIndex = this.#partitionKeys.size;
      added += stringFieldBytes(Buffer.byteLength(record.partitionKey, 'utf8'));
      if (commit) this.#partitionKeys.set(record.partitionKey, partitionKeyIndex);
    }
    const dataBytes = record.data.length;
    let messageBytes = 1 + varintSize(partitionKeyIndex) + 1 + varintSize(dataBytes) + dataBytes;
    let explicitHashKeyIndex = -1;
    const explicitHashKey = record.explicitHashKey;
    if (explicitHashKey !== undefined) {
      const known = this.#explicitHashKeys.get(explicitHashKey);
      if (known === undefined) {
        explicitHashKeyIndex = this.#explicitHashKeys.size;
        added += stringFieldBytes(explicitHashKey.length); // decimal digits: one byte each
        if (commit) this.#explicitHashKeys.set(explicitHashKey, explicitHashKeyIndex);
      } else {
        explicitHashKeyIndex = known;
      }
      messageBytes += 1 + varintSize(explicitHashKeyIndex);
    }
    if (commit)
      this.#entries.push({ partitionKeyIndex, explicitHashKeyIndex, data: record.data, messageBytes });
    return added + 1 + varintSize(messageBytes) + messageBytes;
  }
}

/** Size of a length-delimited field with a one-byte tag. */
function stringFieldBytes(byteLength: number): number {
  return 1 + varintSize(byteLength) + byteLength;
}

function writeString(out: Uint8Array, pos: number, tag: number, value: string): number {
  const byteLength = Buffer.byteLength(value, 'utf8');
  out[pos++] = tag;
  pos = writeVarint(out, pos, byteLength);
  encoder.encodeInto(value, out.subarray(pos, pos + byteLength));
  return pos + byteLength;
}
