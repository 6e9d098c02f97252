// Runs one pure-JS emulator in this process on 127.0.0.1 and reports its port on stdout as one line:
//   SHARDLINE_READY {"port":12345}
// Started by @shardline/local with `node --require ./watchdog.cjs service-host.mjs <service> <json options>`.

import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [service, rawOptions] = process.argv.slice(2);
const options = JSON.parse(rawOptions ?? '{}');
const host = '127.0.0.1';

function fail(error) {
  const code = error && typeof error === 'object' && 'code' in error ? error.code : undefined;
  process.stdout.write(
    `SHARDLINE_FAILED ${JSON.stringify({ code, message: String(error?.message ?? error) })}\n`,
  );
  process.exit(code === 'EADDRINUSE' ? 98 : 1);
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

// kinesalite and dynalite: a factory of an http.Server over a LevelDB store (in memory without a path).
function startLevelEmulator(name, engineOptions) {
  if (options.path) mkdirSync(options.path, { recursive: true });
  const server = require(name)({ path: options.path, ...engineOptions });
  process.on('shardline:shutdown', () => server.close());
  return listen(server);
}

async function start() {
  switch (service) {
    case 'kinesalite':
      return startLevelEmulator('kinesalite', {
        createStreamMs: options.stateTransitionMs,
        deleteStreamMs: options.stateTransitionMs,
        updateStreamMs: options.stateTransitionMs,
        shardLimit: options.shardLimit,
      });
    case 'dynalite':
      return startLevelEmulator('dynalite', {
        createTableMs: options.stateTransitionMs,
        deleteTableMs: options.stateTransitionMs,
        updateTableMs: options.stateTransitionMs,
      });
    case 'fauxqs': {
      process.env.FAUXQS_LOGGER = 'false';
      const { buildApp } = await import('fauxqs');
      const stores = options.path ? await persistentStores(options.path) : undefined;
      const app = buildApp({ logger: false, host: 'localhost', defaultRegion: options.region, stores });
      await app.listen({ port: options.port ?? 0, host });
      process.on('shardline:shutdown', () => void app.close());
      return app.server.address().port;
    }
    default:
      throw new Error(`unknown service ${service}`);
  }
}

async function persistentStores(path) {
  const { createPersistentS3Store } = await import('./persistentS3Store.mjs');
  const appUrl = import.meta.resolve('fauxqs');
  const { SqsStore } = await import(new URL('./sqs/sqsStore.js', appUrl).href);
  const { SnsStore } = await import(new URL('./sns/snsStore.js', appUrl).href);
  return { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store: await createPersistentS3Store(path) };
}

start().then(
  (port) => process.stdout.write(`SHARDLINE_READY ${JSON.stringify({ port })}\n`),
  (error) => fail(error),
);
