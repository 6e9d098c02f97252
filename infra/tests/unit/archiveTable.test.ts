import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProblemList } from '@shardline/common';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveTable, type ArchiveTableProps } from '../../src/constructs/ArchiveTable.js';
import {
  type ArchiveColumn,
  archiveLayout,
  glueColumns,
  schemaColumns,
} from '../../src/constructs/archiveLayout.js';
import { ConfigurationError } from '../../src/errors.js';
import { DEFAULT_COMMANDS } from '../../src/stacks/ReferencePipelineStack.js';
import { referenceTemplate } from '../helpers/synthStack.js';

const SCHEMA = [
  { name: 'event_type', type: 'string', nullable: false },
  { name: 'productId', type: 'integer' },
  { name: 'price', type: 'number' },
  { name: 'isGift', type: 'boolean' },
  { name: 'occurred_at', type: 'timestamp' },
  { name: 'attributes', type: 'json' },
] as const;

function tableTemplate(props: Partial<ArchiveTableProps>): Template {
  const stack = new Stack(new App(), 'Archive', { env: { account: '111111111111', region: 'eu-west-1' } });
  const bucket = new s3.Bucket(stack, 'Bucket');
  new ArchiveTable(stack, 'Table', {
    bucket,
    schema: SCHEMA,
    dataPrefix: 'data/',
    errorPrefix: 'errors/!{firehose:error-output-type}/',
    manifestPrefix: 'manifests/',
    ...props,
  });
  return Template.fromStack(stack);
}

/** The parts of a Glue `TableInput` the tests read. */
interface TableInput {
  readonly StorageDescriptor: {
    readonly Columns: { Name: string; Type: string }[];
    readonly Location: unknown;
  };
  readonly PartitionKeys: { Name: string; Type: string }[];
  readonly Parameters: Record<string, unknown>;
}

function tableInput(template: Template): TableInput {
  const [table] = Object.values(template.findResources('AWS::Glue::Table'));
  return table!.Properties.TableInput as TableInput;
}

/** The problems a construct threw, as `path: message` lines. */
function problemsOf(build: () => unknown): string[] {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigurationError');
}

describe('ArchiveTable', () => {
  it('reads Parquet objects: envelope and schema columns in Glue types, the Parquet SerDe, hourly date projection from the default layout', () => {
    const input = tableInput(tableTemplate({ format: 'parquet' }));
    expect(input.StorageDescriptor.Columns).toEqual([
      { Name: 'eventid', Type: 'string' },
      { Name: 'receivedat', Type: 'timestamp' },
      { Name: 'event_type', Type: 'string' },
      { Name: 'productid', Type: 'bigint' },
      { Name: 'price', Type: 'double' },
      { Name: 'isgift', Type: 'boolean' },
      { Name: 'occurred_at', Type: 'timestamp' },
      { Name: 'attributes', Type: 'string' },
    ]);
    expect(input.StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      Compressed: false,
    });
    expect(JSON.stringify(input.StorageDescriptor.Location)).toContain('"/data/"');
    // No prefix expression: the sink appends yyyy/MM/dd/HH/, one date partition by the hour.
    expect(input.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string' }]);
    expect(input.Parameters).toMatchObject({
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy/MM/dd/HH',
      'projection.dt.range': '2020/01/01/00,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'HOURS',
    });
    expect(input.Parameters.compressionType).toBeUndefined();
    expect(JSON.stringify(input.Parameters['storage.location.template'])).toContain(`/data/\${dt}/`);
  });

  it('reads gzipped JSON lines of envelopes with the OpenX SerDe: data as a struct, times as ISO text', () => {
    const input = tableInput(tableTemplate({ format: 'json' }));
    expect(input.StorageDescriptor.Columns).toEqual([
      { Name: 'eventid', Type: 'string' },
      { Name: 'receivedat', Type: 'string' },
      {
        Name: 'data',
        Type: 'struct<event_type:string,productid:bigint,price:double,isgift:boolean,occurred_at:string,attributes:string>',
      },
    ]);
    expect(input.StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
      Compressed: true,
    });
    expect(input.Parameters).toMatchObject({ classification: 'json', compressionType: 'gzip' });
  });

  it('projects Hive-style folders: integer time fields, enum and injected query partitions, in a zone past NOW', () => {
    const template = tableTemplate({
      format: 'parquet',
      dataPrefix:
        'data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/country=!{partitionKeyFromQuery:country}/!{partitionKeyFromQuery:channel}/',
      partitionValues: { channel: ['web', 'app', 'store'] },
      years: [2024, 2030],
      timeZone: 'Europe/Paris',
    });
    const input = tableInput(template);
    expect(input.PartitionKeys.map((k) => k.Name)).toEqual([
      'year',
      'month',
      'day',
      'hour',
      'country',
      'channel',
    ]);
    expect(input.Parameters).toMatchObject({
      'projection.year.type': 'integer',
      'projection.year.range': '2024,2030',
      'projection.year.digits': '4',
      'projection.month.range': '1,12',
      'projection.month.digits': '2',
      'projection.day.range': '1,31',
      'projection.hour.range': '0,23',
      'projection.country.type': 'injected',
      'projection.channel.type': 'enum',
      'projection.channel.values': 'web,app,store',
    });
    expect(JSON.stringify(input.Parameters['storage.location.template'])).toContain(
      `/data/year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/country=\${country}/\${channel}/`,
    );
    // Only the Glue database and table: no role, no crawler.
    expect(Object.keys(template.findResources('AWS::Glue::Crawler'))).toEqual([]);
    template.resourceCountIs('AWS::Glue::Database', 1);
  });

  it('projects a date format with the sink zone past NOW, and an Athena workgroup with encrypted results', () => {
    const template = tableTemplate({
      dataPrefix: 'data/!{timestamp:yyyy-MM-dd}/',
      timeZone: 'America/New_York',
      workGroup: { name: 'archive', bytesScannedCutoffPerQuery: 10_000_000_000 },
    });
    expect(tableInput(template).Parameters).toMatchObject({
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2020-01-01,NOW+1DAYS',
      'projection.dt.interval.unit': 'DAYS',
    });
    const [workGroup] = Object.values(template.findResources('AWS::Athena::WorkGroup'));
    expect(workGroup!.Properties.WorkGroupConfiguration).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      BytesScannedCutoffPerQuery: 10_000_000_000,
      ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } },
    });
    expect(
      JSON.stringify(workGroup!.Properties.WorkGroupConfiguration.ResultConfiguration.OutputLocation),
    ).toContain('/athena-results/');
  });

  it('refuses a location that holds the manifests, the error output or the results, listing every problem', () => {
    const problems = problemsOf(() =>
      tableTemplate({
        dataPrefix: 's3-sink/!{timestamp:yyyy/MM/dd/HH}/',
        errorPrefix: 's3-sink/errors/!{firehose:error-output-type}/',
        manifestPrefix: 's3-sink/manifests/',
        workGroup: { resultsPrefix: 's3-sink/athena/' },
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^dataPrefix: the location 's3-sink\/' and the manifests' prefix 's3-sink\/manifests\/' overlap/,
      ),
      expect.stringMatching(
        /^dataPrefix: the location 's3-sink\/' and the error prefix's fixed part 's3-sink\/errors\/' overlap/,
      ),
      expect.stringMatching(/^dataPrefix: the location 's3-sink\/' and the query results .* overlap/),
    ]);
    expect(problemsOf(() => tableTemplate({ dataPrefix: '!{timestamp:yyyy}/', manifestPrefix: '' }))).toEqual(
      [expect.stringMatching(/^dataPrefix: has no folder before its first expression/)],
    );
    expect(
      problemsOf(() =>
        tableTemplate({
          dataPrefix: 'data/',
          errorPrefix: '!{firehose:error-output-type}/',
          manifestPrefix: 'data/m/',
        }),
      ),
    ).toHaveLength(2);
  });

  it('lists every problem of the prefix, the schema and the names at once', () => {
    const problems = problemsOf(() =>
      tableTemplate({
        format: 'parquet',
        schema: [
          { name: 'dt', type: 'string' },
          { name: 'eventId', type: 'string' },
          { name: 'Price', type: 'number' },
          { name: 'price', type: 'number' },
          { name: 'cost', type: 'money' as never },
        ],
        dataPrefix: 'data/at-!{timestamp:yyyy}/!{firehose:random-string}/!{timestamp:HH}/x',
        tableName: 'Events',
        years: [2030, 2020],
        isGzipped: true,
        partitionValues: { country: ['FR'] },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'isGzipped: Parquet objects are never gzipped (Parquet compresses its pages)',
        expect.stringMatching(/^schema\[4\]\.type: must be one of string, integer/),
        expect.stringMatching(/^schema\.eventId: is reserved/),
        expect.stringMatching(/^tableName: must be a Glue name/),
        expect.stringMatching(/^years: must be \[first, last\]/),
        "dataPrefix: must end with '/' (a folder per partition), got 'data/at-!{timestamp:yyyy}/!{firehose:random-string}/!{timestamp:HH}/x'",
        expect.stringMatching(/^dataPrefix: !\{timestamp:yyyy\} must be a folder of its own/),
        expect.stringMatching(/^dataPrefix: !\{firehose:random-string\} cannot be a table partition/),
        'partitionValues.country: is not a !{partitionKeyFromQuery:…} of dataPrefix',
        "dataPrefix: partition 'dt' has the name of a column",
      ]),
    );
    expect(problems).toHaveLength(11);
    expect(problems).toContain('schema.price: appears twice (Glue and Athena compare names without case)');
  });
});

describe('archive layout and columns (pure)', () => {
  it('maps a JSON Schema subset like the sink: date-time → timestamp, object/array → json, nullability from required and "null"', () => {
    const problems = new ProblemList('test');
    const columns = schemaColumns(
      {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          at: { type: 'string', format: 'date-time' },
          tags: { type: ['array', 'null'] },
          ok: { type: 'boolean' },
        },
        required: ['id', 'tags'],
      },
      'schema',
      problems,
    );
    expect(problems.problems).toEqual([]);
    expect(columns).toEqual([
      { name: 'id', type: 'integer', nullable: false },
      { name: 'at', type: 'timestamp', nullable: true },
      { name: 'tags', type: 'json', nullable: true },
      { name: 'ok', type: 'boolean', nullable: true },
    ]);
    expect(glueColumns(columns, 'json', 'data')).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'at', type: 'string' },
      { name: 'tags', type: 'string' },
      { name: 'ok', type: 'boolean' },
    ]);
  });

  it('reads Firehose prefixes: a quoted literal, minutes, and an unclosed expression', () => {
    const problems = new ProblemList('test');
    const layout = archiveLayout("d/!{timestamp:yyyy-MM-dd'T'HH:mm}/", 'p', problems);
    expect(problems.problems).toEqual([]);
    expect(layout.partitions).toEqual([
      {
        name: 'dt',
        properties: {
          type: 'date',
          format: "yyyy-MM-dd'T'HH:mm",
          range: '2020-01-01T00:00,NOW',
          interval: '1',
          'interval.unit': 'MINUTES',
        },
      },
    ]);
    archiveLayout('d/!{timestamp:yyyy/', 'p', problems);
    expect(problems.problems.map((p) => p.message)).toEqual(["'!{' at 2 is not closed"]);
  });
});

describe('ReferencePipelineStack archiving as Parquet', () => {
  const schema: ArchiveColumn[] = [
    { name: 'event_type', type: 'string' },
    { name: 'price', type: 'number' },
  ];
  const { template } = referenceTemplate({
    archive: {
      format: 'parquet',
      schema,
      parquetCompression: 'zstd',
      dataPrefix:
        'parquet/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
      timeField: 'data.occurred_at',
      timeFieldFormat: 'iso-8601',
      timeZone: 'Europe/Paris',
      metadataExtractionQuery: '{event_type: .event_type}',
      bufferRecords: 50_000,
      table: { workGroup: {} },
    },
  });
  const containers = Object.values(template.findResources('AWS::ECS::TaskDefinition')).map(
    (t) => t.Properties.ContainerDefinitions[0],
  );
  const sink = containers.find((c) => JSON.stringify(c.Command ?? []).includes('shardline-s3-sink'))!;
  const env: Record<string, unknown> = Object.fromEntries(
    sink.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
  );

  it('gives the sink task its settings, the schema as JSON', () => {
    expect(env).toMatchObject({
      SHARDLINE_S3_SINK_FORMAT: 'parquet',
      SHARDLINE_S3_SINK_SCHEMA: JSON.stringify(schema),
      SHARDLINE_S3_SINK_PARQUET_COMPRESSION: 'zstd',
      SHARDLINE_S3_SINK_COMPRESSION: 'none',
      SHARDLINE_S3_SINK_TIME_FIELD: 'data.occurred_at',
      SHARDLINE_S3_SINK_TIME_FIELD_FORMAT: 'iso-8601',
      SHARDLINE_S3_SINK_TIME_ZONE: 'Europe/Paris',
      SHARDLINE_S3_SINK_METADATA_EXTRACTION_QUERY: '{event_type: .event_type}',
      SHARDLINE_S3_SINK_BUFFER_RECORDS: '50000',
    });
  });

  it('puts the table over the data prefix under the archive prefix', () => {
    const input = tableInput(template);
    expect(JSON.stringify(input.StorageDescriptor.Location)).toContain('"/s3-sink/parquet/"');
    expect(input.Parameters['projection.year.type']).toBe('integer');
    expect(input.StorageDescriptor.Columns.map((c) => c.Name)).toEqual([
      'eventid',
      'receivedat',
      'event_type',
      'price',
    ]);
  });

  it('turns the variables into CLI flags, each value one argument, the schema a file (the command run by sh)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardline-sink-command-'));
    try {
      // A stand-in `node` that prints its arguments and the schema file it is given.
      writeFileSync(
        join(dir, 'node'),
        `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done\nwhile [ $# -gt 0 ]; do [ "$1" = --schema ] && printf 'SCHEMA:%s\\n' "$(cat "$2")"; shift; done\n`,
      );
      chmodSync(join(dir, 'node'), 0o755);
      const taskEnv = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : `<${k}>`]),
      );
      const [shell, flag, script] = DEFAULT_COMMANDS.s3Sink;
      const out = execFileSync(shell!, [flag!, script!], {
        env: { PATH: `${dir}:/usr/bin:/bin`, ...taskEnv, SHARDLINE_FAN_OUT_CONSUMER: 'my consumer' },
        encoding: 'utf8',
      }).split('\n');
      const flagValue = (name: string) => out[out.indexOf(name) + 1];
      expect(out[0]).toBe('packages/s3-sink/bin/shardline-s3-sink.js');
      expect(flagValue('--fan-out')).toBe('my consumer');
      expect(flagValue('--format')).toBe('parquet');
      expect(flagValue('--parquet-compression')).toBe('zstd');
      expect(flagValue('--compression')).toBe('none');
      expect(flagValue('--time-field')).toBe('data.occurred_at');
      expect(flagValue('--time-field-format')).toBe('iso-8601');
      expect(flagValue('--time-zone')).toBe('Europe/Paris');
      expect(flagValue('--metadata-extraction-query')).toBe('{event_type: .event_type}');
      expect(flagValue('--buffer-records')).toBe('50000');
      expect(flagValue('--prefix')).toBe(
        's3-sink/parquet/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
      );
      expect(flagValue('--manifest-prefix')).toBe('s3-sink/manifests/');
      expect(flagValue('--error-prefix')).toBe('s3-sink/errors/!{firehose:error-output-type}/');
      expect(out.find((l) => l.startsWith('SCHEMA:'))).toBe(`SCHEMA:${JSON.stringify(schema)}`);
      expect(out.filter((l) => l.startsWith('--')).sort()).toEqual(
        [
          '--app',
          '--bucket',
          '--buffer-records',
          '--compression',
          '--error-prefix',
          '--fan-out',
          '--format',
          '--health-port',
          '--manifest-prefix',
          '--metadata-extraction-query',
          '--parquet-compression',
          '--prefix',
          '--schema',
          '--stream',
          '--time-field',
          '--time-field-format',
          '--time-zone',
        ].sort(),
      );
      // Without the stack's variables, the command keeps its former flags: gzipped JSON under events/.
      const plain = execFileSync(shell!, [flag!, script!], {
        env: { PATH: `${dir}:/usr/bin:/bin`, SHARDLINE_PREFIX: 'p/' },
        encoding: 'utf8',
      }).split('\n');
      expect(plain[plain.indexOf('--prefix') + 1]).toBe('p/events/');
      expect(plain[plain.indexOf('--compression') + 1]).toBe('gzip');
      expect(plain).not.toContain('--format');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ReferencePipelineStack archive settings', () => {
  it('keeps gzipped JSON lines under events/ by default, with no table', () => {
    const { stack, template } = referenceTemplate();
    expect(stack.archiveTable).toBeUndefined();
    template.resourceCountIs('AWS::Glue::Table', 0);
    const sink = Object.values(template.findResources('AWS::ECS::TaskDefinition'))
      .map((t) => t.Properties.ContainerDefinitions[0])
      .find((c) => JSON.stringify(c.Command ?? []).includes('shardline-s3-sink'))!;
    const names = sink.Environment.map((e: { Name: string }) => e.Name);
    // JSON lines are the sink's default: no --format, so a sink without that flag runs the command too.
    expect(names.filter((n: string) => n.startsWith('SHARDLINE_S3_SINK_')).sort()).toEqual([
      'SHARDLINE_S3_SINK_COMPRESSION',
      'SHARDLINE_S3_SINK_DATA_PREFIX',
    ]);
  }, 60_000);

  it('takes any sink prefix without a table; with one, the prefix must read as partitions', () => {
    const archive = {
      dataPrefix: 'events/!{partitionKeyFromQuery:type}-v1/',
      metadataExtractionQuery: '{type: .event_type}',
    };
    expect(() => referenceTemplate({ archive })).not.toThrow();
    expect(
      problemsOf(() =>
        referenceTemplate({ archive: { ...archive, schema: [{ name: 'a', type: 'string' }], table: true } }),
      ),
    ).toEqual([
      "archive.dataPrefix: !{partitionKeyFromQuery:type} must be a folder of its own: '!{partitionKeyFromQuery:type}/' or Hive style 'name=!{partitionKeyFromQuery:type}/'",
    ]);
  }, 60_000);

  it('lists every wrong setting at synth', () => {
    const problems = problemsOf(() =>
      referenceTemplate({
        archive: {
          format: 'parquet',
          compression: 'gzip',
          parquetCompression: 'lz4' as never,
          timeZone: 'Mars/Olympus',
          timeFieldFormat: 'rfc' as never,
          bufferRecords: -1,
          dataPrefix: 'errors/',
          table: true,
        },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^archive\.parquetCompression: must be one of 'snappy', 'zstd'/),
        expect.stringMatching(/^archive\.timeFieldFormat: must be one of/),
        expect.stringMatching(/^archive\.bufferRecords: must be an integer/),
        "archive.schema: is required with format 'parquet'",
        "archive.compression: must be 'none' with Parquet (Parquet compresses its pages)",
        'archive.table: needs archive.schema (the columns)',
        'archive.timeZone: is not an IANA time zone, got "Mars/Olympus"',
        expect.stringMatching(/^archive\.dataPrefix: the location 's3-sink\/errors\/' and the error prefix/),
      ]),
    );
    expect(problems).toHaveLength(8);
    expect(
      problemsOf(() => referenceTemplate({ archive: { schemaVersion: 'v2', parquetRowGroupSize: 100 } })),
    ).toEqual([
      "archive.schemaVersion: applies to format 'parquet' only",
      "archive.parquetRowGroupSize: applies to format 'parquet' only",
    ]);
  });
});

describe('the synthesized app with a Parquet archive and its table', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('reads -c archiveFormat, archiveSchema (a file), archiveDataPrefix and archiveTable', async () => {
    const { buildApp } = await import('../../src/app.js');
    const dir = mkdtempSync(join(tmpdir(), 'shardline-schema-'));
    dirs.push(dir);
    const schemaFile = join(dir, 'schema.json');
    writeFileSync(schemaFile, JSON.stringify([{ name: 'event_type', type: 'string' }]));
    const { stack } = buildApp(
      new App({
        context: {
          'aws:cdk:bundling-stacks': [],
          allowedOrigins: 'https://shop.example.com',
          archiveFormat: 'parquet',
          archiveSchema: schemaFile,
          archiveDataPrefix: 'parquet/',
          archiveTable: 'true',
        },
      }),
    );
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Glue::Table', 1);
    template.resourceCountIs('AWS::Athena::WorkGroup', 1);
    expect(JSON.stringify(template.toJSON())).toContain(
      JSON.stringify(readFileSync(schemaFile, 'utf8')).slice(1, -1),
    );
  }, 60_000);
});
