/** A small seeded PRNG (mulberry32): fault tests print their seed so a failure can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seed of this run: `SHARDLINE_SEED` when set (to replay), else a fresh one. Printed. */
export function testSeed(label: string): number {
  const seed = Number(process.env.SHARDLINE_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.info(`[${label}] seed ${seed} (replay with SHARDLINE_SEED=${seed})`);
  return seed;
}

/** An error shaped like an AWS SDK service error. */
export function serviceError(name: string, httpStatusCode = 400, attempts = 1): Error {
  const error = new Error(`${name} (injected)`);
  error.name = name;
  Object.assign(error, {
    $metadata: { httpStatusCode, attempts },
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
  });
  return error;
}

/** An error shaped like a dropped connection (no HTTP response). */
export function networkError(): Error {
  return Object.assign(new Error('socket hang up (injected)'), { code: 'ECONNRESET' });
}
