import { describe, expect, it } from 'vitest';
import consumer from '../consumer.js';

const FANOUT_FIGURES = [
  'fanout_cpu_us_per_record',
  'fanout_peak_rss_mib',
  'fanout_records_delivered',
  'fanout_get_records_calls',
  'fanout_latency_p50_ms',
  'fanout_latency_p99_ms',
];
const KINESIS_LOCAL_CONTENDERS = [
  'fanout',
  'polling-kinesis-local',
  'fanout-latency',
  'polling-latency-kinesis-local',
];

describe('pnpm bench consumer: the fan-out rows', () => {
  const fanOut = consumer.figures.filter((f) => f.name.startsWith('fanout_'));

  it('declares the fan-out figures, each against polling consumer-core on kinesis-local', () => {
    expect(fanOut.map((f) => f.name)).toEqual(FANOUT_FIGURES);
    for (const figure of fanOut) {
      expect(figure.from.startsWith('fanout')).toBe(true);
      expect(figure.baseline?.startsWith('polling-')).toBe(true);
      expect(figure.baseline?.endsWith('-kinesis-local')).toBe(true);
    }
    expect(fanOut.find((f) => f.name === 'fanout_get_records_calls')?.reference?.value).toBe(0);
  });

  it('marks every figure of a kinesis-local run as taken under load, and no other', () => {
    for (const figure of consumer.figures) {
      const onKinesisLocal =
        KINESIS_LOCAL_CONTENDERS.includes(figure.from) ||
        KINESIS_LOCAL_CONTENDERS.includes(figure.baseline ?? '');
      expect({ name: figure.name, underLoad: figure.underLoad === true }).toEqual({
        name: figure.name,
        underLoad: onKinesisLocal,
      });
    }
  });

  it('has enough sample events for every kinesis-local run, full and quick', () => {
    for (const params of [consumer.params.full, consumer.params.quick]) {
      const latencyRecords = (params.kinesisLocal.putRatePerS * params.kinesisLocal.putDurationMs) / 1000;
      expect(params.kinesisLocal.records).toBeLessThanOrEqual(params.records);
      expect(latencyRecords).toBeLessThanOrEqual(params.records);
      expect(latencyRecords).toBeGreaterThan(0);
    }
  });
});
