/**
 * Aligned text tables for the terminal and RFC 4180 CSV for machines.
 */

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

/** Visible width, ignoring ANSI colour sequences. */
export function visibleWidth(s: string): number {
  if (!s.includes('\u001b')) return s.length;
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], gap = 2): string[] {
  const widths = columns.map((c) => c.header.length);
  for (const r of rows) {
    for (let i = 0; i < widths.length; i++) {
      const w = visibleWidth(r[i] ?? '');
      if (w > (widths[i] ?? 0)) widths[i] = w;
    }
  }
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        const w = widths[i] ?? 0;
        const pad = ' '.repeat(Math.max(0, w - visibleWidth(cell)));
        const last = i === cells.length - 1;
        if (columns[i]?.align === 'right') return pad + cell;
        return last ? cell : cell + pad;
      })
      .join(' '.repeat(gap))
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function csvLine(cells: readonly (string | number | null)[]): string {
  return cells.map((c) => csvCell(c === null ? '' : String(c))).join(',');
}
