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
