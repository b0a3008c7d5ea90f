/**
 * Text rendering of lab runs: the sequence diagram (the kernel on the left, the peer on
 * the right, in the style of `simulate`), the kernel socket line, and the `lab all` table.
 * Pure: returns lines; colours come from the caller.
 */
import { STATE_INFO } from '../core/states.js';
import { TEXTS_EN } from '../explain/texts-en.js';
import type { SocketRecord } from '../records/socket.js';
import { NO_PAINT, type Paint } from '../sim/sequence-diagram.js';
import type { LabSegment } from './peer.js';
import type { StateRunResult } from './run.js';

const TIME_W = 8;
const SIDE_W = 26;
const MID_W = 56;

interface Row {
  readonly at: number;
  readonly order: number;
  readonly k: string;
  readonly kw: number;
  readonly mid: string;
  readonly midw: number;
  readonly p: string;
  readonly pw: number;
}

function pad(text: string, visible: number, width: number, right = false): string {
  const space = ' '.repeat(Math.max(0, width - visible));
  return right ? space + text : text + space;
}

/** Options without timestamp values: `mss 1460,sackOK,TS,wscale 10`. */
function shortOptions(options: string): string {
  return options.replace(/TS val \d+ ecr \d+/, 'TS');
}

export function labSegmentLabel(s: LabSegment): string {
  const seq = s.len > 0 ? `seq ${s.seq}:${s.seq + s.len}` : `seq ${s.seq}`;
  const ack = s.flags.includes('.') ? ` ack ${s.ack}` : '';
  const win = s.flags.includes('R') ? '' : ` win ${s.window}`;
  const opt = s.options !== '' ? ` <${shortOptions(s.options)}>` : '';
  return `${s.flags} ${seq}${ack}${win}${opt}`;
}

function arrow(label: string, rightwards: boolean, withheld: boolean): string {
  const text = withheld ? `${label} (withheld)` : label;
  const fill = Math.max(2, MID_W - text.length - 3);
  if (rightwards) return `${text} ${'─'.repeat(fill)}▶`;
  return withheld ? ` ✕${'─'.repeat(fill - 1)} ${text}` : `◀${'─'.repeat(fill)} ${text}`;
}

function fmtMs(at: number): string {
  return at.toFixed(1);
}

export function renderLabDiagram(r: StateRunResult, paint: Paint = NO_PAINT): string[] {
  const rows: Row[] = [];
  for (const c of r.kernelCalls) {
    const t = c.result === '0' || /^\d+$/.test(c.result) ? `${c.call} = ${c.result}` : `${c.call} = ${c.result}`;
    rows.push({ at: c.at, order: c.order, k: paint.cyan(t), kw: t.length, mid: '', midw: 0, p: '', pw: 0 });
  }
  for (const o of r.kernelStates) {
    const t = o.state === null ? '(no socket)' : `= ${STATE_INFO[o.state].ss}`;
    rows.push({ at: o.at, order: o.order, k: paint.bold(paint.green(t)), kw: t.length, mid: paint.dim('(read by the snapshot)'), midw: 22, p: '', pw: 0 });
  }
  for (const e of r.peerEvents) {
    const painted = e.kind === 'state' ? paint.bold(paint.green(e.text)) : e.kind === 'call' ? paint.cyan(e.text) : paint.yellow(e.text);
    rows.push({ at: e.at, order: e.order, k: '', kw: 0, mid: '', midw: 0, p: painted, pw: e.text.length });
  }
  for (const s of r.segments) {
    const text = arrow(labSegmentLabel(s), s.from === 'kernel', s.withheld);
    const painted = s.withheld ? paint.red(text) : s.note === 'no answer' ? paint.yellow(text) : text;
    const note = s.note === 'no answer' ? paint.dim('(no answer)') : '';
    rows.push({ at: s.at, order: s.order, k: '', kw: 0, mid: painted, midw: text.length, p: note, pw: note === '' ? 0 : 11 });
  }
  rows.sort((a, b) => a.order - b.order);
  const lines: string[] = [];
  const header = pad('ms', 2, TIME_W - 1, true) + ' │ ' + pad('kernel (10.200.0.1)', 19, SIDE_W) + ' │ ' + pad('', 0, MID_W) + ' │ ' + 'peer (10.201.0.x, our endpoint)';
  lines.push(paint.bold(header));
  for (const row of rows) {
    const time = fmtMs(row.at);
    // A long kernel call spills into the middle column when that row has no arrow.
    const left = row.kw > SIDE_W && row.midw === 0 ? row.k + ' '.repeat(Math.max(1, SIDE_W + 3 + MID_W - row.kw)) : pad(row.k, row.kw, SIDE_W) + ' │ ' + pad(row.mid, row.midw, MID_W);
    lines.push(pad(time, time.length, TIME_W - 1, true) + ' │ ' + left + ' │ ' + row.p);
  }
  return lines.map((l) => l.replace(/\s+$/, ''));
}

export function socketLine(s: SocketRecord): string {
  const timer = s.timer === null ? '' : `  timer:(${s.timer.kind},${(s.timer.expiresMs / 1000).toFixed(1)}s,${s.timer.retransmits})`;
  return (
    `${STATE_INFO[s.state].ss.padEnd(11)} ${String(s.recvQueue).padStart(6)} ${String(s.sendQueue).padStart(6)}  ` +
    `${s.local.address}:${s.local.port}  ${s.remote.address}:${s.remote.port}${timer}`
  );
}

export function renderStateRun(r: StateRunResult, paint: Paint = NO_PAINT): string[] {
  const lines: string[] = [];
  const info = STATE_INFO[r.state];
  const verdict = r.reproduced ? paint.green('reproduced') : paint.red(`not reproduced: ${r.failure ?? ''}`);
  lines.push(`${paint.bold(info.display)} on the real kernel — ${verdict} in ${r.ms} ms ${paint.dim(`(namespace ${r.namespace})`)}`);
  lines.push(paint.dim(`how: ${r.how}`));
  lines.push('');
  lines.push(...renderLabDiagram(r, paint));
  lines.push('');
  lines.push(paint.bold('the kernel socket, as the snapshot reads it:'));
  lines.push(paint.dim(`${'State'.padEnd(11)} ${'Recv-Q'.padStart(6)} ${'Send-Q'.padStart(6)}  Local  Peer`));
  if (r.socket !== null) {
    lines.push(socketLine(r.socket));
    if (r.state === 'SYN_RECEIVED') {
      lines.push(paint.dim('(a request socket of the listener: no inode, no process; inet_diag reports it as SYN_RECV)'));
    }
  } else {
    lines.push(paint.dim('(no socket: port 7001 has no socket, so the kernel answered the SYN with RST,ACK)'));
  }
  lines.push('');
  lines.push(`${paint.bold(info.display)}: ${TEXTS_EN[r.state].summary}`);
  lines.push(paint.dim(`more: tcpstate explain ${r.state.toLowerCase().replaceAll('_', '-')}`));
  return lines;
}

export function renderAllTable(results: readonly StateRunResult[], paint: Paint = NO_PAINT): string[] {
  const lines = [paint.bold(`${'state'.padEnd(14)} ${'reproduced'.padEnd(11)} ${'ms'.padStart(6)}  kernel socket`)];
  for (const r of results) {
    const yes = r.reproduced ? paint.green('yes'.padEnd(11)) : paint.red('NO'.padEnd(11));
    const what = r.socket !== null ? `${STATE_INFO[r.socket.state].ss} ${r.socket.local.address}:${r.socket.local.port} ${r.socket.remote.address}:${r.socket.remote.port}` : r.reproduced ? 'none (RST seen)' : (r.failure ?? '');
    lines.push(`${r.state.padEnd(14)} ${yes} ${String(r.ms).padStart(6)}  ${what}`);
  }
  const n = results.filter((r) => r.reproduced).length;
  lines.push('');
  lines.push(`${n} of ${results.length} states reproduced`);
  return lines;
}

/** The JSON document of one run: `{ state, reproduced, namespace, socket, segments, ms, ... }`. */
export function stateRunJson(r: StateRunResult): object {
  return {
    state: r.state,
    reproduced: r.reproduced,
    namespace: r.namespace,
    socket: r.socket,
    segments: r.segments,
    ms: r.ms,
    how: r.how,
    failure: r.failure,
    kernelCalls: r.kernelCalls,
    peerEvents: r.peerEvents,
    kernelStates: r.kernelStates,
  };
}
