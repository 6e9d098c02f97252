/**
 * A small deterministic PRNG (mulberry32): a test that draws from it can be replayed from its seed.
 * Returns numbers in [0, 1).
 */
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

/**
 * The seed of this run, printed with `label` so that a failure can be replayed: `SEED=n` (or
 * `SHARDLINE_SEED=n`) replays one, else a fresh one is drawn.
 */
export function testSeed(label: string): number {
  const fromEnv = Number(process.env.SEED ?? process.env.SHARDLINE_SEED);
  const seed = Number.isInteger(fromEnv) ? fromEnv : Math.floor(Math.random() * 2 ** 31);
  console.info(`[${label}] seed ${seed} (replay with SEED=${seed})`);
  return seed;
}
