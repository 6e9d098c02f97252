import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { DEFAULT_COMMANDS } from '../../src/stacks/ReferencePipelineStack.js';
import { referenceTemplate } from '../helpers/synthStack.js';

type Template = ReturnType<typeof referenceTemplate>['template'];

function containerEnv(template: Template, isSink: boolean): Record<string, unknown> {
  const containers = Object.values(template.findResources('AWS::ECS::TaskDefinition')).map(
    (t) => t.Properties.ContainerDefinitions[0],
  );
  const container = containers.find(
    (c) => JSON.stringify(c.Command ?? []).includes('shardline-s3-sink') === isSink,
  )!;
  return Object.fromEntries(
    container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
  );
}

function alarms(
  template: Template,
): Record<
  string,
  { MetricName?: string; Namespace?: string; Dimensions?: unknown; Threshold?: number; Statistic?: string }
> {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([id, r]) => [id, r.Properties]),
  );
}

describe('ReferencePipelineStack s3SinkMetrics', () => {
  it('runs the sink with --metrics emf:<namespace> and alarms on its own lag, buffer age and error output', () => {
    const { stack, template } = referenceTemplate({ s3SinkMetrics: { namespace: 'Pipeline' } });
    expect(containerEnv(template, true)).toMatchObject({ SHARDLINE_METRICS: 'emf:Pipeline' });
    expect(containerEnv(template, true).NODE_OPTIONS).toBeUndefined();
    expect(containerEnv(template, false).SHARDLINE_METRICS).toBeUndefined();
    const byMetric = Object.fromEntries(
      Object.values(alarms(template))
        .filter((a) => a.Namespace === 'Pipeline')
        .map((a) => [a.MetricName, a]),
    );
    expect(Object.keys(byMetric).sort()).toEqual([
      'shardline.consumer.millis_behind_latest',
      'shardline.s3_sink.buffer.age',
      'shardline.s3_sink.error_output.records',
    ]);
    expect(byMetric['shardline.consumer.millis_behind_latest']).toMatchObject({
      Threshold: 300_000,
      Statistic: 'Maximum',
    });
    expect(byMetric['shardline.s3_sink.buffer.age']).toMatchObject({
      Threshold: 900_000,
      Statistic: 'Maximum',
    });
    expect(byMetric['shardline.s3_sink.error_output.records']).toMatchObject({
      Threshold: 0,
      Statistic: 'Sum',
    });
    // The dimensions the EMF lines carry: the application (the lease table's name, the task's --app) and the stream.
    const dimensions = byMetric['shardline.s3_sink.buffer.age']!.Dimensions as { Name: string }[];
    expect(dimensions.map((d) => d.Name).sort()).toEqual(['shardline.application', 'shardline.stream']);
    expect(JSON.stringify(dimensions)).toContain(`${stack.stackName}-s3-sink`);
  }, 60_000);

  it('without s3SinkMetrics: no exporter and no sink alarms; with nodeImport: that module and no sink alarms', () => {
    const none = referenceTemplate().template;
    expect(containerEnv(none, true).SHARDLINE_METRICS).toBeUndefined();
    expect(Object.values(alarms(none)).some((a) => a.MetricName?.startsWith('shardline.'))).toBe(false);
    const own = referenceTemplate({
      s3SinkMetrics: {
        nodeImport: './otel.js',
        environment: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' },
      },
    }).template;
    expect(containerEnv(own, true)).toMatchObject({
      NODE_OPTIONS: '--import ./otel.js',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
    });
    expect(containerEnv(own, true).SHARDLINE_METRICS).toBeUndefined();
    expect(Object.values(alarms(own)).some((a) => a.MetricName?.startsWith('shardline.'))).toBe(false);
  }, 60_000);

  it('lists every wrong metrics setting', () => {
    try {
      referenceTemplate({
        s3SinkMetrics: { namespace: 'AWS/Kinesis', environment: { NODE_OPTIONS: 'x', OTEL_A: 'b' } },
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).problems.map((p) => p.path).sort()).toEqual([
        's3SinkMetrics.environment',
        's3SinkMetrics.environment.NODE_OPTIONS',
        's3SinkMetrics.namespace',
      ]);
    }
  });

  it("the sink's command passes --metrics only when SHARDLINE_METRICS is set", () => {
    const script = DEFAULT_COMMANDS.s3Sink[2]!.replace(
      'exec node packages/s3-sink/bin/shardline-s3-sink.js',
      "printf '%s\\n'",
    );
    const run = (env: Record<string, string>) =>
      execFileSync('sh', ['-c', script], {
        env: {
          PATH: process.env.PATH,
          SHARDLINE_STREAM: 's',
          SHARDLINE_APP: 'a',
          SHARDLINE_BUCKET: 'b',
          ...env,
        },
        encoding: 'utf8',
      }).split('\n');
    expect(run({})).not.toContain('--metrics');
    expect(run({ SHARDLINE_METRICS: 'emf:Pipeline' }).slice(0, 2)).toEqual(['--metrics', 'emf:Pipeline']);
  });
});
