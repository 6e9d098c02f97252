import { describe, expect, it } from 'vitest';
import { ExitCode, runCli } from '../../src/cli/cli.js';

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  let err = '';
  const code = await runCli(args, {
    env,
    isTty: false,
    stdout: () => {},
    stderr: (t) => {
      err += t;
    },
  });
  return { code, err };
}

const sample = new URL('../../../../data/online-retail-2010-12-sample.csv', import.meta.url).pathname;

describe('shardline-produce flags', () => {
  it.each([
    [['replay'], /missing required argument/],
    [['replay', sample], /either --url .* or --stream/],
    [['replay', sample, '--url', 'http://x', '--stream', 's'], /either --url/],
    [['replay', sample, '--url', 'http://x'], /--api-key/],
    [['replay', sample, '--url', 'nope', '--api-key', 'k'], /must be an http\(s\) URL/],
    [['replay', sample, '--stream', 's'], /region/],
    [
      ['replay', sample, '--stream', 's', '--region', 'eu-west-1', '--rate', '5', '--speed', '2'],
      /exclude each other/,
    ],
    [
      ['replay', sample, '--stream', 's', '--region', 'eu-west-1', '--speed', '2'],
      /--speed needs --event-time/,
    ],
    [['replay', sample, '--stream', 's', '--region', 'eu-west-1', '--rate', 'fast'], /records per second/],
    [['replay', sample, '--stream', 's', '--region', 'eu-west-1', '--limit', '0'], /positive integer/],
    [['replay', sample, '--stream', 's', '--region', 'eu-west-1', '--type', 'a=decimal'], /not one of/],
    [
      ['replay', sample, '--stream', 's', '--region', 'eu-west-1', '--map', 'novalue'],
      /is not <column=field>/,
    ],
    [
      ['replay', sample, '--stream', 's', '--region', 'eu-west-1', '--event-time-format', 'ymd'],
      /Allowed choices/,
    ],
    [['replay', sample, '--url', 'http://x', '--api-key', 'k', '--aggregate'], /--stream only/],
    [['replay', sample, '--bogus'], /unknown option/],
    [['frobnicate'], /unknown command/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const { code, err } = await run(args);
    expect(code).toBe(ExitCode.Usage);
    expect(err).toMatch(message);
  });

  it('names unknown columns of --partition-key against the header (exit 2)', async () => {
    const { code, err } = await run([
      'replay',
      sample,
      '--url',
      'http://127.0.0.1:9',
      '--api-key',
      'k',
      '--partition-key',
      'user',
      '--progress',
      'none',
    ]);
    expect(code).toBe(ExitCode.Usage);
    expect(err).toMatch(/no such column: "user"/);
  });

  it('help exits 0', async () => {
    expect((await run(['replay', '--help'])).code).toBe(ExitCode.Ok);
  });
});
