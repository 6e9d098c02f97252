import { ConfigurationError, LOCAL_TWIN_DEFAULTS, resolveLocalTwinConfig } from '@shardline/local';
import { describe, expect, it } from 'vitest';

describe('resolveLocalTwinConfig', () => {
  it('fills every default', () => {
    const config = resolveLocalTwinConfig();
    expect(config).toMatchObject({
      kinesis: 'fast',
      dynamodb: true,
      s3: true,
      ports: { kinesis: 0, kinesisTls: 0, dynamodb: 0, s3: 0 },
      dataDir: undefined,
      region: LOCAL_TWIN_DEFAULTS.region,
      stateTransitionMs: LOCAL_TWIN_DEFAULTS.stateTransitionMs,
    });
  });

  it('keeps explicit values, including falsy ones, and makes dataDir absolute', () => {
    const config = resolveLocalTwinConfig({
      s3: false,
      stateTransitionMs: 0,
      ports: { s3: 4566 },
      dataDir: 'tmp/x',
    });
    expect(config.s3).toBe(false);
    expect(config.stateTransitionMs).toBe(0);
    expect(config.ports.s3).toBe(4566);
    expect(config.dataDir).toMatch(/^\/.*\/tmp\/x$/);
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      resolveLocalTwinConfig({
        kinesis: 'turbo' as never,
        ports: { kinesis: 1.5, s3: 4566, dynamodb: 4566, sqs: 1 } as never,
        region: 'Europe',
        dataDir: '  ',
        shardLimit: 0,
        extra: true,
      } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems;
    expect(problems.map((p) => p.path).sort()).toEqual([
      'dataDir',
      'extra',
      'kinesis',
      'ports.kinesis',
      'ports.s3',
      'ports.sqs',
      'region',
      'shardLimit',
    ]);
    expect((error as Error).message).toContain('8 problems');
    expect(problems.find((p) => p.path === 'ports.s3')?.message).toContain('ports.dynamodb');
  });

  it('refuses a stack with no service', () => {
    expect(() => resolveLocalTwinConfig({ kinesis: false, dynamodb: false, s3: false })).toThrow(
      ConfigurationError,
    );
  });
});
