import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  gzipCompression,
  resolveS3SinkConfig,
  S3_SINK_DEFAULTS,
  type S3SinkOptions,
} from '../../src/index.js';
import { settingsFingerprint } from '../../src/objects/settingsFingerprint.js';

const client = { send: async () => ({}) } as never;
const base: S3SinkOptions = {
  streamName: 'orders',
  bucket: 'archive-bucket',
  applicationName: 'orders-archive',
  kinesisClient: client,
  dynamoDBClient: client,
  s3Client: client,
};

function problemsOf(options: Partial<S3SinkOptions>): { path: string; message: string }[] {
  try {
    resolveS3SinkConfig({ ...base, ...options } as S3SinkOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return [...(error as ConfigurationError).problems];
  }
  throw new Error('expected a ConfigurationError');
}

describe('resolveS3SinkConfig', () => {
  it('applies the Firehose defaults', () => {
    const config = resolveS3SinkConfig(base);
    expect(config.bufferSizeBytes).toBe(5 * 1024 * 1024);
    expect(config.bufferIntervalMs).toBe(300_000);
    expect(config.codec.name).toBe('none');
    expect(config.newlineDelimiter).toBe(true);
    expect(config.prefix.source).toBe('!{timestamp:yyyy/MM/dd/HH}/');
    expect(config.errorPrefix.source).toBe(S3_SINK_DEFAULTS.errorPrefix);
    expect(config.initialPosition).toBe('TRIM_HORIZON');
    expect(config.streamLabel).toBe('orders');
  });

  it('appends the time layout to a prefix without expressions only', () => {
    expect(resolveS3SinkConfig({ ...base, prefix: 'raw/' }).prefix.source).toBe(
      'raw/!{timestamp:yyyy/MM/dd/HH}/',
    );
    expect(resolveS3SinkConfig({ ...base, prefix: 'raw/!{timestamp:yyyy}/' }).prefix.source).toBe(
      'raw/!{timestamp:yyyy}/',
    );
  });

  it('takes gzip and a custom codec', () => {
    expect(resolveS3SinkConfig({ ...base, compression: 'gzip' }).codec).toBe(gzipCompression);
    const codec = {
      name: 'zstd',
      extension: '.zst',
      contentType: 'application/zstd',
      compress: async () => new Uint8Array(),
    };
    expect(resolveS3SinkConfig({ ...base, compression: codec }).codec).toBe(codec);
  });

  it('lists every problem in one error', () => {
    const problems = problemsOf({
      streamName: undefined,
      bucket: 'Not_A_Bucket',
      bufferSizeBytes: 200 * 1024 * 1024,
      bufferIntervalMs: 901_000,
      prefix: 'data/!{partitionKeyFromQuery:type}/!{unknown:x}/!{firehose:random-string}/',
      errorPrefix: 'errors/',
      partitionKeys: { region: 'data.region', bad: 'payload.x' },
      uploadPartSizeBytes: 1024,
      compression: 'zip' as never,
      consumer: { checkpointIntervalMs: 1 } as never,
    });
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'streamName',
        'bucket',
        'bufferSizeBytes',
        'bufferIntervalMs',
        'prefix',
        'errorPrefix',
        'partitionKeys.bad',
        'partitionKeys.region',
        'uploadPartSizeBytes',
        'compression',
        'consumer.checkpointIntervalMs',
      ]),
    );
    const prefixMessages = problems.filter((p) => p.path === 'prefix').map((p) => p.message);
    expect(prefixMessages.some((m) => m.includes('!{partitionKeyFromQuery:type}'))).toBe(true);
    expect(prefixMessages.some((m) => m.includes('unknown expression !{unknown:x}'))).toBe(true);
    expect(prefixMessages.some((m) => m.includes('random-string'))).toBe(true);
    expect(problems.find((p) => p.path === 'partitionKeys.region')?.message).toContain('not used in prefix');
    expect(problems.find((p) => p.path === 'errorPrefix')?.message).toContain(
      '!{firehose:error-output-type}',
    );
  });

  it('refuses a buffer below the minimum and clients without send', () => {
    const problems = problemsOf({ bufferSizeBytes: 10, s3Client: {} as never });
    expect(problems.map((p) => p.path).sort()).toEqual(['bufferSizeBytes', 's3Client']);
  });

  it('refuses the error output type outside the error prefix', () => {
    const problems = problemsOf({ prefix: 'x/!{firehose:error-output-type}/' });
    expect(problems[0]?.message).toContain('only in errorPrefix');
  });
});

describe('resolveS3SinkConfig: transforms, record-count buffering and metrics', () => {
  const ok = () => ({ result: 'Dropped' as const });

  it('bufferRecords is off (0) by default and validated', () => {
    expect(resolveS3SinkConfig(base).bufferRecords).toBe(0);
    expect(resolveS3SinkConfig({ ...base, bufferRecords: 500 }).bufferRecords).toBe(500);
    for (const bufferRecords of [-1, 1.5, 10_000_001, '10' as never]) {
      expect(problemsOf({ bufferRecords }).map((p) => p.path)).toEqual(['bufferRecords']);
    }
  });

  it('a transform needs a function and a version; every problem is listed at once', () => {
    expect(
      resolveS3SinkConfig({ ...base, transform: { version: 'v1', transform: ok } }).transform?.version,
    ).toBe('v1');
    expect(problemsOf({ transform: { transform: ok } as never }).map((p) => p.path)).toEqual([
      'transform.version',
    ]);
    expect(
      problemsOf({
        transform: { version: '' } as never,
        bufferRecords: -1,
        meterProvider: {} as never,
      }).map((p) => p.path),
    ).toEqual(['bufferRecords', 'transform.transform', 'transform.version', 'meterProvider']);
    expect(problemsOf({ transform: { version: 'x'.repeat(257), transform: ok } }).map((p) => p.path)).toEqual(
      ['transform.version'],
    );
  });
});

describe('settingsFingerprint', () => {
  const t = (version: string) => ({ version, transform: () => ({ result: 'Dropped' as const }) });
  const fp = (options: Partial<S3SinkOptions>, tz = '2025b') =>
    settingsFingerprint(resolveS3SinkConfig({ ...base, ...options }), tz).digest;

  it('is stable for the same settings, whatever the transform function object', () => {
    expect(fp({ transform: t('v1') })).toBe(fp({ transform: t('v1') }));
    expect(fp({})).toMatch(/^[0-9a-f]{32}$/);
  });

  it('changes with the transform version, the format options and the time-zone database', () => {
    const reference = fp({ transform: t('v1') });
    const changed = [
      fp({ transform: t('v2') }),
      fp({}),
      fp({ transform: t('v1'), compression: 'gzip' }),
      fp({ transform: t('v1'), newlineDelimiter: false }),
      fp({ transform: t('v1'), recordContent: 'data' }),
      fp({ transform: t('v1'), invalidRecordPolicy: 'archive' }),
      fp({ transform: t('v1'), timeZone: 'Europe/Paris' }),
      fp({ transform: t('v1'), timeZone: 'Europe/Paris' }, '2026a'),
    ];
    expect(changed.filter((d) => d === reference)).toEqual([]);
    expect(new Set(changed).size).toBe(changed.length);
    // Keys in UTC never depend on the time-zone database: no false report after a Node.js upgrade.
    expect(fp({ transform: t('v1') }, '2026a')).toBe(reference);
  });

  it('includes the running Node.js time-zone database version when keys are local times', () => {
    const config = resolveS3SinkConfig({ ...base, timeZone: 'America/New_York' });
    expect(settingsFingerprint(config).parts.tz).toBe(process.versions.tz ?? null);
    expect(settingsFingerprint(resolveS3SinkConfig(base)).parts.tz).toBeNull();
  });
});
