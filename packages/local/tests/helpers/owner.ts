// A process that owns a local twin and then idles, for the tests of what happens when its owner dies.
import { startLocalTwin } from '@shardline/local';

const stack = await startLocalTwin({ kinesis: process.argv[2] === 'faithful' ? 'faithful' : 'fast' });
process.stdout.write(`OWNER ${JSON.stringify({ pid: process.pid, services: stack.services })}\n`);
setInterval(() => {}, 60_000);
