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

const SPACE_CACHE: string[] = Array.from({ length: 65 }, (_, i) => ' '.repeat(i));

function spaces(n: number): string {
  return n <= 0 ? '' : (SPACE_CACHE[n] ?? ' '.repeat(n));
}

/** Output is written in pieces of about this many characters. */
const CHUNK = 64 * 1024;

/** A column of {@link writeRows}: how to print a row's cell, and optionally its visible width without printing it. */
export interface RowColumn<T> extends Column {
  text(row: T): string;
  /** Must equal `visibleWidth(text(row))`; saves making the cell twice. */
  width?(row: T): number;
}

/**
 * {@link renderTable} for large tables, streamed: the same lines renderTable would return
 * for these rows' cells, each followed by a newline, written to `write` in chunks of about
 * 64 KiB. Widths come from a first pass (each column's `width`, else the visible width of
 * its text, which is dropped at once); cells are made again, line by line, in the second.
 * Neither the cells, nor the padded cells, nor the whole text are ever held at once.
 */
export function writeRows<T>(columns: readonly RowColumn<T>[], rows: readonly T[], write: (chunk: string) => void, gap = 2): void {
  const n = columns.length;
  const widths = columns.map((c) => c.header.length);
  for (let c = 0; c < n; c++) {
    const col = columns[c] as RowColumn<T>;
    let w = widths[c] as number;
    if (col.width !== undefined) {
      for (const r of rows) {
        const x = col.width(r);
        if (x > w) w = x;
      }
    } else {
      for (const r of rows) {
        const x = visibleWidth(col.text(r));
        if (x > w) w = x;
      }
    }
    widths[c] = w;
  }
  const right = columns.map((c) => c.align === 'right');
  const sep = spaces(gap);
  const last = n - 1;
  let head = '';
  for (let c = 0; c < n; c++) {
    const h = (columns[c] as RowColumn<T>).header;
    const pad = spaces((widths[c] as number) - visibleWidth(h));
    if (c > 0) head += sep;
    head += right[c] === true ? pad + h : c === last ? h : h + pad;
  }
  let chunk = head.trimEnd() + '\n';
  for (const r of rows) {
    let line = '';
    let lastCell = '';
    for (let c = 0; c < n; c++) {
      const col = columns[c] as RowColumn<T>;
      const cell = col.text(r);
      lastCell = cell;
      if (c > 0) line += sep;
      if (c === last && right[c] !== true) {
        line += cell;
      } else {
        const pad = spaces((widths[c] as number) - (col.width !== undefined ? col.width(r) : visibleWidth(cell)));
        line += right[c] === true ? pad + cell : cell + pad;
      }
    }
    // trimEnd, skipped when the last cell plainly ends in a visible character (the usual case).
    const tail = lastCell.length === 0 ? 0 : lastCell.charCodeAt(lastCell.length - 1);
    chunk += (tail > 32 && tail < 0x7f ? line : line.trimEnd()) + '\n';
    if (chunk.length >= CHUNK) {
      write(chunk);
      chunk = '';
    }
  }
  if (chunk.length > 0) write(chunk);
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function csvLine(cells: readonly (string | number | null)[]): string {
  return cells.map((c) => csvCell(c === null ? '' : String(c))).join(',');
}
