import { describe, expect, it } from 'vitest';
import { OutputTail } from '../../src/services/OutputTail.js';

describe('OutputTail', () => {
  it('keeps the last lines across chunk boundaries, the unfinished one included', () => {
    const tail = new OutputTail(3);
    tail.push('one\ntw');
    tail.push('o\nthree\nfour\nfi');
    expect(tail.toString()).toBe('two\nthree\nfour\nfi');
  });

  it('trims very long lines', () => {
    const tail = new OutputTail(2);
    tail.push(`${'x'.repeat(5_000)}\n`);
    expect(tail.toString().length).toBeLessThan(2_100);
  });
});
