import type { KinesisRecord } from '@shardline/consumer-core';
import { encodeEnvelope } from '@shardline/ingest';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, resolveS3SinkConfig, type S3SinkOptions } from '../../src/index.js';
import { keysDigest, type ObjectLayout, planObjects } from '../../src/objects/planObjects.js';
import { createRecordRouter, type RecordRoute } from '../../src/routing/RecordRouter.js';

const ARRIVAL = Date.UTC(2026, 10, 25, 15, 59, 0);
const client = { send: async () => ({}) } as never;
const base: S3SinkOptions = {
  streamName: 'orders',
  bucket: 'archive-bucket',
  applicationName: 'orders-archive',
  kinesisClient: client,
  dynamoDBClient: client,
  s3Client: client,
};

function record(i: number, data: unknown, arrivalMs = ARRIVAL + i * 1000): KinesisRecord {
  return {
    data: encodeEnvelope({ eventId: `ev-${i}`, receivedAt: new Date(arrivalMs), data }),
    partitionKey: `pk-${i}`,
    explicitHashKey: undefined,
    sequenceNumber: String(1000n + BigInt(i) * 10n),
    subSequenceNumber: 0,
    approximateArrivalTimestamp: new Date(arrivalMs),
    isAggregated: false,
  };
}

/** Plans a range through the sink's own configuration, router and planner. */
function plan(options: Partial<S3SinkOptions>, records: KinesisRecord[]) {
  const config = resolveS3SinkConfig({ ...base, ...options });
  const route = createRecordRouter({
    recordContent: config.recordContent,
    invalidRecordPolicy: config.invalidRecordPolicy,
    partitionQueries: config.partitionQueries,
    ...(config.eventTime
      ? { eventTime: { ...config.eventTime, prefix: config.prefix, timeZone: config.timeZone } }
      : {}),
  });
  const layout: ObjectLayout = {
    streamLabel: config.streamLabel,
    prefix: config.prefix,
    errorPrefix: config.errorPrefix,
    extension: '',
    contentType: config.codec.contentType,
    format: config.format,
    timeZone: config.timeZone,
  };
  const routes: RecordRoute[] = records.map((r) => route(r));
  const plans = planObjects(
    {
      shardId: 'shardId-000000000001',
      first: records[0]!,
      last: records.at(-1)!,
      records,
      routes,
      inputBytes: records.reduce((n, r) => n + r.data.byteLength, 0),
    },
    layout,
  );
  return { plans, routes };
}

function eventIds(p: { chunks: readonly Uint8Array[] }): string[] {
  return Buffer.concat(p.chunks.map((c) => Buffer.from(c)))
    .toString()
    .trim()
    .split('\n')
    .map((line) => {
      const parsed = JSON.parse(line) as { eventId?: string; rawData?: string };
      return (
        parsed.eventId ?? `error:${JSON.parse(Buffer.from(parsed.rawData!, 'base64').toString()).eventId}`
      );
    });
}

describe('event-time partitioning', () => {
  it('gives one object per event hour, each under its own hour and keyed by its first record', () => {
    // Arrival all within one minute; event times over three hours, out of order.
    const hours = [10, 12, 10, 11, 12, 10];
    const records = hours.map((h, i) =>
      record(i, { ts: new Date(Date.UTC(2026, 10, 20, h, 15 + i)).toISOString() }),
    );
    const { plans } = plan({ timeField: 'data.ts' }, records);
    expect(plans.map((p) => [p.key, eventIds(p)])).toEqual([
      ['2026/11/20/10/orders-shardId-000000000001-1000', ['ev-0', 'ev-2', 'ev-5']],
      ['2026/11/20/12/orders-shardId-000000000001-1010', ['ev-1', 'ev-4']],
      ['2026/11/20/11/orders-shardId-000000000001-1030', ['ev-3']],
    ]);
    // Arrival time (the default) puts everything under the first record's arrival hour.
    expect(plan({}, records).plans.map((p) => p.key)).toEqual([
      '2026/11/25/15/orders-shardId-000000000001-1000',
    ]);
  });

  it('reads seconds, milliseconds and ISO times of one field alike (auto)', () => {
    const t = Date.UTC(2026, 0, 2, 3, 4, 5);
    const records = [
      record(0, { ts: t / 1000 }),
      record(1, { ts: t }),
      record(2, { ts: '2026-01-02T04:04:05+01:00' }),
    ];
    const { plans } = plan({ timeField: 'data.ts', prefix: '!{timestamp:yyyy-MM-dd HH:mm:ss}/' }, records);
    expect(plans).toHaveLength(1);
    expect(plans[0]!.key).toBe('2026-01-02 03:04:05/orders-shardId-000000000001-1000');
  });

  it('sends records without a usable time to partitioning-failed with the reason', () => {
    const records = [
      record(0, { ts: '2026-11-20T10:00:00Z' }),
      record(1, { other: 1 }),
      record(2, { ts: '2026-11-20T10:00:00' }),
      record(3, { ts: null }),
      record(4, 'not an object'),
      record(5, { ts: 1_700_000_000 }),
    ];
    const { plans, routes } = plan({ timeField: 'data.ts', timeFieldFormat: 'iso-8601' }, records);
    expect(plans.map((p) => [p.key, eventIds(p)])).toEqual([
      ['2026/11/20/10/orders-shardId-000000000001-1000', ['ev-0']],
      [
        'errors/partitioning-failed/2026/11/25/15/orders-shardId-000000000001-1010',
        ['error:ev-1', 'error:ev-2', 'error:ev-3', 'error:ev-4', 'error:ev-5'],
      ],
    ]);
    const reasons = routes.map((r) => (r.kind === 'error' ? r.reason : ''));
    expect(reasons).toEqual([
      '',
      'time field data.ts: no value',
      expect.stringMatching(
        /^time field data\.ts: "2026-11-20T10:00:00" is not an ISO 8601 date-time: no UTC offset/,
      ),
      'time field data.ts: null is not a time',
      'time field data.ts: no field "ts" (not an object or array)',
      'time field data.ts: 1700000000 is a number, not an ISO 8601 date-time (timeFieldFormat iso-8601)',
    ]);
  });

  it('data too deep to parse is a partitioning failure of that record, not a routing failure', () => {
    // Written by another producer than ours (the encoder refuses it): the envelope scan accepts it.
    const raw = new TextEncoder().encode(
      `{"eventId":"ev-deep","receivedAt":"2026-11-25T16:00:00.000Z","data":${'{"a":'.repeat(20_000)}123456789012345678901${'}'.repeat(20_000)}}`,
    );
    const records = [record(0, { ts: '2026-11-20T10:00:00Z' }), { ...record(1, {}), data: raw }];
    const { plans, routes } = plan({ timeField: 'data.ts' }, records);
    expect(plans.map((p) => p.key)).toEqual([
      '2026/11/20/10/orders-shardId-000000000001-1000',
      'errors/partitioning-failed/2026/11/25/15/orders-shardId-000000000001-1010',
    ]);
    expect(routes[1]!.kind === 'error' && routes[1]!.reason).toMatch(
      /^time field data\.ts: data cannot be parsed: RangeError/,
    );
  });

  it('renders every time of the prefix in the time zone; the error prefix keeps the arrival time', () => {
    const records = [record(0, { ts: '2026-11-20T23:30:00Z' }), record(1, {})];
    const { plans } = plan({ timeField: 'data.ts', timeZone: 'Asia/Tokyo' }, records);
    expect(plans.map((p) => p.key)).toEqual([
      '2026/11/21/08/orders-shardId-000000000001-1000',
      // Arrival 15:59:01 UTC is 00:59 on the 26th in Tokyo.
      'errors/partitioning-failed/2026/11/26/00/orders-shardId-000000000001-1010',
    ]);
    // Arrival-time keys follow the zone too (Firehose's CustomTimeZone).
    expect(plan({ timeZone: 'Asia/Tokyo' }, records).plans[0]!.key).toBe(
      '2026/11/26/00/orders-shardId-000000000001-1000',
    );
  });

  it('a fall-back night: two UTC hours with the same New York hour share one object, in shard order', () => {
    // 05:xx UTC is 01:xx EDT, 06:xx UTC is 01:xx EST, 07:xx UTC is 02:xx EST.
    const utcHours = [5, 6, 5, 7, 6];
    const records = utcHours.map((h, i) => record(i, { ts: Date.UTC(2026, 10, 1, h, 10 + i) }));
    const options = { timeField: 'data.ts', timeZone: 'America/New_York' } as const;
    const { plans } = plan(options, records);
    expect(plans.map((p) => [p.key, eventIds(p)])).toEqual([
      ['2026/11/01/01/orders-shardId-000000000001-1000', ['ev-0', 'ev-1', 'ev-2', 'ev-4']],
      ['2026/11/01/02/orders-shardId-000000000001-1030', ['ev-3']],
    ]);
    // The same range always gives the same objects, whatever was routed before (router caches).
    const again = plan(options, [...records]);
    expect(keysDigest(again.plans)).toBe(keysDigest(plans));
    // A later range of the same local hour gets its own key: the file name carries its first record.
    const later = plan(options, [record(9, { ts: Date.UTC(2026, 10, 1, 6, 59) })]);
    expect(later.plans[0]!.key).toBe('2026/11/01/01/orders-shardId-000000000001-1090');
  });

  it('splits by partition and time bucket together, in Hive key=value form', () => {
    const rows: [string, number][] = [
      ['FR', 10],
      ['DE', 10],
      ['FR', 11],
      ['FR', 10],
      ['DE', 11],
    ];
    const records = rows.map(([country, h], i) =>
      record(i, { user: { country }, event_type: 'view', at: Date.UTC(2026, 10, 20, h, i) }),
    );
    const { plans } = plan(
      {
        prefix:
          'events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/country=!{partitionKeyFromQuery:country}/',
        metadataExtractionQuery: '{country: .user.country}',
        timeField: 'data.at',
        timeFieldFormat: 'epoch-millis',
      },
      records,
    );
    expect(plans.map((p) => [p.key, eventIds(p)])).toEqual([
      [
        'events/year=2026/month=11/day=20/hour=10/country=FR/orders-shardId-000000000001-1000',
        ['ev-0', 'ev-3'],
      ],
      ['events/year=2026/month=11/day=20/hour=10/country=DE/orders-shardId-000000000001-1010', ['ev-1']],
      ['events/year=2026/month=11/day=20/hour=11/country=FR/orders-shardId-000000000001-1020', ['ev-2']],
      ['events/year=2026/month=11/day=20/hour=11/country=DE/orders-shardId-000000000001-1040', ['ev-4']],
    ]);
  });

  it('Hive-style prefixes with arrival time and a partition key work unchanged', () => {
    const records = [record(0, { user: { country: 'FR' } }), record(1, { user: { country: 'DE' } })];
    const { plans } = plan(
      {
        prefix: 'year=!{timestamp:yyyy}/month=!{timestamp:MM}/country=!{partitionKeyFromQuery:country}/',
        partitionKeys: { country: 'data.user.country' },
      },
      records,
    );
    expect(plans.map((p) => p.key)).toEqual([
      'year=2026/month=11/country=FR/orders-shardId-000000000001-1000',
      'year=2026/month=11/country=DE/orders-shardId-000000000001-1010',
    ]);
  });

  it('shares one route object per bucket when records are written as they arrived', () => {
    const records = [0, 1, 2, 3].map((i) => record(i, { ts: Date.UTC(2026, 10, 20, 10 + (i >> 1)) }));
    const { routes } = plan({ timeField: 'data.ts' }, records);
    expect(routes[0]).toBe(routes[1]);
    expect(routes[2]).toBe(routes[3]);
    expect(routes[1]).not.toBe(routes[2]);
  });

  it('moves a realistic Firehose dynamic partitioning configuration over unchanged', () => {
    // From a Firehose ExtendedS3DestinationConfiguration (CloudFormation), as users have it.
    const firehose = {
      Prefix:
        'data/customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
      ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/',
      DynamicPartitioningConfiguration: { Enabled: true },
      ProcessingConfiguration: {
        Enabled: true,
        Processors: [
          {
            Type: 'MetadataExtraction',
            Parameters: [
              {
                ParameterName: 'MetadataExtractionQuery',
                ParameterValue: '{customer_id:.customer_id,device:.type.device}',
              },
              { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
            ],
          },
        ],
      },
      CustomTimeZone: 'Europe/Paris',
    };
    const query = firehose.ProcessingConfiguration.Processors[0]!.Parameters[0]!.ParameterValue;
    const records = [
      record(0, { customer_id: 'c-42', type: { device: 'mobile' }, price: 3 }),
      record(1, { customer_id: 'c-7', type: { device: 'web' } }),
      record(2, { customer_id: 'c-42', type: {} }),
    ];
    const { plans } = plan(
      {
        prefix: firehose.Prefix,
        errorPrefix: firehose.ErrorOutputPrefix,
        metadataExtractionQuery: query,
        timeZone: firehose.CustomTimeZone,
      },
      records,
    );
    expect(plans.map((p) => p.key)).toEqual([
      'data/customer_id=c-42/device=mobile/year=2026/month=11/day=25/hour=16/orders-shardId-000000000001-1000',
      'data/customer_id=c-7/device=web/year=2026/month=11/day=25/hour=16/orders-shardId-000000000001-1010',
      'errors/partitioning-failed/year=2026/month=11/orders-shardId-000000000001-1020',
    ]);
  });
});

describe('event-time and query options', () => {
  function problemsOf(options: Partial<S3SinkOptions>): string[] {
    try {
      resolveS3SinkConfig({ ...base, ...options } as S3SinkOptions);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return (error as ConfigurationError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    throw new Error('expected a ConfigurationError');
  }

  it('resolves the defaults: arrival time, UTC', () => {
    const config = resolveS3SinkConfig(base);
    expect(config.eventTime).toBeUndefined();
    expect(config.timeZone).toBe('UTC');
    const zoned = resolveS3SinkConfig({ ...base, timeZone: 'utc', timeField: 'receivedAt' });
    expect(zoned.timeZone).toBe('UTC');
    expect(zoned.eventTime?.query.root).toBe('receivedAt');
    expect(zoned.eventTime?.format).toBe('auto');
  });

  it('lists every problem at once', () => {
    expect(
      problemsOf({
        timeZone: 'Europe/Atlantis',
        timeField: '.ts',
        timeFieldFormat: 'epoch-nanos' as never,
        metadataExtractionQuery: '{a: .a | tostring}',
      }),
    ).toEqual([
      expect.stringMatching(/^metadataExtractionQuery: pipes \(\|\) are not supported at position 7/),
      'timeFieldFormat: must be one of auto, iso-8601, epoch-seconds, epoch-millis',
      'timeField: ".ts" must start with one of data, eventId, receivedAt, partitionKey (e.g. data.event_type)',
      expect.stringMatching(/^timeZone: "Europe\/Atlantis" is not a time zone this runtime knows/),
    ]);
    expect(problemsOf({ timeFieldFormat: 'iso-8601' })).toEqual([
      'timeFieldFormat: is set without timeField',
    ]);
    expect(
      problemsOf({
        timeField: 'data.ts',
        prefix: 'by-type/!{partitionKeyFromQuery:t}/',
        partitionKeys: { t: 'data.t' },
      }),
    ).toEqual(['timeField: is set but prefix has no !{timestamp:...} for the event time to name']);
    expect(
      problemsOf({
        prefix: '!{partitionKeyFromQuery:t}/!{timestamp:yyyy}/',
        partitionKeys: { t: 'data.t' },
        metadataExtractionQuery: '{t: .t, "bad name": .x, unused: .u}',
      }),
    ).toEqual([
      'metadataExtractionQuery: key t is also defined in partitionKeys',
      'metadataExtractionQuery: key "bad name": names are 1–64 of [A-Za-z0-9_-]',
      'metadataExtractionQuery.unused: is not used in prefix (add !{partitionKeyFromQuery:unused})',
    ]);
  });
});
