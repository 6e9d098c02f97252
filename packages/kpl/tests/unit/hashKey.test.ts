import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AggregationError,
  effectiveHashKey,
  isValidExplicitHashKey,
  MAX_HASH_KEY,
  partitionKeyHash,
} from '../../src/index.js';

/** MD5 of the UTF-8 key as an unsigned big-endian integer, built digit by digit from the hex digest. */
function expectedHash(key: string): bigint {
  const hex = createHash('md5').update(Buffer.from(key, 'utf8')).digest('hex');
  let value = 0n;
  for (const digit of hex) value = value * 16n + BigInt(Number.parseInt(digit, 16));
  return value;
}

describe('partitionKeyHash', () => {
  it('matches MD5 values known by heart', () => {
    // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
    expect(partitionKeyHash('a')).toBe(0x0cc175b9c0f1b6a831c399e269772661n);
    // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72 (RFC 1321 test suite)
    expect(partitionKeyHash('abc')).toBe(0x900150983cd24fb0d6963f7d28e17f72n);
  });

  it('hashes the UTF-8 bytes of ASCII, accented, astral and BOM-led keys', () => {
    for (const key of ['user-42', 'Grüße €', '😀🚀', '\uFEFFkey', 'x'.repeat(256), '0', ' ']) {
      expect(partitionKeyHash(key), key).toBe(expectedHash(key));
    }
  });

  it('gives a value in [0, 2^128) that keeps its leading zero bytes', () => {
    // Find a key whose digest starts with a zero byte: its hash must be below 2^120.
    let key = '';
    for (let i = 0; ; i++) {
      key = `k${i}`;
      if (createHash('md5').update(key).digest()[0] === 0) break;
    }
    const value = partitionKeyHash(key);
    expect(value).toBe(expectedHash(key));
    expect(value < 1n << 120n).toBe(true);
    expect(value >= 0n && value <= MAX_HASH_KEY).toBe(true);
  });
});

describe('effectiveHashKey', () => {
  it('uses the explicit hash key when set', () => {
    expect(effectiveHashKey({ partitionKey: 'a', explicitHashKey: '0', data: new Uint8Array() })).toBe(0n);
    expect(
      effectiveHashKey({
        partitionKey: 'a',
        explicitHashKey: MAX_HASH_KEY.toString(),
        data: new Uint8Array(),
      }),
    ).toBe(2n ** 128n - 1n);
  });

  it('falls back to the partition key hash', () => {
    expect(effectiveHashKey({ partitionKey: 'order-7', data: new Uint8Array() })).toBe(
      expectedHash('order-7'),
    );
  });

  it('rejects a malformed explicit hash key with AggregationError', () => {
    for (const bad of [
      '',
      '-1',
      '+1',
      '01',
      '1e3',
      ' 1',
      '1.0',
      '0x10',
      (2n ** 128n).toString(),
      '9'.repeat(40),
    ]) {
      expect(
        () => effectiveHashKey({ partitionKey: 'a', explicitHashKey: bad, data: new Uint8Array() }),
        bad,
      ).toThrow(AggregationError);
      expect(isValidExplicitHashKey(bad), bad).toBe(false);
    }
  });

  it('accepts every valid decimal form', () => {
    for (const good of ['0', '1', '10', '170141183460469231731687303715884105728', MAX_HASH_KEY.toString()]) {
      expect(isValidExplicitHashKey(good), good).toBe(true);
    }
  });
});
