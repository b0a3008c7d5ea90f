/**
 * Human output of `tcpstate doctor`: a header, then per finding its severity and title,
 * the evidence as small aligned tables, and the advice as a list.
 */
import type { Colours } from '../cli/output.js';
import type { Diagnosis } from './engine.js';
import type { DoctorTexts } from './texts-en.js';
import type { EvidenceTable, Severity } from './types.js';

/** Terminal columns of a string: CJK and full-width characters take two. */
export function width(text: string): number {
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    w += (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) ? 2 : 1;
  }
  return w;
}

function pad(text: string, w: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, w - width(text)));
  return right ? fill + text : text + fill;
}

/** A small aligned table; numeric-looking cells are right-aligned. */
export function renderTable(t: EvidenceTable, indent: string, paint: Colours): string[] {
  const cols = t.columns.length;
  const cells = t.rows.map((r) => Array.from({ length: cols }, (_, i) => String(r[i] ?? '')));
  const widths = Array.from({ length: cols }, (_, i) => Math.max(width(t.columns[i] ?? ''), ...cells.map((r) => width(r[i] ?? ''))));
  const numeric = Array.from({ length: cols }, (_, i) => i > 0 && cells.every((r) => /^[≈+-]?[\d,.]+( ?[%A-Za-z]+)?$|^$|^\?$/.test(r[i] ?? '')));
  const line = (r: readonly string[]): string =>
    (indent + r.map((c, i) => pad(c, widths[i] ?? 0, numeric[i] ?? false)).join('  ')).trimEnd();
  // A measure/value table reads on its own; other tables get their title and column heads.
  if (t.columns[0] === 'measure' && t.columns[1] === 'value') return cells.map(line);
  const inner = indent + '  ';
  const lineIn = (r: readonly string[]): string => inner + line(r).slice(indent.length);
  return [`${indent}${t.title}:`, paint.dim(lineIn(t.columns)), ...cells.map(lineIn)];
}

function paintSeverity(s: Severity | 'ok', paint: Colours): (x: string) => string {
  return s === 'critical' ? paint.red : s === 'warning' ? paint.yellow : s === 'info' ? paint.cyan : paint.green;
}

export function renderDiagnosis(
  d: Diagnosis,
  ctx: { sockets: number; where: string },
  texts: DoctorTexts,
  paint: Colours,
): string[] {
  const lines: string[] = [];
  lines.push(paint.bold(texts.ui.header({ findings: d.findings.length, sockets: ctx.sockets, rules: d.checked.length, sampled: d.sampledSeconds, where: ctx.where })));
  if (d.findings.length === 0) {
    lines.push('', paint.green(texts.ui.allClear));
    return lines;
  }
  for (const f of d.findings) {
    lines.push('');
    const label = texts.ui.severity[f.severity];
    lines.push(`${paintSeverity(f.severity, paint)(paint.bold(label))} ${paint.bold(f.rule)}: ${f.title}`);
    lines.push(`  ${texts.ui.evidence}`);
    for (const t of f.evidence.tables) lines.push(...renderTable(t, '    ', paint));
    lines.push(`  ${texts.ui.advice}`);
    for (const a of f.advice) lines.push(`    - ${a}`);
  }
  return lines;
}
