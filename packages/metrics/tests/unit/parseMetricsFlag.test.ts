import { ConfigurationError } from '@shardline/common';
import { describe, expect, it } from 'vitest';
import { parseMetricsFlag } from '../../src/index.js';

function problemsOf(value: string): string[] {
  try {
    parseMetricsFlag(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems.map((p) => p.message);
  }
  throw new Error(`${value} was accepted`);
}

describe('parseMetricsFlag', () => {
  it('parses every accepted form', () => {
    expect(parseMetricsFlag('prometheus:9464')).toEqual({ kind: 'prometheus', port: 9464 });
    expect(parseMetricsFlag('prometheus:127.0.0.1:9464')).toEqual({
      kind: 'prometheus',
      port: 9464,
      host: '127.0.0.1',
    });
    expect(parseMetricsFlag('prometheus:[::1]:9')).toEqual({ kind: 'prometheus', port: 9, host: '[::1]' });
    expect(parseMetricsFlag('emf')).toEqual({ kind: 'emf' });
    expect(parseMetricsFlag('emf:Orders/Pipeline')).toEqual({ kind: 'emf', namespace: 'Orders/Pipeline' });
  });

  it('names each problem', () => {
    expect(problemsOf('prometheus')).toEqual([expect.stringMatching(/prometheus needs a port/)]);
    expect(problemsOf('prometheus:')).toEqual([expect.stringMatching(/prometheus needs a port/)]);
    expect(problemsOf('prometheus:http')).toEqual([expect.stringMatching(/port must be an integer.*"http"/)]);
    expect(problemsOf('prometheus:0')).toEqual([expect.stringMatching(/port must be an integer/)]);
    expect(problemsOf('prometheus:65536')).toEqual([expect.stringMatching(/port must be an integer/)]);
    expect(problemsOf('prometheus::abc')).toEqual([
      expect.stringMatching(/port must be an integer/),
      expect.stringMatching(/host before the port is empty/),
    ]);
    expect(problemsOf('statsd:8125')).toEqual([expect.stringMatching(/unknown metrics exporter "statsd"/)]);
    expect(problemsOf('')).toEqual([expect.stringMatching(/unknown metrics exporter ""/)]);
    expect(problemsOf('emf:')).toEqual([expect.stringMatching(/must be 1 to 255 characters/)]);
    expect(problemsOf('emf:AWS/Kinesis')).toEqual([expect.stringMatching(/not starting with/)]);
    expect(problemsOf('emf:has space')).toEqual([expect.stringMatching(/must be 1 to 255 characters/)]);
  });
});
