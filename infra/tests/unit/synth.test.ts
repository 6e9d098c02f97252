import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';

// The real synth, as `pnpm --filter @shardline/infra synth` runs it: functions bundled by esbuild, the
// consumer image staged (not built), cdk-nag's AwsSolutions pack failing on any unacknowledged finding.
describe('cdk synth (offline)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['function', '', '', ''],
    ['direct', '', '', ''],
    ['function', 's3Sink,liveMetrics', '', ''],
    ['function', 's3Sink', 's3Sink,liveMetrics', ''],
    ['function', '', '', 'parquet'],
  ])(
    'synthesizes the %s mode (fan-out: %s; leader assignment: %s; archive with a table: %s) with no unacknowledged cdk-nag finding',
    (mode, fanOut, leaderAssignment, archiveFormat) => {
      const outdir = mkdtempSync(join(tmpdir(), 'shardline-cdk-'));
      dirs.push(outdir);
      const archive: Record<string, string> = {};
      if (archiveFormat !== '') {
        const schemaFile = join(outdir, 'schema.json');
        writeFileSync(schemaFile, JSON.stringify([{ name: 'event_type', type: 'string' }]));
        Object.assign(archive, {
          archiveFormat,
          archiveSchema: schemaFile,
          archiveDataPrefix: 'parquet/',
          archiveTable: 'true',
        });
      }
      const { app } = buildApp(
        new App({
          outdir,
          context: {
            ingestMode: mode,
            fanOut,
            leaderAssignment,
            allowedOrigins: 'https://shop.example.com,https://app.example.com',
            ...archive,
          },
        }),
      );
      const assembly = app.synth(); // throws on an unacknowledged finding
      const template = assembly.getStackByName('ShardlinePipeline').template as {
        Resources: Record<string, { Type: string }>;
      };
      const types = Object.values(template.Resources).map((r) => r.Type);
      expect(types).toContain('AWS::Kinesis::Stream');
      expect(types.filter((t) => t === 'AWS::ECS::Service')).toHaveLength(2);
      // A lease table per application, and a coordinator table per leader-mode one.
      const leaders = leaderAssignment === '' ? 0 : leaderAssignment.split(',').length;
      expect(types.filter((t) => t === 'AWS::DynamoDB::Table')).toHaveLength(2 + leaders);
      expect(types.filter((t) => t === 'AWS::Glue::Table')).toHaveLength(archiveFormat === '' ? 0 : 1);
      const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: {
          pluginName: string;
          conclusion: string;
          violations: unknown[];
          suppressedViolations: { acknowledgedId: string; reason: string }[];
        }[];
      };
      expect(report.pluginReports.map((r) => r.pluginName)).toContain('AwsSolutions');
      for (const r of report.pluginReports) {
        expect([r.pluginName, r.conclusion, r.violations.length]).toEqual([r.pluginName, 'success', 0]);
      }
      // Every cdk-nag acknowledgement carries a reason of its own.
      const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
      for (const s of nag.suppressedViolations) expect(s.reason.length).toBeGreaterThan(40);
    },
    60_000,
  );
});
