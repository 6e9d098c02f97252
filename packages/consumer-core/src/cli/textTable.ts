/**
 * Renders rows as an aligned text table: each column as wide as its widest cell, two spaces between
 * columns, no trailing blanks. Returns the lines (header first).
 */
export function formatTextTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows].map((cells) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}
