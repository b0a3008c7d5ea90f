/**
 * Renders a simulation as a two-column sequence diagram: time, endpoint a, the segment
 * arrows between them, endpoint b. Pure: returns lines; colour functions are passed in.
 */
import type { SimResult, SimSegment } from './simulator.js';

export interface Paint {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
}

export const NO_PAINT: Paint = {
  bold: (s) => s,
  dim: (s) => s,
  red: (s) => s,
  green: (s) => s,
  yellow: (s) => s,
  cyan: (s) => s,
};

const TIME_W = 8;
const SIDE_W = 20;
const MID_W = 44;

interface Row {
  readonly at: number;
  /** The simulator's global order, for events at the same instant. */
  readonly order: number;
  readonly a: string;
  readonly mid: string;
  readonly b: string;
  /** Visible widths (text may carry colour codes). */
  readonly aw: number;
  readonly midw: number;
  readonly bw: number;
}

function pad(text: string, visible: number, width: number, right = false): string {
  const space = ' '.repeat(Math.max(0, width - visible));
  return right ? space + text : text + space;
}

/** `S. seq 0 ack 1 win 65535`, `P. seq 1:1001 ack 1 win 65535` */
export function segmentLabel(s: SimSegment): string {
  const seq = s.len > 0 ? `seq ${s.seq}:${s.seq + s.len}` : `seq ${s.seq}`;
  const ack = s.flags.includes('.') ? ` ack ${s.ack}` : '';
  const win = s.flags.includes('R') ? '' : ` win ${s.window}`;
  return `${s.flags} ${seq}${ack}${win}`;
}

function arrow(label: string, rightwards: boolean, dropped: boolean, injected: boolean): string {
  const tag = injected ? 'injected ' : '';
  const text = `${tag}${label}`;
  const fill = Math.max(2, MID_W - text.length - 3);
  if (rightwards) return dropped ? `${text} ${'─'.repeat(fill - 1)}✕ ` : `${text} ${'─'.repeat(fill)}▶`;
  return dropped ? ` ✕${'─'.repeat(fill - 1)} ${text}` : `◀${'─'.repeat(fill)} ${text}`;
}

export function renderSequenceDiagram(result: SimResult, description: string, paint: Paint = NO_PAINT): string[] {
  const rows: Row[] = [];
  const push = (at: number, order: number, side: 'a' | 'b' | 'mid', text: string, visible: number, mid = '', midw = 0) => {
    rows.push({
      at,
      order,
      a: side === 'a' ? text : '',
      b: side === 'b' ? text : '',
      aw: side === 'a' ? visible : 0,
      bw: side === 'b' ? visible : 0,
      mid: side === 'mid' ? text : mid,
      midw: side === 'mid' ? visible : midw,
    });
  };

  for (const c of result.calls) {
    const t = `${c.call}()${c.detail ? ` ${c.detail}` : ''}`;
    push(c.at, c.order, c.endpoint, paint.cyan(t), t.length);
  }
  for (const s of result.segments) {
    const text = arrow(segmentLabel(s), s.from === 'a', s.dropped, s.injected);
    const painted = s.dropped ? paint.red(text) : s.injected ? paint.yellow(text) : text;
    const sender = s.injected ? '' : paint.dim(s.senderState);
    const senderW = s.injected ? 0 : s.senderState.length;
    rows.push({
      at: s.at,
      order: s.order,
      a: s.from === 'a' ? sender : '',
      aw: s.from === 'a' ? senderW : 0,
      b: s.from === 'b' ? sender : '',
      bw: s.from === 'b' ? senderW : 0,
      mid: painted,
      midw: text.length,
    });
  }
  for (const t of result.transitions) {
    const text = `→ ${t.to}`;
    const why = `(${t.event})`;
    const mid = t.endpoint === 'a' ? why : pad(why, why.length, MID_W, true);
    push(t.at, t.order, t.endpoint, paint.bold(paint.green(text)), text.length, paint.dim(mid), t.endpoint === 'a' ? why.length : MID_W);
  }
  for (const no of result.notifications) {
    if (no.what === 'data' || no.what === 'established') continue;
    const text = `! ${no.what}`;
    push(no.at, no.order, no.endpoint, paint.yellow(text), text.length);
  }
  rows.sort((x, y) => x.at - y.at || x.order - y.order);

  const lines: string[] = [];
  lines.push(paint.bold(`${result.name}`) + paint.dim(`  (profile ${result.profile}, one-way delay ${result.delayMs} ms)`));
  if (description !== '') lines.push(description);
  lines.push('');
  const header =
    pad('ms', 2, TIME_W - 1, true) +
    ' │ ' +
    pad('a', 1, SIDE_W) +
    ' │ ' +
    pad('', 0, MID_W) +
    ' │ ' +
    'b';
  lines.push(paint.bold(header));
  for (const r of rows) {
    const time = String(r.at);
    lines.push(
      pad(time, time.length, TIME_W - 1, true) +
        ' │ ' +
        pad(r.a, r.aw, SIDE_W) +
        ' │ ' +
        pad(r.mid, r.midw, MID_W) +
        ' │ ' +
        r.b,
    );
  }
  lines.push('');
  const end = result.truncated
    ? `stopped at the time limit, ${result.endMs} ms, with timers still running`
    : `nothing pending after ${result.endMs} ms`;
  lines.push(`final: a ${paint.bold(result.final.a)}, b ${paint.bold(result.final.b)}  ${paint.dim(`(${end})`)}`);
  return lines.map((l) => l.replace(/\s+$/, ''));
}
