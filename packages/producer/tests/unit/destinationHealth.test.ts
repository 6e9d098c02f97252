import { describe, expect, it } from 'vitest';
import { DestinationHealth } from '../../src/cli/DestinationHealth.js';
import { TransportError } from '../../src/errors.js';
import { describeCause } from '../../src/transport/describeCause.js';

describe('describeCause', () => {
  it.each([
    [
      'fetch: connection refused, in the cause chain',
      Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), {
          code: 'ECONNREFUSED',
          address: '127.0.0.1',
          port: 4599,
        }),
      }),
      'connection refused (127.0.0.1:4599)',
    ],
    [
      'the SDK: a reset socket',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      'connection reset',
    ],
    ['an unknown host', Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), 'host not found'],
    [
      'a whole request throttled',
      new TransportError('LimitExceededException', 'Rate exceeded', { retriable: true, isThrottle: true }),
      'throttled (LimitExceededException)',
    ],
    [
      'a per-record throttle',
      {
        ok: false,
        errorCode: 'ProvisionedThroughputExceededException',
        errorMessage: 'x',
        retriable: true,
        isThrottle: true,
      },
      'throttled (ProvisionedThroughputExceededException)',
    ],
    ['a 5xx answer', new TransportError('HTTP_503', 'x', { retriable: true }), 'server error (HTTP 503)'],
    [
      'a refused key',
      new TransportError('HTTP_403', 'x', { retriable: false }),
      'HTTP 403 Forbidden (check the API key)',
    ],
    [
      'a deadline',
      new TransportError('Timeout', 'PutRecords did not answer within 500 ms', { retriable: true }),
      'no answer within 500 ms',
    ],
    [
      'fetch with a cause that has no code',
      Object.assign(new TypeError('fetch failed'), { cause: new Error('bad port') }),
      'bad port',
    ],
  ])('%s', (_name, failure, expected) => {
    expect(describeCause(failure)).toBe(expected);
  });
});

describe('DestinationHealth', () => {
  const refused = Object.assign(new Error('x'), { code: 'ECONNREFUSED' });
  const ok = { ok: true, shardId: 's', sequenceNumber: '1' } as const;
  const throttled = {
    ok: false,
    errorCode: 'ProvisionedThroughputExceededException',
    errorMessage: 'x',
    retriable: true,
    isThrottle: true,
  } as const;

  it('counts the time every request has failed, and a written record ends it', () => {
    let now = 1_000;
    const health = new DestinationHealth(() => now);
    expect(health.failingForMs()).toBeUndefined();
    health.failed(refused);
    now += 3_000;
    health.answered({ outcomes: [throttled] }); // an answer that wrote nothing is still failing
    now += 2_000;
    expect(health.failingForMs()).toBe(5_000);
    expect(health.cause).toBe('throttled (ProvisionedThroughputExceededException)');
    expect(health.waitingFor()).toBe(
      'throttled (ProvisionedThroughputExceededException), every request failing for 5s',
    );
    health.answered({ outcomes: [ok, throttled] });
    expect(health.failingForMs()).toBeUndefined();
    expect(health.waitingFor()).toBe('throttled (ProvisionedThroughputExceededException)');
    now += 20_000;
    expect(health.waitingFor()).toBeUndefined(); // no recent failure: nothing to explain
  });
});
