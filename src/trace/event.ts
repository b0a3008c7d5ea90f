/**
 * The trace event model: one record per TCP state change the kernel made (or per reset it
 * sent or received), in canonical state ids, with the time the connection spent in the
 * state it left.
 */
import type { TcpState } from '../core/states.js';
import type { Family, SocketAddress } from '../records/socket.js';

export type TraceEventKind = 'transition' | 'rst-sent' | 'rst-received';

export interface TransitionEvent {
  /** Wall-clock time of the event, milliseconds since the epoch (microsecond fraction kept). */
  readonly time: number;
  /** The kernel's trace clock (CLOCK_MONOTONIC) in microseconds: exact ordering and intervals. */
  readonly monoUs: number;
  readonly event: TraceEventKind;
  readonly family: Family;
  /** Local end. A connect's CLOSED → SYN_SENT carries port 0: the kernel picks the port after it. */
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  /**
   * transition: the state left. Resets: the socket's state when the reset was sent or
   * received (null when no socket was involved, e.g. a RST answering a SYN to a closed port).
   */
  readonly from: TcpState | null;
  /** transition: the state entered (inferred TIME_WAIT / FIN_WAIT_2, see `inferred`); resets: null. */
  readonly to: TcpState | null;
  /** Time spent in `from`, ms (null when this trace did not see the connection enter it). */
  readonly inStateMs: number | null;
  /**
   * The kernel showed `→ CLOSE` and `to` is what really happened: the full socket was
   * replaced by a TIME_WAIT mini-socket (or one in substate FIN_WAIT_2).
   */
  readonly inferred: boolean;
  /** transition: a reset caused or accompanied it; resets: which way. */
  readonly reset: 'sent' | 'received' | null;
  /** tcp_send_reset's reason (`NO_SOCKET`, `TCP_ABORT_ON_CLOSE`, ...), else null. */
  readonly reason: string | null;
  /** transition into CLOSED / TIME_WAIT / FIN_WAIT_2 (end of the full socket): its lifetime, ms, when seen from its start. */
  readonly lifetimeMs: number | null;
  /** The pid the kernel was running when the event fired (an unrelated task in softirq). */
  readonly pid: number;
  readonly comm: string;
}

/** The NDJSON record of `tcpstate trace --ndjson` (issue 5). */
export function transitionJson(e: TransitionEvent): {
  time: string;
  family: Family;
  local: SocketAddress;
  remote: SocketAddress;
  from: TcpState | null;
  to: TcpState | null;
  inStateMs: number | null;
  event: TraceEventKind;
} {
  return {
    time: isoMicros(e.time),
    family: e.family,
    local: e.local,
    remote: e.remote,
    from: e.from,
    to: e.to,
    inStateMs: e.inStateMs === null ? null : Math.round(e.inStateMs * 1000) / 1000,
    event: e.event,
  };
}

/** The last whole second formatted (`2025-01-02T03:04:05.`): events come in bursts within one second. */
let cachedSecond = Number.NaN;
let cachedPrefix = '';

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

/** ISO 8601 with microseconds: `2025-01-02T03:04:05.123456Z` (no Date per call within one second). */
export function isoMicros(ms: number): string {
  const whole = Math.floor(ms);
  const second = Math.floor(whole / 1000);
  const micros = Math.floor((ms - whole) * 1000);
  if (second !== cachedSecond || whole < 0) {
    const iso = new Date(whole).toISOString();
    if (iso.length !== 24 || whole < 0) return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  return `${cachedPrefix}${pad3(whole - second * 1000)}${pad3(micros)}Z`;
}
