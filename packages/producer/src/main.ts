// Entry point of the `shardline-produce` command. The AWS SDK warns on every start that its releases after
// January 2027 need Node 22; the versions this package pins support Node 20, so the warning is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runProcess } = await import('./cli/runProcess.js');
await runProcess();
