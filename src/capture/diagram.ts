/**
 * One captured connection drawn as a sequence diagram, in the style of `simulate`
 * (src/sim/sequence-diagram.ts): time, the originator's state, the segment arrows, the
 * responder's state; each transition on its own row with its rule. Also as SVG, in the
 * style of src/diagram/svg.ts. Pure functions: lines or a document out.
 */
import { flagsToTcpdump } from '../core/segment.js';
import { NO_PAINT, type Paint } from '../sim/sequence-diagram.js';
import type { ConnectionRecord, SegmentLogEntry, TimelineEntry } from './connection.js';

const TIME_W = 10;
const SIDE_W = 22;
const MID_W = 46;

function pad(text: string, visible: number, width: number, right = false): string {
  const space = ' '.repeat(Math.max(0, width - visible));
  return right ? space + text : text + space;
}

export function captureSegmentLabel(s: SegmentLogEntry): string {
  const flags = flagsToTcpdump(s.flags);
  const seq = s.len > 0 ? `seq ${s.seq}:${s.seq + s.len}` : `seq ${s.seq}`;
  const ack = flags.includes('.') ? ` ack ${s.ack}` : '';
  const win = flags.includes('R') ? '' : ` win ${s.window}`;
  return `${flags} ${seq}${ack}${win}`;
}

function arrow(label: string, rightwards: boolean): string {
  const fill = Math.max(2, MID_W - label.length - 3);
  return rightwards ? `${label} ${'─'.repeat(fill)}▶` : `◀${'─'.repeat(fill)} ${label}`;
}

interface Row {
  readonly at: number;
  readonly order: number;
  readonly a: string;
  readonly aw: number;
  readonly mid: string;
  readonly midw: number;
  readonly b: string;
  readonly bw: number;
}

function endpointText(r: ConnectionRecord, side: 'orig' | 'resp'): string {
  const e = side === 'orig' ? r.originator : r.responder;
  return r.family === 'ipv6' ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** ms since the connection's start, with 3 decimals. */
function rel(at: number, start: number): string {
  return ((at - start) * 1000).toFixed(3);
}

export function renderConnectionDiagram(
  r: ConnectionRecord,
  log: readonly SegmentLogEntry[],
  timeline: readonly TimelineEntry[],
  paint: Paint = NO_PAINT,
): string[] {
  const rows: Row[] = [];
  let order = 0;
  for (const s of log) {
    const text = arrow(captureSegmentLabel(s), s.fromOrig);
    rows.push({ at: s.at, order: order++ * 2, a: '', aw: 0, mid: text, midw: text.length, b: '', bw: 0 });
  }
  for (const t of timeline) {
    const text = `→ ${t.to}`;
    const why = `(${t.rule}${t.inferred ? ', inferred' : ''})`;
    // Transitions caused by packet n go right after that packet's row.
    const o = rowOrder(t, log);
    const painted = paint.bold(paint.green(text));
    const midText = t.side === 'orig' ? why : pad(why, why.length, MID_W, true);
    rows.push({
      at: t.at,
      order: o,
      a: t.side === 'orig' ? painted : '',
      aw: t.side === 'orig' ? text.length : 0,
      mid: paint.dim(midText),
      midw: t.side === 'orig' ? why.length : MID_W,
      b: t.side === 'resp' ? painted : '',
      bw: t.side === 'resp' ? text.length : 0,
    });
  }
  rows.sort((x, y) => x.order - y.order);
  const lines: string[] = [];
  const header =
    pad('ms', 2, TIME_W - 1, true) + ' │ ' + pad(`orig ${endpointText(r, 'orig')}`, 5 + endpointText(r, 'orig').length, SIDE_W) + ' │ ' + pad('', 0, MID_W) + ' │ ' + `resp ${endpointText(r, 'resp')}`;
  lines.push(paint.bold(header));
  for (const row of rows) {
    const time = rel(row.at, r.start);
    lines.push(pad(time, time.length, TIME_W - 1, true) + ' │ ' + pad(row.a, row.aw, SIDE_W) + ' │ ' + pad(row.mid, row.midw, MID_W) + ' │ ' + row.b);
  }
  lines.push('');
  lines.push(`final: orig ${paint.bold(r.states.orig)}, resp ${paint.bold(r.states.resp)}  ${paint.dim(`(zeek ${r.zeek.connState} ${r.zeek.history}, completeness ${r.completeness})`)}`);
  return lines.map((l) => l.replace(/\s+$/, ''));
}

/**
 * Where a transition row goes: right after the packet that caused it; a timer's after the
 * last packet before its time. Rows of one packet keep their order (stable sort).
 */
function rowOrder(t: TimelineEntry, log: readonly SegmentLogEntry[]): number {
  if (t.packet > 0) return (t.packet - 1) * 2 + 1;
  let n = 0;
  while (n < log.length && (log[n] as SegmentLogEntry).at <= t.at) n++;
  return n * 2 - 0.5;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The same diagram as a self-contained SVG: two lifelines, one arrow per segment, states beside them. */
export function renderConnectionSvg(r: ConnectionRecord, log: readonly SegmentLogEntry[], timeline: readonly TimelineEntry[]): string {
  const ROW = 28;
  const LEFT = 260;
  const RIGHT = 760;
  const TOP = 90;
  type Item = { kind: 'seg'; s: SegmentLogEntry; order: number } | { kind: 'state'; t: TimelineEntry; order: number };
  const items: Item[] = [];
  log.forEach((s, i) => items.push({ kind: 'seg', s, order: i * 2 }));
  timeline.forEach((t) => items.push({ kind: 'state', t, order: rowOrder(t, log) }));
  items.sort((a, b) => a.order - b.order);
  const height = TOP + items.length * ROW + 60;
  const width = 1020;
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`);
  out.push(`  <title>TCP connection ${r.id}: ${esc(endpointText(r, 'orig'))} → ${esc(endpointText(r, 'resp'))}, generated by tcpstate capture</title>`);
  out.push('  <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333333"/></marker></defs>');
  out.push(`  <rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`  <text x="${LEFT}" y="40" text-anchor="middle" font-size="14" font-weight="bold">orig ${esc(endpointText(r, 'orig'))}</text>`);
  out.push(`  <text x="${RIGHT}" y="40" text-anchor="middle" font-size="14" font-weight="bold">resp ${esc(endpointText(r, 'resp'))}</text>`);
  out.push(`  <line x1="${LEFT}" y1="60" x2="${LEFT}" y2="${height - 40}" stroke="#334466" stroke-width="2"/>`);
  out.push(`  <line x1="${RIGHT}" y1="60" x2="${RIGHT}" y2="${height - 40}" stroke="#334466" stroke-width="2"/>`);
  items.forEach((it, i) => {
    const y = TOP + i * ROW;
    if (it.kind === 'seg') {
      const s = it.s;
      const [x1, x2] = s.fromOrig ? [LEFT, RIGHT] : [RIGHT, LEFT];
      const colour = s.flags & 0x04 ? '#c0392b' : '#333333';
      out.push(`  <text x="20" y="${y + 4}" font-size="11" fill="#666666">${rel(s.at, r.start)} ms</text>`);
      out.push(`  <line class="segment" x1="${x1}" y1="${y}" x2="${x2}" y2="${y + ROW * 0.6}" stroke="${colour}" stroke-width="1.4" marker-end="url(#arrow)"/>`);
      out.push(`  <text x="${(LEFT + RIGHT) / 2}" y="${y + 4}" text-anchor="middle" font-size="11" fill="${colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${esc(captureSegmentLabel(s))}</text>`);
    } else {
      const t = it.t;
      const x = t.side === 'orig' ? LEFT - 12 : RIGHT + 12;
      const anchor = t.side === 'orig' ? 'end' : 'start';
      out.push(`  <text class="state" data-state="${t.to}" x="${x}" y="${y + 4}" text-anchor="${anchor}" font-size="12" font-weight="bold" fill="#1e7d32">${esc(t.to)}<tspan font-weight="normal" fill="#666666" font-size="10"> (${esc(t.rule)})</tspan></text>`);
    }
  });
  out.push(`  <text x="${width / 2}" y="${height - 15}" text-anchor="middle" font-size="12">final: orig ${esc(r.states.orig)}, resp ${esc(r.states.resp)}; zeek ${esc(r.zeek.connState)} ${esc(r.zeek.history)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
