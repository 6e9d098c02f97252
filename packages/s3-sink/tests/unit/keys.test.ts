import { describe, expect, it } from 'vitest';
import { ErrorOutputType, objectFileName, parseKeyTemplate, renderKeyTemplate } from '../../src/index.js';

const rules = { path: 'prefix', partitionKeyNames: ['type', 'country'], isErrorPrefix: false };

describe('key templates', () => {
  it('renders timestamps in UTC from the given time', () => {
    const { template, problems } = parseKeyTemplate('!{timestamp:yyyy/MM/dd/HH}/', rules);
    expect(problems).toEqual([]);
    // 2026-01-02T03:04:05Z, seen from any time zone.
    expect(renderKeyTemplate(template, { timestampMs: Date.UTC(2026, 0, 2, 3, 4, 5) })).toBe(
      '2026/01/02/03/',
    );
  });

  it('supports every field, quoted text and partition keys', () => {
    const { template, problems } = parseKeyTemplate(
      "t=!{partitionKeyFromQuery:type}/c=!{partitionKeyFromQuery:country}/!{timestamp:yy-MM-dd'T'HH.mm.ss}/",
      rules,
    );
    expect(problems).toEqual([]);
    expect(template.staticPrefix).toBe('t=');
    expect(template.partitionKeyNames).toEqual(['type', 'country']);
    expect(
      renderKeyTemplate(template, {
        timestampMs: Date.UTC(2026, 10, 25, 23, 59, 7),
        partitionValues: { type: 'view', country: 'FR' },
      }),
    ).toBe('t=view/c=FR/26-11-25T23.59.07/');
  });

  it('reports unknown pattern letters, unclosed expressions and the missing error type', () => {
    expect(parseKeyTemplate('!{timestamp:yyyy/QQ}', rules).problems[0]?.message).toContain(
      'unsupported pattern letter "Q"',
    );
    expect(parseKeyTemplate('a/!{timestamp:yyyy', rules).problems[0]?.message).toContain('never closed');
    const error = parseKeyTemplate('errors/', {
      path: 'errorPrefix',
      partitionKeyNames: [],
      isErrorPrefix: true,
    });
    expect(error.problems[0]?.message).toContain('must contain !{firehose:error-output-type}');
  });

  it('renders the error output type in the error prefix', () => {
    const { template } = parseKeyTemplate('errors/!{firehose:error-output-type}/', {
      path: 'errorPrefix',
      partitionKeyNames: [],
      isErrorPrefix: true,
    });
    expect(
      renderKeyTemplate(template, { timestampMs: 0, errorOutputType: ErrorOutputType.PartitioningFailed }),
    ).toBe('errors/partitioning-failed/');
  });

  it('names files by stream, shard and first position', () => {
    const first = {
      sequenceNumber: '49650000000000000000000000000000000000000000000000000002',
      subSequenceNumber: 0,
    };
    expect(objectFileName('orders', 'shardId-000000000001', first, '.gz')).toBe(
      'orders-shardId-000000000001-49650000000000000000000000000000000000000000000000000002.gz',
    );
    expect(objectFileName('orders', 'shardId-000000000001', { ...first, subSequenceNumber: 3 }, '')).toMatch(
      /-3$/,
    );
  });
});
