import { describe, expect, it } from 'vitest';
import {
  compareExtendedSequenceNumbers as compare,
  isSentinel,
  isSequenceNumber,
} from '../../src/checkpoint/ExtendedSequenceNumber.js';

const at = (sequenceNumber: string, subSequenceNumber = 0) => ({ sequenceNumber, subSequenceNumber });

describe('compareExtendedSequenceNumbers', () => {
  it('compares 128-bit sequence numbers by value, not as strings or doubles', () => {
    const a = '49590338271490256608559692538361571095921575989136588898';
    const b = '49590338271490256608559692538361571095921575989136588899';
    expect(compare(at(a), at(b))).toBeLessThan(0);
    expect(compare(at('9'), at('10'))).toBeLessThan(0);
    expect(Number(a) === Number(b)).toBe(true); // why doubles would be wrong
    expect(compare(at(a, 1), at(a, 0))).toBeGreaterThan(0);
    expect(compare(at(a, 2), at(a, 2))).toBe(0);
  });

  it('orders start sentinels before and SHARD_END after every sequence number', () => {
    expect(compare(at('TRIM_HORIZON'), at('1'))).toBeLessThan(0);
    expect(compare(at('LATEST'), at('1'))).toBeLessThan(0);
    expect(compare(at('SHARD_END'), at('99999999999999999999999'))).toBeGreaterThan(0);
  });

  it('tells sentinels from sequence numbers', () => {
    expect(isSentinel('SHARD_END')).toBe(true);
    expect(isSentinel('123')).toBe(false);
    expect(isSequenceNumber('123')).toBe(true);
    // A real one: 56 digits, far beyond 128 bits.
    expect(isSequenceNumber('49590338271490256608559692538361571095921575989136588898')).toBe(true);
    expect(isSequenceNumber(`1${'0'.repeat(128)}`)).toBe(true);
    expect(isSequenceNumber(`1${'0'.repeat(129)}`)).toBe(false);
    expect(isSequenceNumber('0123')).toBe(false);
    expect(isSequenceNumber('LATEST')).toBe(false);
  });
});
