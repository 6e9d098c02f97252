import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { propsProblems } from '../config/propsProblems.js';
import {
  type ArchiveFormat,
  type ArchiveLayout,
  type ArchiveRecordContent,
  type ArchiveSchema,
  archiveLayout,
  checkLocationApart,
  type GlueColumn,
  glueColumns,
  schemaColumns,
} from './archiveLayout.js';

/** Props of {@link ArchiveTable}. */
export interface ArchiveTableProps {
  /** The bucket the s3-sink writes to. */
  readonly bucket: s3.IBucket;
  /** The sink's record format (`--format`). @defaultValue 'json' */
  readonly format?: ArchiveFormat;
  /** The sink's schema (the content of its `--schema` file): the table's columns. */
  readonly schema: ArchiveSchema;
  /** JSON lines only: what each line holds (the sink's `recordContent`). @defaultValue 'envelope' */
  readonly recordContent?: ArchiveRecordContent;
  /** JSON lines only: whether objects are gzipped (the sink's `--compression gzip`). @defaultValue true */
  readonly isGzipped?: boolean;
  /**
   * The sink's data prefix (`--prefix`), bucket-relative, in Firehose syntax, e.g.
   * `data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/`.
   * Without any `!{…}`, the sink appends `!{timestamp:yyyy/MM/dd/HH}/` (and so does the table).
   */
  readonly dataPrefix: string;
  /** The sink's `--error-prefix`, bucket-relative: it must lie apart from the location. */
  readonly errorPrefix: string;
  /** The sink's `--manifest-prefix`, bucket-relative (`null`: `--no-manifests`). */
  readonly manifestPrefix: string | null;
  /** The sink's `--time-zone` (dates project one day past NOW outside UTC). @defaultValue 'UTC' */
  readonly timeZone?: string;
  /**
   * The Glue database: its name, and whether this construct creates it (`create: false`: it exists).
   * @defaultValue `{ name: '<stack name, lowercase, _ for other characters>_archive', create: true }`
   */
  readonly database?: { readonly name?: string; readonly create?: boolean };
  /** The table's name. @defaultValue 'events' */
  readonly tableName?: string;
  /** The partition column of a `!{timestamp:…}` folder without `name=`. @defaultValue 'dt' */
  readonly timePartitionName?: string;
  /** First and last year projected (year columns and date ranges). @defaultValue [2020, 2050] */
  readonly years?: readonly [number, number];
  /**
   * The values of `!{partitionKeyFromQuery:<name>}` partitions, by name: an `enum` projection (queries
   * may leave it out). Without values the partition is `injected`: every query must name its value.
   * @defaultValue {}
   */
  readonly partitionValues?: Readonly<Record<string, readonly string[]>>;
  /**
   * An Athena workgroup for the table: results under `resultsPrefix` of `bucket` (SSE-S3), the
   * workgroup's settings enforced, CloudWatch metrics on. @defaultValue none
   */
  readonly workGroup?: {
    readonly name?: string;
    /** @defaultValue 'athena-results/' */
    readonly resultsPrefix?: string;
    /** Cancel a query that scans more. @defaultValue none */
    readonly bytesScannedCutoffPerQuery?: number;
  };
}

/** Glue names: lowercase letters, digits and underscores (Athena reads them lowercased). */
const GLUE_NAME = /^[a-z0-9_]{1,255}$/;
const WORKGROUP_NAME = /^[a-zA-Z0-9._-]{1,128}$/;
const PREFIX = /^([a-zA-Z0-9!_.*'()-]+\/)+$/;

const PARQUET = Object.freeze({
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
});
const JSON_LINES = Object.freeze({
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
});

/**
 * A Glue Data Catalog table over the s3-sink's archive, for Athena (and Spark, Trino…): columns from
 * the sink's schema, the Parquet SerDe or the OpenX JSON SerDe, and partitions by Athena partition
 * projection read from the sink's data prefix — no crawler, no `MSCK REPAIR`. The location is the data
 * prefix's folders before its first expression, and must lie apart from the manifests, the error
 * output and the query results (checked at synth).
 *
 * @example
 * ```ts
 * new ArchiveTable(this, 'Table', {
 *   bucket: archive.bucket,
 *   format: 'parquet',
 *   schema: [{ name: 'event_type', type: 'string' }, { name: 'price', type: 'number' }],
 *   dataPrefix: 'data/!{timestamp:yyyy/MM/dd/HH}/',
 *   errorPrefix: 'errors/!{firehose:error-output-type}/',
 *   manifestPrefix: 'manifests/',
 * });
 * ```
 * @throws ConfigurationError when props are wrong (every problem listed).
 */
export class ArchiveTable extends Construct {
  /** The database's name. */
  readonly databaseName: string;
  /** The table's name. */
  readonly tableName: string;
  readonly table: glue.CfnTable;
  readonly database: glue.CfnDatabase | undefined;
  readonly workGroup: athena.CfnWorkGroup | undefined;
  /** The location, partitions and data columns the table was made with. */
  readonly layout: ArchiveLayout;
  readonly columns: readonly GlueColumn[];

  constructor(scope: Construct, id: string, props: ArchiveTableProps) {
    super(scope, id);
    const problems = propsProblems('ArchiveTable');
    const format = props.format ?? 'json';
    problems.optionalOneOf('format', props.format, ['json', 'parquet']);
    problems.optionalOneOf('recordContent', props.recordContent, ['envelope', 'data']);
    if (format === 'parquet' && props.recordContent !== undefined) {
      problems.add('recordContent', 'applies to JSON lines only');
    }
    if (format === 'parquet' && props.isGzipped === true) {
      problems.add('isGzipped', 'Parquet objects are never gzipped (Parquet compresses its pages)');
    }
    const own = schemaColumns(props.schema, 'schema', problems);
    const stack = Stack.of(this);
    this.databaseName =
      props.database?.name ?? `${stack.stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_archive`;
    this.tableName = props.tableName ?? 'events';
    problems.optionalMatch('database.name', props.database?.name, GLUE_NAME, 'a Glue name (a-z 0-9 _)');
    problems.optionalMatch('tableName', props.tableName, GLUE_NAME, 'a Glue name (a-z 0-9 _)');
    problems.optionalMatch(
      'timePartitionName',
      props.timePartitionName,
      /^[a-z_][a-z0-9_]{0,127}$/,
      'a lowercase column name',
    );
    const [firstYear, lastYear] = props.years ?? [2020, 2050];
    if (
      !Number.isInteger(firstYear) ||
      !Number.isInteger(lastYear) ||
      firstYear < 1000 ||
      lastYear > 9999 ||
      firstYear > lastYear
    ) {
      problems.add('years', `must be [first, last] within 1000–9999, got ${JSON.stringify(props.years)}`);
    }
    const resultsPrefix = props.workGroup?.resultsPrefix ?? 'athena-results/';
    if (props.workGroup) {
      problems.optionalMatch('workGroup.name', props.workGroup.name, WORKGROUP_NAME, 'a workgroup name');
      problems.optionalMatch('workGroup.resultsPrefix', resultsPrefix, PREFIX, "a key prefix ending in '/'");
      problems.optionalInteger(
        'workGroup.bytesScannedCutoffPerQuery',
        props.workGroup.bytesScannedCutoffPerQuery,
        10_000_000,
        Number.MAX_SAFE_INTEGER,
      );
    }
    this.layout = archiveLayout(props.dataPrefix, 'dataPrefix', problems, {
      timePartitionName: props.timePartitionName,
      years: [firstYear, lastYear],
      isUtc: (props.timeZone ?? 'UTC') === 'UTC',
      partitionValues: props.partitionValues,
    });
    checkLocationApart(this.layout.location, 'dataPrefix', problems, {
      manifestPrefix: props.manifestPrefix,
      errorPrefix: props.errorPrefix,
      others: props.workGroup ? { 'the query results (workGroup.resultsPrefix)': resultsPrefix } : {},
    });
    for (const name of Object.keys(props.partitionValues ?? {})) {
      if (!props.dataPrefix.includes(`!{partitionKeyFromQuery:${name}}`)) {
        problems.add(`partitionValues.${name}`, 'is not a !{partitionKeyFromQuery:…} of dataPrefix');
      }
    }
    this.columns = glueColumns(own, format, props.recordContent);
    for (const p of this.layout.partitions) {
      if (this.columns.some((c) => c.name === p.name)) {
        problems.add('dataPrefix', `partition '${p.name}' has the name of a column`);
      }
    }
    problems.throwIfAny();

    if (props.database?.create ?? true) {
      this.database = new glue.CfnDatabase(this, 'Database', {
        catalogId: stack.account,
        databaseInput: {
          name: this.databaseName,
          description: 'Shardline s3-sink archive tables',
        },
      });
    }
    const bucketName = props.bucket.bucketName;
    const isGzipped = format === 'json' && (props.isGzipped ?? true);
    const formatClasses = format === 'parquet' ? PARQUET : JSON_LINES;
    const projection: Record<string, string> = { 'projection.enabled': 'true' };
    for (const p of this.layout.partitions) {
      for (const [key, value] of Object.entries(p.properties)) {
        projection[`projection.${p.name}.${key}`] = value;
      }
    }
    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: stack.account,
      databaseName: this.databaseName,
      tableInput: {
        name: this.tableName,
        description: `Shardline s3-sink archive (${format === 'parquet' ? 'Parquet' : 'JSON lines'}), partitions by projection`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          classification: format,
          ...(isGzipped ? { compressionType: 'gzip' } : {}),
          ...projection,
          'storage.location.template': `s3://${bucketName}/${this.layout.locationTemplate}`,
        },
        partitionKeys: this.layout.partitions.map((p) => ({ name: p.name, type: 'string' })),
        storageDescriptor: {
          location: `s3://${bucketName}/${this.layout.location}`,
          columns: this.columns.map((c) => ({ name: c.name, type: c.type })),
          inputFormat: formatClasses.inputFormat,
          outputFormat: formatClasses.outputFormat,
          compressed: isGzipped,
          storedAsSubDirectories: false,
          serdeInfo: {
            serializationLibrary: formatClasses.serializationLibrary,
            parameters:
              format === 'parquet'
                ? { 'serialization.format': '1' }
                : // A line that is not JSON fails the query rather than reading as nulls.
                  { 'ignore.malformed.json': 'FALSE', 'case.insensitive': 'TRUE' },
          },
        },
      },
    });
    if (this.database) this.table.addDependency(this.database);

    if (props.workGroup) {
      this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
        name: props.workGroup.name ?? `${this.databaseName.replace(/_/g, '-')}`,
        description: `Queries of ${this.databaseName}.${this.tableName}`,
        recursiveDeleteOption: false,
        workGroupConfiguration: {
          enforceWorkGroupConfiguration: true,
          publishCloudWatchMetricsEnabled: true,
          ...(props.workGroup.bytesScannedCutoffPerQuery === undefined
            ? {}
            : { bytesScannedCutoffPerQuery: props.workGroup.bytesScannedCutoffPerQuery }),
          resultConfiguration: {
            outputLocation: `s3://${bucketName}/${resultsPrefix}`,
            encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          },
        },
      });
    }
  }
}
