/** Keeps the last lines a process wrote, for error messages. */
export class OutputTail {
  readonly #maxLines: number;
  readonly #lines: string[] = [];
  #partial = '';

  constructor(maxLines = 40) {
    this.#maxLines = maxLines;
  }

  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#add(line);
  }

  #add(line: string): void {
    // Long single lines (stack traces joined by the emulator) are trimmed, not dropped.
    this.#lines.push(line.length > 2_000 ? `${line.slice(0, 2_000)}…` : line);
    if (this.#lines.length > this.#maxLines) this.#lines.shift();
  }

  toString(): string {
    const lines = this.#partial ? [...this.#lines, this.#partial] : this.#lines;
    return lines.join('\n');
  }
}
