/**
 * /proc/net/tcp and /proc/net/tcp6 text (net/ipv4/tcp_ipv4.c get_tcp4_sock,
 * get_timewait4_sock, get_openreq4; net/ipv6/tcp_ipv6.c get_tcp6_sock and friends):
 *
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ...
 *    0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 ...
 *
 * Addresses are the kernel's in-memory words printed with %08X, so each 32-bit word is in
 * host byte order; ports are hex; `st` is the Linux state number; `tm->when` is in clock_t
 * (USER_HZ = 100 on every Linux ABI, 10 ms); `timeout` is icsk_probes_out.
 *
 * Parsed straight from the bytes (no string per line, no regex). A malformed line is
 * skipped and reported as a {@link ProcLineIssue} naming its line and column; the good
 * lines around it are still delivered.
 *
 * Limitations: for LISTEN the kernel prints tx_queue = 0 here (inet_diag reports the
 * backlog instead), so a record from this file has sendQueue 0 for listeners. Request
 * sockets (get_openreq4) appear with st 03 and inode 0 as in inet_diag, but with the
 * listener's uid (inet_diag: 0) and num_timeout as retransmissions (inet_diag:
 * num_retrans). Timer expiry has 10 ms resolution and is clamped at 0 when overdue.
 */
import { TcpstateError } from '../core/errors.js';
import { stateFromLinux } from '../core/states.js';
import type { Family, SocketRecord, SocketTimer } from '../records/socket.js';
import { ipv4Text, ipv6Text, timerKind } from './inet-diag.js';

/** clock_t ticks per second for /proc (USER_HZ); 100 on all Linux ABIs. */
export const USER_HZ = 100;
const MS_PER_TICK = 1000 / USER_HZ;

/** One malformed line: 1-based line and column, and what was expected there. */
export interface ProcLineIssue {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export class ProcParseError extends TcpstateError {
  readonly issues: readonly ProcLineIssue[];

  constructor(file: string, issues: readonly ProcLineIssue[]) {
    const first = issues[0];
    const where = first === undefined ? '' : `${file}:${first.line}:${first.column}: ${first.message}`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more malformed line(s))` : '';
    super('E_PROC_PARSE', `cannot parse ${where}${more}; the other lines were read. Use --source sock-diag, or report the line with uname -r`);
    this.name = 'ProcParseError';
    this.issues = issues;
  }
}

const SP = 0x20;
const TAB = 0x09;
const NL = 0x0a;
const COLON = 0x3a;

/** Value of a hex digit byte, or -1. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

class LineError extends Error {
  constructor(
    readonly at: number,
    readonly what: string,
  ) {
    super(what);
  }
}

/** Cursor-based reader over one file's bytes; `pos` moves, `lineStart` is the current line's offset. */
class Reader {
  pos = 0;
  lineStart = 0;
  constructor(readonly b: Uint8Array, readonly end: number) {}

  skipSpaces(): void {
    const b = this.b;
    let p = this.pos;
    while (p < this.end && (b[p] === SP || b[p] === TAB)) p++;
    this.pos = p;
  }

  /** Reads exactly `n` hex digits as an unsigned number (n ≤ 8). */
  hexFixed(n: number, what: string): number {
    const b = this.b;
    const p = this.pos;
    if (p + n > this.end) throw new LineError(p, `expected ${n} hex digits for ${what}`);
    let v = 0;
    for (let i = 0; i < n; i++) {
      const d = HEX[b[p + i] ?? 0] ?? -1;
      if (d < 0) throw new LineError(p + i, `expected a hex digit in ${what}`);
      v = v * 16 + d;
    }
    this.pos = p + n;
    return v;
  }

  /** Reads one or more hex digits (at most 16) as a number. */
  hexVar(what: string): number {
    const b = this.b;
    const start = this.pos;
    let p = start;
    let v = 0;
    while (p < this.end) {
      const d = HEX[b[p] ?? 0] ?? -1;
      if (d < 0) break;
      v = v * 16 + d;
      p++;
    }
    if (p === start || p - start > 16) throw new LineError(start, `expected hex digits for ${what}`);
    this.pos = p;
    return v;
  }

  /** Reads an optionally negative decimal integer. */
  dec(what: string): number {
    const b = this.b;
    const start = this.pos;
    let p = start;
    let neg = false;
    if (b[p] === 0x2d) {
      neg = true;
      p++;
    }
    const digits = p;
    let v = 0;
    while (p < this.end) {
      const c = b[p] ?? 0;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      p++;
    }
    if (p === digits) throw new LineError(start, `expected a decimal number for ${what}`);
    this.pos = p;
    return neg ? -v : v;
  }

  expect(c: number, what: string): void {
    if (this.b[this.pos] !== c) throw new LineError(this.pos, `expected "${String.fromCharCode(c)}" ${what}`);
    this.pos++;
  }

  /** The next field must be separated from the previous one by at least one space. */
  gap(what: string): void {
    const p = this.pos;
    this.skipSpaces();
    if (this.pos === p || this.pos >= this.end || this.b[this.pos] === NL) {
      throw new LineError(this.pos, `expected ${what}`);
    }
  }

  toLineEnd(): void {
    const b = this.b;
    let p = this.pos;
    while (p < this.end && b[p] !== NL) p++;
    this.pos = p;
  }
}

/** 16 network-order bytes, reused for every IPv6 address. */
const scratch16 = new Uint8Array(16);
const scratchView = new DataView(scratch16.buffer);

/**
 * Parses the whole text of /proc/net/tcp (family 'ipv4') or /proc/net/tcp6 ('ipv6') from
 * `bytes[0, length)`, visiting each socket whose Linux state bit is set in `stateMask`.
 * The header line is skipped. Returns the malformed lines (skipped; normally none).
 * `littleEndian` is the byte order of the host that wrote the file (default: this host).
 */
export function parseProcNetTcp(
  bytes: Uint8Array,
  length: number,
  family: Family,
  stateMask: number,
  visit: (r: SocketRecord) => void,
  littleEndian: boolean = HOST_LE,
): ProcLineIssue[] {
  const issues: ProcLineIssue[] = [];
  const r = new Reader(bytes, Math.min(length, bytes.length));
  let lineNo = 1;
  // Header line.
  r.toLineEnd();
  r.pos++;
  while (r.pos < r.end) {
    lineNo++;
    r.lineStart = r.pos;
    r.skipSpaces();
    if (r.pos >= r.end) break;
    if (bytes[r.pos] === NL) {
      r.pos++;
      continue; // blank line
    }
    try {
      const rec = parseLine(r, family, stateMask, littleEndian);
      if (rec !== null) visit(rec);
      r.toLineEnd();
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      issues.push({ line: lineNo, column: e.at - r.lineStart + 1, message: e.what });
      r.pos = e.at;
      r.toLineEnd();
    }
    r.pos++;
  }
  return issues;
}

function parseLine(r: Reader, family: Family, stateMask: number, le: boolean): SocketRecord | null {
  // sl
  r.dec('the slot number (sl)');
  r.expect(COLON, 'after the slot number');
  r.gap('the local address');
  // Addresses: parsed before the state so a bad line is reported whatever its state.
  const la = addr(r, family, le, 'local address');
  r.expect(COLON, 'between local address and port');
  const lport = r.hexFixed(4, 'the local port');
  r.gap('the remote address');
  const ra = addr(r, family, le, 'remote address');
  r.expect(COLON, 'between remote address and port');
  const rport = r.hexFixed(4, 'the remote port');
  r.gap('the state (st)');
  const stAt = r.pos;
  const linuxState = r.hexFixed(2, 'the state (st)');
  const state = stateFromLinux(linuxState);
  if (state === undefined) throw new LineError(stAt, `unknown state number ${linuxState}`);
  if (((stateMask >>> linuxState) & 1) === 0) return null;
  r.gap('tx_queue:rx_queue');
  const tx = r.hexFixed(8, 'tx_queue');
  r.expect(COLON, 'between tx_queue and rx_queue');
  const rx = r.hexFixed(8, 'rx_queue');
  r.gap('tr:tm->when');
  const trAt = r.pos;
  const tr = r.hexFixed(2, 'the timer (tr)');
  r.expect(COLON, 'between tr and tm->when');
  const when = r.hexVar('tm->when');
  r.gap('retrnsmt');
  const retrnsmt = r.hexFixed(8, 'retrnsmt');
  r.gap('uid');
  const uid = r.dec('uid');
  r.gap('timeout');
  const probes = r.dec('timeout');
  r.gap('inode');
  const inode = r.dec('inode');
  let timer: SocketTimer | null = null;
  if (tr !== 0) {
    const kind = timerKind(tr);
    if (kind === null) throw new LineError(trAt, `unknown timer kind ${tr}`);
    // Like inet_diag: retransmissions for "on", probes for keepalive and persist.
    const n = kind === 'keepalive' || kind === 'persist' ? probes : kind === 'timewait' ? 0 : retrnsmt;
    timer = { kind, expiresMs: when * MS_PER_TICK, retransmits: n };
  }
  return {
    state,
    linuxState,
    family,
    local: { address: la, port: lport },
    remote: { address: ra, port: rport },
    recvQueue: rx,
    sendQueue: tx,
    uid,
    inode,
    timer,
    netns: null,
    process: null,
    info: null,
  };
}

function addr(r: Reader, family: Family, le: boolean, what: string): string {
  if (family === 'ipv4') return ipv4Text(word(r, le, what));
  for (let i = 0; i < 4; i++) scratchView.setUint32(i * 4, word(r, le, what), false);
  return ipv6Text(scratchView, 0);
}

/** One %08X word of an address, returned as the network-order u32 it stands for. */
function word(r: Reader, le: boolean, what: string): number {
  const v = r.hexFixed(8, `the ${what}`);
  if (!le) return v;
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
