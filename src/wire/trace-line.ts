/**
 * Parses one line of a tracefs `trace_pipe` for the three TCP tracepoints tcpstate uses.
 * Pure: no I/O, no clock; positions are found with indexOf and fixed field order, never a
 * per-line regular expression.
 *
 * The line is the ftrace default output (kernel/trace/trace_output.c, print_trace_fmt):
 *
 * ```
 *          python3-14169   [001] ..s2.  2695.476505: inet_sock_set_state: family=AF_INET ...
 * <comm>-<pid>             [cpu] flags  seconds.usecs: <event>: <body from print fmt>
 * ```
 *
 * The comm may hold spaces and dashes, so the header is read backwards from the event name.
 * Bodies follow each event's `print fmt` (events/<group>/<event>/format), checked against
 * the running kernel by {@link checkEventFormat} before any line is read:
 *
 * - sock/inet_sock_set_state: `family=%s protocol=%s sport=%hu dport=%hu saddr=%pI4
 *   daddr=%pI4 saddrv6=%pI6c daddrv6=%pI6c oldstate=%s newstate=%s`
 * - tcp/tcp_send_reset: `skbaddr=%p skaddr=%p src=%pISpc dest=%pISpc state=%s reason=%s`
 * - tcp/tcp_receive_reset: `family=%s sport=%hu dport=%hu saddr=%pI4 daddr=%pI4
 *   saddrv6=%pI6c daddrv6=%pI6c sock_cookie=%llx`
 *
 * State names are the kernel's (`TCP_SYN_RECV`, `TCP_NEW_SYN_RECV`, ...), mapped to the Linux
 * numbers of include/net/tcp_states.h; `state=UNKNOWN` (a reset sent with no socket) is 0.
 *
 * Two entry points with the same result: {@link parseTraceLine} on a string (returns a new
 * object), and {@link TraceLineParser} on the bytes of a read buffer (the hot path: it fills
 * one reused {@link TraceRecord}, compares bytes in place, parses numbers from bytes, maps
 * state names by a switch, and interns addresses and comms, so a usual line allocates
 * nothing). The byte path reads only the common shape of inet_sock_set_state; any other
 * line (resets, odd headers, unexpected values) goes through {@link parseTraceLine}, so both
 * agree by construction.
 */

export type TraceEventName = 'inet_sock_set_state' | 'tcp_send_reset' | 'tcp_receive_reset';

export type TraceFamily = 'ipv4' | 'ipv6';

/** Fields common to every parsed line. */
interface LineHeader {
  /** The task that was running (may be a softirq thread or an unrelated process). */
  readonly comm: string;
  readonly pid: number;
  readonly cpu: number;
  /** Trace clock time in microseconds (the instance uses the `mono` clock: CLOCK_MONOTONIC). */
  readonly timeUs: number;
  /** The event fired in softirq context (flags column has `s` or `H`): packet processing. */
  readonly softirq: boolean;
}

export interface SetStateLine extends LineHeader {
  readonly event: 'inet_sock_set_state';
  readonly family: TraceFamily;
  readonly protocol: number;
  readonly sport: number;
  readonly dport: number;
  readonly saddr: string;
  readonly daddr: string;
  /** Linux state numbers (1..12). */
  readonly oldstate: number;
  readonly newstate: number;
}

export interface ResetLine extends LineHeader {
  readonly event: 'tcp_send_reset' | 'tcp_receive_reset';
  readonly family: TraceFamily;
  readonly sport: number;
  readonly dport: number;
  readonly saddr: string;
  readonly daddr: string;
  /** Sender's socket state for tcp_send_reset (0: no socket); 0 for tcp_receive_reset. */
  readonly state: number;
  /** tcp_send_reset's reason (`NO_SOCKET`, `TCP_ABORT_ON_CLOSE`, ...); '' otherwise. */
  readonly reason: string;
}

export type TraceLine = SetStateLine | ResetLine;

/** Linux state names as the tracepoints print them, to their numbers. */
export const KERNEL_STATE_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['TCP_ESTABLISHED', 1],
  ['TCP_SYN_SENT', 2],
  ['TCP_SYN_RECV', 3],
  ['TCP_FIN_WAIT1', 4],
  ['TCP_FIN_WAIT2', 5],
  ['TCP_TIME_WAIT', 6],
  ['TCP_CLOSE', 7],
  ['TCP_CLOSE_WAIT', 8],
  ['TCP_LAST_ACK', 9],
  ['TCP_LISTEN', 10],
  ['TCP_CLOSING', 11],
  ['TCP_NEW_SYN_RECV', 12],
  ['TCP_BOUND_INACTIVE', 13],
]);

const PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ['IPPROTO_TCP', 6],
  ['IPPROTO_SCTP', 132],
  ['IPPROTO_MPTCP', 262],
]);

const MARKERS: ReadonlyArray<readonly [string, TraceEventName]> = [
  [': inet_sock_set_state: ', 'inet_sock_set_state'],
  [': tcp_receive_reset: ', 'tcp_receive_reset'],
  [': tcp_send_reset: ', 'tcp_send_reset'],
];

/** The print formats this parser reads, as the format files spell them. */
export const EXPECTED_PRINT_FMT: Readonly<Record<TraceEventName, string>> = {
  inet_sock_set_state:
    'family=%s protocol=%s sport=%hu dport=%hu saddr=%pI4 daddr=%pI4 saddrv6=%pI6c daddrv6=%pI6c oldstate=%s newstate=%s',
  tcp_send_reset: 'skbaddr=%p skaddr=%p src=%pISpc dest=%pISpc state=%s reason=%s',
  tcp_receive_reset: 'family=%s sport=%hu dport=%hu saddr=%pI4 daddr=%pI4 saddrv6=%pI6c daddrv6=%pI6c',
};

/**
 * Checks an event's `format` file text: its `print fmt` must start with the layout this
 * parser reads. Returns null when it does, else a description of the difference.
 */
export function checkEventFormat(event: TraceEventName, formatText: string): string | null {
  const at = formatText.indexOf('print fmt: "');
  if (at < 0) return `${event}: no "print fmt" in the format file`;
  const start = at + 'print fmt: "'.length;
  const end = formatText.indexOf('"', start);
  const fmt = formatText.slice(start, end < 0 ? undefined : end);
  const want = EXPECTED_PRINT_FMT[event];
  if (!fmt.startsWith(want)) return `${event}: print fmt is "${fmt}", expected it to start with "${want}"`;
  return null;
}

/** Value of `key=` at `from` (which must point at the key); returns [value, index after it]. */
function valueAt(line: string, from: number, key: string): [string, number] {
  if (!line.startsWith(key, from)) return ['', -1];
  const vs = from + key.length;
  let ve = line.indexOf(' ', vs);
  if (ve < 0) ve = line.length;
  return [line.slice(vs, ve), ve + 1];
}

function parseDec(text: string): number {
  // Number('') is 0: callers check the key matched before.
  const n = Number(text);
  return Number.isInteger(n) ? n : -1;
}

/** `seconds.micros` to integer microseconds without floating error. */
function parseTimestampUs(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return Number(text) * 1e6;
  const sec = Number(text.slice(0, dot));
  const frac = text.slice(dot + 1);
  const us = frac.length >= 6 ? Number(frac.slice(0, 6)) : Number(frac.padEnd(6, '0'));
  return sec * 1e6 + us;
}

/** `127.0.0.1:80` or `[::1]:80` (%pISpc) → [family, address, port]; null when malformed. */
function parseSockaddr(text: string): [TraceFamily, string, number] | null {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text.charCodeAt(close + 1) !== 58 /* : */) return null;
    return ['ipv6', text.slice(1, close), parseDec(text.slice(close + 2))];
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return null;
  return ['ipv4', text.slice(0, colon), parseDec(text.slice(colon + 1))];
}

/**
 * Parses one trace_pipe line. Returns null for lines that are not one of our events or
 * do not have the expected shape (callers count those; they are never guessed at).
 */
export function parseTraceLine(line: string): TraceLine | null {
  let marker = -1;
  let name: TraceEventName | null = null;
  let markerLength = 0;
  for (const [m, n] of MARKERS) {
    const i = line.indexOf(m);
    if (i >= 0) {
      marker = i;
      name = n;
      markerLength = m.length;
      break;
    }
  }
  if (name === null) return null;

  // Header, backwards from the marker: timestamp, flags, [cpu], comm-pid.
  const tsStart = line.lastIndexOf(' ', marker - 1) + 1;
  const timeUs = parseTimestampUs(line.slice(tsStart, marker));
  let p = tsStart - 1;
  while (p > 0 && line.charCodeAt(p) === 32) p--;
  const flagsEnd = p + 1;
  const flagsStart = line.lastIndexOf(' ', p) + 1;
  const flags = line.slice(flagsStart, flagsEnd);
  const cpuClose = line.lastIndexOf(']', flagsStart);
  const cpuOpen = line.lastIndexOf('[', cpuClose);
  if (cpuOpen < 0 || cpuClose < 0 || !Number.isFinite(timeUs)) return null;
  const cpu = parseDec(line.slice(cpuOpen + 1, cpuClose));
  let q = cpuOpen - 1;
  while (q > 0 && line.charCodeAt(q) === 32) q--;
  const task = line.slice(0, q + 1).trimStart();
  const dash = task.lastIndexOf('-');
  const comm = dash < 0 ? task : task.slice(0, dash);
  const pid = dash < 0 ? -1 : parseDec(task.slice(dash + 1));
  // ftrace flags: [irqs-off][need-resched][hardirq/softirq][preempt][migrate]; the third is
  // 's' (softirq), 'h' (hardirq), 'H' (hardirq inside softirq), 'z'/'Z' (NMI).
  const ctx = flags.charCodeAt(2);
  const softirq = ctx === 115 /* s */ || ctx === 72; /* H */
  const header = { comm, pid, cpu, timeUs, softirq };

  let i = marker + markerLength;
  if (name === 'tcp_send_reset') {
    let v: string;
    [, i] = valueAt(line, i, 'skbaddr=');
    if (i < 0) return null;
    [, i] = valueAt(line, i, 'skaddr=');
    if (i < 0) return null;
    [v, i] = valueAt(line, i, 'src=');
    const src = parseSockaddr(v);
    if (i < 0 || src === null) return null;
    [v, i] = valueAt(line, i, 'dest=');
    const dst = parseSockaddr(v);
    if (i < 0 || dst === null) return null;
    [v, i] = valueAt(line, i, 'state=');
    if (i < 0) return null;
    const state = KERNEL_STATE_NUMBERS.get(v) ?? 0;
    const [reason] = valueAt(line, i, 'reason=');
    return {
      ...header,
      event: name,
      family: src[0],
      saddr: src[1],
      sport: src[2],
      daddr: dst[1],
      dport: dst[2],
      state,
      reason,
    };
  }

  let family: string;
  [family, i] = valueAt(line, i, 'family=');
  if (i < 0) return null;
  let protocol = 6;
  if (name === 'inet_sock_set_state') {
    let proto: string;
    [proto, i] = valueAt(line, i, 'protocol=');
    if (i < 0) return null;
    protocol = PROTOCOLS.get(proto) ?? parseDec(proto);
  }
  let sport: string, dport: string, saddr: string, daddr: string, saddr6: string, daddr6: string;
  [sport, i] = valueAt(line, i, 'sport=');
  if (i < 0) return null;
  [dport, i] = valueAt(line, i, 'dport=');
  if (i < 0) return null;
  [saddr, i] = valueAt(line, i, 'saddr=');
  if (i < 0) return null;
  [daddr, i] = valueAt(line, i, 'daddr=');
  if (i < 0) return null;
  [saddr6, i] = valueAt(line, i, 'saddrv6=');
  if (i < 0) return null;
  [daddr6, i] = valueAt(line, i, 'daddrv6=');
  if (i < 0) return null;
  const v6 = family === 'AF_INET6';
  if (!v6 && family !== 'AF_INET') return null;
  const common = {
    ...header,
    family: (v6 ? 'ipv6' : 'ipv4') as TraceFamily,
    sport: parseDec(sport),
    dport: parseDec(dport),
    saddr: v6 ? saddr6 : saddr,
    daddr: v6 ? daddr6 : daddr,
  };
  if (name === 'tcp_receive_reset') return { ...common, event: name, state: 0, reason: '' };
  let olds: string, news: string;
  [olds, i] = valueAt(line, i, 'oldstate=');
  if (i < 0) return null;
  [news] = valueAt(line, i, 'newstate=');
  const oldstate = KERNEL_STATE_NUMBERS.get(olds);
  const newstate = KERNEL_STATE_NUMBERS.get(news);
  if (oldstate === undefined || newstate === undefined) return null;
  return { ...common, event: name, protocol, oldstate, newstate };
}


/**
 * One parsed line in a mutable, reused struct: the fields of {@link SetStateLine} and
 * {@link ResetLine} together (`oldstate`/`newstate` are 0 for resets, `protocol` 6,
 * `state`/`reason` 0 and '' for inet_sock_set_state). Valid until the next parse.
 */
export class TraceRecord {
  event: TraceEventName = 'inet_sock_set_state';
  comm = '';
  pid = 0;
  cpu = 0;
  timeUs = 0;
  softirq = false;
  family: TraceFamily = 'ipv4';
  protocol = 6;
  sport = 0;
  dport = 0;
  saddr = '';
  daddr = '';
  oldstate = 0;
  newstate = 0;
  state = 0;
  reason = '';

  /** Copies a parsed object (the string path) into this struct. */
  assign(l: TraceLine): this {
    this.event = l.event;
    this.comm = l.comm;
    this.pid = l.pid;
    this.cpu = l.cpu;
    this.timeUs = l.timeUs;
    this.softirq = l.softirq;
    this.family = l.family;
    this.sport = l.sport;
    this.dport = l.dport;
    this.saddr = l.saddr;
    this.daddr = l.daddr;
    if (l.event === 'inet_sock_set_state') {
      this.protocol = l.protocol;
      this.oldstate = l.oldstate;
      this.newstate = l.newstate;
      this.state = 0;
      this.reason = '';
    } else {
      this.protocol = 6;
      this.oldstate = 0;
      this.newstate = 0;
      this.state = l.state;
      this.reason = l.reason;
    }
    return this;
  }

  /** A new object of the string parser's shape (tests, callers that keep lines). */
  toLine(): TraceLine {
    const header = { comm: this.comm, pid: this.pid, cpu: this.cpu, timeUs: this.timeUs, softirq: this.softirq };
    if (this.event === 'inet_sock_set_state') {
      return { ...header, event: this.event, family: this.family, protocol: this.protocol, sport: this.sport, dport: this.dport, saddr: this.saddr, daddr: this.daddr, oldstate: this.oldstate, newstate: this.newstate };
    }
    return { ...header, event: this.event, family: this.family, sport: this.sport, dport: this.dport, saddr: this.saddr, daddr: this.daddr, state: this.state, reason: this.reason };
  }
}

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Kernel state names without `TCP_`, as bytes, indexed by their Linux number. */
const STATE_BYTES: readonly (Uint8Array | null)[] = (() => {
  const out: (Uint8Array | null)[] = new Array<Uint8Array | null>(14).fill(null);
  for (const [name, n] of KERNEL_STATE_NUMBERS) out[n] = bytes(name.slice(4));
  return out;
})();

const K_MARKER = bytes('inet_sock_set_state: ');
const K_FAMILY = bytes('family=AF_INET');
const K_PROTOCOL_TCP = bytes('protocol=IPPROTO_TCP ');
const K_SPORT = bytes('sport=');
const K_DPORT = bytes('dport=');
const K_SADDR = bytes('saddr=');
const K_DADDR = bytes('daddr=');
const K_SADDR6 = bytes('saddrv6=');
const K_DADDR6 = bytes('daddrv6=');
const K_OLDSTATE = bytes('oldstate=TCP_');
const K_NEWSTATE = bytes('newstate=TCP_');

const SPACE = 32;

/** `buf[at, at + k.length)` equals `k` and lies before `end`. */
function match(buf: Uint8Array, at: number, end: number, k: Uint8Array): boolean {
  const n = k.length;
  if (at + n > end) return false;
  for (let i = 0; i < n; i++) if (buf[at + i] !== k[i]) return false;
  return true;
}

/**
 * A state name (after `TCP_`) in `buf[s, e)` to its Linux number; -1 when it is none
 * (the string path then decides). Picks the candidate by length and a letter, then
 * compares every byte.
 */
function stateAt(buf: Uint8Array, s: number, e: number): number {
  let n: number;
  switch (e - s) {
    case 5:
      n = 7; // CLOSE
      break;
    case 6:
      n = 10; // LISTEN
      break;
    case 7:
      n = 11; // CLOSING
      break;
    case 8: // SYN_SENT SYN_RECV LAST_ACK
      n = buf[s] === 76 /* L */ ? 9 : buf[s + 4] === 83 /* S */ ? 2 : 3;
      break;
    case 9: // FIN_WAIT1 FIN_WAIT2 TIME_WAIT
      n = buf[s] === 84 /* T */ ? 6 : buf[s + 8] === 49 /* 1 */ ? 4 : 5;
      break;
    case 10:
      n = 8; // CLOSE_WAIT
      break;
    case 11:
      n = 1; // ESTABLISHED
      break;
    case 12:
      n = 12; // NEW_SYN_RECV
      break;
    case 14:
      n = 13; // BOUND_INACTIVE
      break;
    default:
      return -1;
  }
  const k = STATE_BYTES[n];
  return k !== undefined && k !== null && k.length === e - s && match(buf, s, e, k) ? n : -1;
}

/**
 * Interns short byte strings (addresses, comms): a direct-mapped cache of 4096 entries
 * keyed by a hash of the bytes and checked byte by byte, so a repeated value yields the
 * same string without allocating. Values longer than 64 bytes are not cached.
 */
class ByteInterner {
  private static readonly SIZE = 4096;
  private static readonly MAX = 64;
  private readonly keys = new Uint8Array(ByteInterner.SIZE * ByteInterner.MAX);
  private readonly lengths = new Int32Array(ByteInterner.SIZE).fill(-1);
  private readonly values: string[] = new Array<string>(ByteInterner.SIZE).fill('');

  get(buf: Buffer, s: number, e: number): string {
    const n = e - s;
    if (n > ByteInterner.MAX) return buf.toString('latin1', s, e);
    let h = 0x811c9dc5 ^ n;
    for (let i = s; i < e; i++) h = Math.imul(h ^ (buf[i] ?? 0), 0x01000193);
    const slot = (h >>> 0) & (ByteInterner.SIZE - 1);
    const base = slot * ByteInterner.MAX;
    if (this.lengths[slot] === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (this.keys[base + i] !== buf[s + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.values[slot] ?? buf.toString('latin1', s, e);
    }
    const v = buf.toString('latin1', s, e);
    this.keys.set(buf.subarray(s, e), base);
    this.lengths[slot] = n;
    this.values[slot] = v;
    return v;
  }
}

/**
 * Parses trace_pipe lines straight from a read buffer into one reused {@link TraceRecord}.
 * Same results as {@link parseTraceLine} (which it falls back to for anything but the
 * common inet_sock_set_state shape).
 */
export class TraceLineParser {
  /** The last parsed line (overwritten by each successful parse). */
  readonly record = new TraceRecord();
  private readonly strings = new ByteInterner();
  /** The position after the last parsed decimal (set by {@link decimal}). */
  private pos = 0;

  /**
   * Parses the line `buf[start, end)` (no newline). Returns false for lines that are not one
   * of our events or not of the expected shape (the record is then unchanged).
   */
  parse(buf: Buffer, start: number, end: number): boolean {
    if (this.fast(buf, start, end)) return true;
    const line = parseTraceLine(buf.toString('latin1', start, end));
    if (line === null) return false;
    this.record.assign(line);
    return true;
  }

  /** Digits at `at` up to a space (or `end` when `last`): the value, -1 when not that shape. */
  private decimal(buf: Buffer, at: number, end: number, last: boolean): number {
    let v = 0;
    let i = at;
    for (; i < end; i++) {
      const c = buf[i] ?? 0;
      if (c === SPACE) break;
      if (c < 48 || c > 57 || i - at > 15) return -1;
      v = v * 10 + (c - 48);
    }
    if (i === at || (i === end && !last)) return -1;
    this.pos = i;
    return v;
  }

  /** The end of the value starting at `at`: the next space, or `end`. */
  private static valueEnd(buf: Buffer, at: number, end: number): number {
    let i = at;
    while (i < end && buf[i] !== SPACE) i++;
    return i;
  }

  private fast(buf: Buffer, start: number, end: number): boolean {
    // The first ": " must open our event's marker (a comm is at most 15 bytes, so it
    // cannot hold the marker; other shapes are left to the string path).
    let m = start;
    for (; m + 1 < end; m++) if (buf[m] === 58 /* : */ && buf[m + 1] === SPACE) break;
    if (m + 1 >= end || !match(buf, m + 2, end, K_MARKER)) return false;

    // Header, backwards from the marker: `<comm>-<pid> [cpu] flags sec.usec`.
    let i = m - 1;
    let us = 0;
    let scale = 1;
    for (; i > start && buf[i] !== 46 /* . */; i--) {
      const c = buf[i] ?? 0;
      if (c < 48 || c > 57) return false;
      us += (c - 48) * scale;
      scale *= 10;
    }
    if (m - 1 - i !== 6) return false;
    let sec = 0;
    scale = 1;
    i--;
    const secEnd = i;
    for (; i > start && buf[i] !== SPACE; i--) {
      const c = buf[i] ?? 0;
      if (c < 48 || c > 57) return false;
      sec += (c - 48) * scale;
      scale *= 10;
    }
    if (i === secEnd || secEnd - i > 15 || buf[i] !== SPACE) return false;
    while (i > start && buf[i] === SPACE) i--;
    const flagsEnd = i + 1;
    while (i > start && buf[i] !== SPACE) i--;
    const flagsStart = i + 1;
    if (buf[i] !== SPACE || buf[i - 1] !== 93 /* ] */) return false;
    i -= 2;
    let cpu = 0;
    scale = 1;
    const cpuEnd = i;
    for (; i > start && buf[i] !== 91 /* [ */; i--) {
      const c = buf[i] ?? 0;
      if (c < 48 || c > 57) return false;
      cpu += (c - 48) * scale;
      scale *= 10;
    }
    if (i === cpuEnd || buf[i] !== 91) return false;
    i--;
    while (i > start && buf[i] === SPACE) i--;
    const taskEnd = i + 1;
    let pid = 0;
    scale = 1;
    for (; i > start && buf[i] !== 45 /* - */; i--) {
      const c = buf[i] ?? 0;
      if (c < 48 || c > 57) return false;
      pid += (c - 48) * scale;
      scale *= 10;
    }
    if (buf[i] !== 45 || i + 1 === taskEnd || taskEnd - i > 16) return false;
    const dash = i;
    let taskStart = start;
    while (taskStart < dash && buf[taskStart] === SPACE) taskStart++;
    const first = buf[taskStart] ?? 0;
    // Other whitespace that String.prototype.trimStart would remove: the string path.
    if ((first >= 9 && first <= 13) || first === 0xa0) return false;
    const ctx = flagsEnd - flagsStart > 2 ? buf[flagsStart + 2] : 0;

    // Body: family=AF_INET[6] protocol=IPPROTO_TCP sport= dport= saddr= daddr= saddrv6= daddrv6= oldstate= newstate=
    let p = m + 2 + K_MARKER.length;
    if (!match(buf, p, end, K_FAMILY)) return false;
    p += K_FAMILY.length;
    let v6 = false;
    if (buf[p] === 54 /* 6 */) {
      v6 = true;
      p++;
    }
    if (buf[p] !== SPACE || !match(buf, p + 1, end, K_PROTOCOL_TCP)) return false;
    p += 1 + K_PROTOCOL_TCP.length;
    if (!match(buf, p, end, K_SPORT)) return false;
    const sport = this.decimal(buf, p + K_SPORT.length, end, false);
    if (sport < 0) return false;
    p = this.pos + 1;
    if (!match(buf, p, end, K_DPORT)) return false;
    const dport = this.decimal(buf, p + K_DPORT.length, end, false);
    if (dport < 0) return false;
    p = this.pos + 1;
    if (!match(buf, p, end, K_SADDR)) return false;
    const sa = p + K_SADDR.length;
    const saEnd = TraceLineParser.valueEnd(buf, sa, end);
    p = saEnd + 1;
    if (!match(buf, p, end, K_DADDR)) return false;
    const da = p + K_DADDR.length;
    const daEnd = TraceLineParser.valueEnd(buf, da, end);
    p = daEnd + 1;
    if (!match(buf, p, end, K_SADDR6)) return false;
    const sa6 = p + K_SADDR6.length;
    const sa6End = TraceLineParser.valueEnd(buf, sa6, end);
    p = sa6End + 1;
    if (!match(buf, p, end, K_DADDR6)) return false;
    const da6 = p + K_DADDR6.length;
    const da6End = TraceLineParser.valueEnd(buf, da6, end);
    p = da6End + 1;
    if (!match(buf, p, end, K_OLDSTATE)) return false;
    const os = p + K_OLDSTATE.length;
    const osEnd = TraceLineParser.valueEnd(buf, os, end);
    const oldstate = stateAt(buf, os, osEnd);
    if (oldstate < 0) return false;
    p = osEnd + 1;
    if (!match(buf, p, end, K_NEWSTATE)) return false;
    const ns = p + K_NEWSTATE.length;
    const newstate = stateAt(buf, ns, TraceLineParser.valueEnd(buf, ns, end));
    if (newstate < 0) return false;

    const r = this.record;
    r.event = 'inet_sock_set_state';
    r.comm = this.strings.get(buf, taskStart, dash);
    r.pid = pid;
    r.cpu = cpu;
    r.timeUs = sec * 1e6 + us;
    r.softirq = ctx === 115 /* s */ || ctx === 72; /* H */
    r.family = v6 ? 'ipv6' : 'ipv4';
    r.protocol = 6;
    r.sport = sport;
    r.dport = dport;
    r.saddr = v6 ? this.strings.get(buf, sa6, sa6End) : this.strings.get(buf, sa, saEnd);
    r.daddr = v6 ? this.strings.get(buf, da6, da6End) : this.strings.get(buf, da, daEnd);
    r.oldstate = oldstate;
    r.newstate = newstate;
    r.state = 0;
    r.reason = '';
    return true;
  }
}

