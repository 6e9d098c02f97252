// Entry point of the `shardline-s3-sink` command. The AWS SDK warns on every start that its releases after
// January 2027 need Node 22; the versions this package pins support Node 20, so the warning is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runCli } = await import('./cli/cli.js');
const { stderrLogger, streamWriter } = await import('@shardline/metrics');
// A closed stdout (EPIPE) must not end the sink: event and EMF lines stop, the archive goes on.
const stdout = streamWriter(process.stdout, stderrLogger);

const abort = new AbortController();
let signals = 0;
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    abort.abort(new Error(name));
  });
}

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout,
  stderr: (text) => process.stderr.write(text),
  signal: abort.signal,
});
process.exitCode = code;
