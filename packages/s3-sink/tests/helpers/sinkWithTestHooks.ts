// Test-only entry of `shardline-s3-sink`: the CLI's own run function, with a crash point injected through
// its options (never shipped; the binary, src/main.ts, has no test hook). Usage:
//   node --import tsx sinkWithTestHooks.ts --test-hook <point>:<n> <shardline-s3-sink arguments...>
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runCli } = await import('../../src/cli/cli.js');
const { parseTestHook } = await import('./testHooks.js');

const args = process.argv.slice(2);
let hookSpec: string | undefined;
if (args[0] === '--test-hook') {
  hookSpec = args[1];
  args.splice(0, 2);
}
const abort = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) process.on(name, () => abort.abort(new Error(name)));
const testHooks = parseTestHook(hookSpec, (line) => process.stderr.write(line));
process.exitCode = await runCli(args, {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: abort.signal,
  hooks: testHooks.hooks,
  wrapS3Client: testHooks.wrapS3Client,
});
