/**
 * `text` with 1 to `maxEdits` random one-character edits, each at a random place with a character of
 * `alphabet`: a deletion (40 %), an insertion (30 %) or a replacement (30 %). Draws from `random`
 * only, so a seeded PRNG replays the same mutations.
 */
export function mutate(text: string, random: () => number, alphabet: string, maxEdits: number): string {
  const chars = [...text];
  const edits = 1 + Math.floor(random() * maxEdits);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (chars.length + 1));
    const c = alphabet[Math.floor(random() * alphabet.length)]!;
    const op = random();
    if (op < 0.4) chars.splice(at, 1);
    else if (op < 0.7) chars.splice(at, 0, c);
    else chars[at] = c;
  }
  return chars.join('');
}
