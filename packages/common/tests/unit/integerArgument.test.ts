import { describe, expect, it } from 'vitest';
import { integerArgument } from '../../src/integerArgument.js';

const fail = (message: string): never => {
  throw new RangeError(message);
};

describe('integerArgument', () => {
  it('takes decimal digits only, at least min', () => {
    const positive = integerArgument(1, fail);
    expect(positive('42')).toBe(42);
    for (const bad of ['0', '-1', '1.5', '1e3', ' 1', '', '0x10', '99999999999999999999']) {
      expect(() => positive(bad), bad).toThrow('must be a positive integer');
    }
    expect(integerArgument(0, fail)('0')).toBe(0);
    expect(() => integerArgument(0, fail)('-0')).toThrow('must be a non-negative integer');
    expect(() => integerArgument(5, fail)('4')).toThrow('must be an integer of at least 5');
  });
});
