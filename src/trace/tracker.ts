/**
 * Turns parsed tracepoint lines into transition events: in-state timing, connection
 * lifetimes, reset attribution, and the TIME_WAIT inference. Pure: time comes from the
 * lines (and `flush(nowUs)`), output goes to a callback.
 *
 * What the kernel shows (checked on Linux 6.18, see test/trace/trace-e2e.test.ts):
 * - A connect: `CLOSE → SYN_SENT` fires before the local port is picked (sport 0), then
 *   `SYN_SENT → ESTABLISHED` with the port. The first is matched to the second by
 *   (family, local address, remote address:port), oldest first.
 * - A passive open: the request socket (TCP_NEW_SYN_RECV) emits nothing. When the final
 *   ACK arrives the kernel clones the listener into a full socket: `LISTEN → SYN_RECV`
 *   (the clone inherits LISTEN) and `SYN_RECV → ESTABLISHED` fire microseconds apart.
 *   So SYN_RECEIVED time as traced is the clone's, not the time since the SYN.
 * - TIME_WAIT: `tcp_time_wait()` replaces the full socket by a mini-socket and sets the
 *   full socket to CLOSE; no event shows TIME_WAIT. `CLOSING → CLOSE` without a reset is
 *   always TIME_WAIT. `FIN_WAIT2 → CLOSE` without a reset is TIME_WAIT when the peer's FIN
 *   arrived, and a mini-socket in substate FIN_WAIT2 (the orphan timeout,
 *   net.ipv4.tcp_fin_timeout) when the application closed a FIN_WAIT2 socket: close()
 *   on FIN_WAIT2 first emits `FIN_WAIT2 → FIN_WAIT2`, which is how we tell them apart.
 * - Resets: `tcp_receive_reset` fires before the socket's `→ CLOSE`; `tcp_send_reset` for an
 *   abort (SO_LINGER 0, close with unread data) fires just after it. A `→ CLOSE` is
 *   therefore held back until a reset from the same connection can no longer follow.
 *
 * Limitations: an orphaned socket (closed by the application in FIN_WAIT1) that gets the
 * ACK of its FIN without the peer's FIN becomes a FIN_WAIT2-substate mini-socket at once
 * (ss shows FIN-WAIT-2 until the peer's FIN turns it TIME-WAIT); that event is
 * indistinguishable from an ACK+FIN and is reported `→ TIME_WAIT`, which is what it becomes
 * unless the peer never closes. Connections are keyed by their 4-tuple (the text format
 * has no socket address), so tracepoints from several network namespaces with the same
 * 4-tuple mix; the tracepoints carry no namespace.
 */
import { stateFromLinux, type TcpState } from '../core/states.js';
import type { Family } from '../records/socket.js';
import type { ResetLine, TraceLine } from '../wire/trace-line.js';
import type { TransitionEvent } from './event.js';

const CLOSE = 7;
const FIN_WAIT2 = 5;
const CLOSING = 11;
const SYN_SENT = 2;
const LISTEN = 10;
const SYN_RECV = 3;

/** How long after a `→ CLOSE` a tcp_send_reset of the same connection may still come. */
export const RESET_WINDOW_US = 2000;
/** Bound on tracked connections (oldest dropped first): memory stays flat on long runs. */
const MAX_TRACKED = 262_144;

interface Conn {
  state: number;
  sinceUs: number;
  bornUs: number | null;
  /** close() was called while in FIN_WAIT2 (the kernel emitted FIN_WAIT2 → FIN_WAIT2). */
  closedInFinWait2: boolean;
}

interface Queued {
  event: TransitionEvent;
  /** A `→ CLOSE` that a following tcp_send_reset may still qualify. */
  pendingClose: boolean;
  key: string;
  /** The kernel's state before CLOSE (for the inference when released). */
  oldstate: number;
  closedInFinWait2: boolean;
}

export interface TrackerOptions {
  /** Converts the trace clock (µs, CLOCK_MONOTONIC) to epoch ms. */
  readonly toWallMs: (monoUs: number) => number;
}

function key(family: Family, la: string, lp: number, ra: string, rp: number): string {
  return `${family} ${la} ${lp} ${ra} ${rp}`;
}

export class TransitionTracker {
  private readonly conns = new Map<string, Conn>();
  /** CLOSE → SYN_SENT seen with port 0, by family + local address + remote address:port. */
  private readonly connecting = new Map<string, { sinceUs: number }[]>();
  /** tcp_receive_reset just seen for a connection, waiting for its → CLOSE. */
  private readonly rxReset = new Map<string, number>();
  private readonly queue: Queued[] = [];
  private head = 0;
  private pendingCount = 0;

  constructor(
    private readonly options: TrackerOptions,
    private readonly emit: (e: TransitionEvent) => void,
  ) {}

  /** Tracked connections (for tests and bounds). */
  get tracked(): number {
    return this.conns.size;
  }

  push(l: TraceLine): void {
    if (l.event === 'inet_sock_set_state') this.onSetState(l);
    else if (l.event === 'tcp_receive_reset') this.onReceiveReset(l);
    else this.onSendReset(l);
    this.release(l.timeUs - RESET_WINDOW_US);
  }

  /** Releases held events older than the reset window at monotonic time `nowUs` (call when idle). */
  flush(nowUs: number = Number.POSITIVE_INFINITY): void {
    this.release(nowUs - RESET_WINDOW_US);
  }

  private base(l: TraceLine, localPort: number): Omit<TransitionEvent, 'event' | 'from' | 'to' | 'inStateMs' | 'inferred' | 'reset' | 'reason' | 'lifetimeMs'> {
    return {
      time: this.options.toWallMs(l.timeUs),
      monoUs: l.timeUs,
      family: l.family,
      local: { address: l.saddr, port: localPort },
      remote: { address: l.daddr, port: l.dport },
      pid: l.pid,
      comm: l.comm,
    };
  }

  private onSetState(l: Extract<TraceLine, { event: 'inet_sock_set_state' }>): void {
    const k = key(l.family, l.saddr, l.sport, l.daddr, l.dport);
    let conn = this.conns.get(k);
    if (conn === undefined && l.oldstate === SYN_SENT) {
      const ck = `${l.family} ${l.saddr} ${l.daddr} ${l.dport}`;
      const list = this.connecting.get(ck);
      const first = list?.shift();
      if (list !== undefined && list.length === 0) this.connecting.delete(ck);
      if (first !== undefined) conn = { state: SYN_SENT, sinceUs: first.sinceUs, bornUs: first.sinceUs, closedInFinWait2: false };
    }
    const inStateMs = conn !== undefined && conn.state === l.oldstate ? (l.timeUs - conn.sinceUs) / 1000 : null;
    const from = stateFromLinux(l.oldstate) ?? null;
    const to = stateFromLinux(l.newstate) ?? null;

    if (l.newstate === CLOSE) {
      this.conns.delete(k);
      const reset = this.rxReset.has(k) ? ('received' as const) : null;
      this.rxReset.delete(k);
      const lifetimeMs = conn?.bornUs !== null && conn?.bornUs !== undefined ? (l.timeUs - conn.bornUs) / 1000 : null;
      const event: TransitionEvent = {
        ...this.base(l, l.sport),
        event: 'transition',
        from,
        to,
        inStateMs,
        inferred: false,
        reset,
        reason: null,
        lifetimeMs,
      };
      this.enqueue({ event, pendingClose: reset === null, key: k, oldstate: l.oldstate, closedInFinWait2: conn?.closedInFinWait2 ?? false });
      return;
    }

    if (l.oldstate === CLOSE && l.newstate === SYN_SENT && l.sport === 0) {
      const ck = `${l.family} ${l.saddr} ${l.daddr} ${l.dport}`;
      const list = this.connecting.get(ck);
      if (list === undefined) this.connecting.set(ck, [{ sinceUs: l.timeUs }]);
      else list.push({ sinceUs: l.timeUs });
    } else if (l.oldstate === l.newstate) {
      // close() on FIN_WAIT2 (tcp_close_state): the state stays, the time in it goes on.
      if (conn !== undefined) conn.closedInFinWait2 ||= l.newstate === FIN_WAIT2;
      else this.track(k, { state: l.newstate, sinceUs: l.timeUs, bornUs: null, closedInFinWait2: l.newstate === FIN_WAIT2 });
    } else {
      const born = l.oldstate === CLOSE || (l.oldstate === LISTEN && l.newstate === SYN_RECV) ? l.timeUs : (conn?.bornUs ?? null);
      if (conn === undefined) {
        this.track(k, { state: l.newstate, sinceUs: l.timeUs, bornUs: born, closedInFinWait2: false });
      } else {
        conn.state = l.newstate;
        conn.sinceUs = l.timeUs;
        conn.bornUs = born;
        if (!this.conns.has(k)) this.track(k, conn);
      }
    }
    this.enqueue({
      event: { ...this.base(l, l.sport), event: 'transition', from, to, inStateMs, inferred: false, reset: null, reason: null, lifetimeMs: null },
      pendingClose: false,
      key: k,
      oldstate: l.oldstate,
      closedInFinWait2: false,
    });
  }

  private track(k: string, c: Conn): void {
    if (this.conns.size >= MAX_TRACKED) {
      const oldest = this.conns.keys().next();
      if (oldest.done !== true) this.conns.delete(oldest.value);
    }
    this.conns.set(k, c);
  }

  private onReceiveReset(l: ResetLine): void {
    const k = key(l.family, l.saddr, l.sport, l.daddr, l.dport);
    let conn: Pick<Conn, 'state' | 'sinceUs'> | undefined = this.conns.get(k);
    if (conn === undefined) {
      // A refused connect: the socket is still known only by its port-0 SYN_SENT event.
      const first = this.connecting.get(`${l.family} ${l.saddr} ${l.daddr} ${l.dport}`)?.[0];
      if (first !== undefined) conn = { state: SYN_SENT, sinceUs: first.sinceUs };
    }
    this.rxReset.set(k, l.timeUs);
    if (this.rxReset.size > 4096) {
      for (const [rk, t] of this.rxReset) if (t < l.timeUs - 1e6) this.rxReset.delete(rk);
    }
    this.enqueue({
      event: {
        ...this.base(l, l.sport),
        event: 'rst-received',
        from: conn === undefined ? null : (stateFromLinux(conn.state) ?? null),
        to: null,
        inStateMs: conn === undefined ? null : (l.timeUs - conn.sinceUs) / 1000,
        inferred: false,
        reset: 'received',
        reason: null,
        lifetimeMs: null,
      },
      pendingClose: false,
      key: k,
      oldstate: 0,
      closedInFinWait2: false,
    });
  }

  private onSendReset(l: ResetLine): void {
    const k = key(l.family, l.saddr, l.sport, l.daddr, l.dport);
    let from: TcpState | null = null;
    let inStateMs: number | null = null;
    // The abort's → CLOSE came just before: qualify it, and report the state it left.
    for (let i = this.queue.length - 1; i >= this.head; i--) {
      const q = this.queue[i];
      if (q === undefined || !q.pendingClose || q.key !== k) continue;
      q.pendingClose = false;
      this.pendingCount--;
      q.event = { ...q.event, reset: 'sent' };
      from = q.event.from;
      inStateMs = q.event.inStateMs;
      break;
    }
    if (from === null && l.state !== 0) {
      const conn = this.conns.get(k);
      from = stateFromLinux(conn?.state ?? l.state) ?? null;
      if (conn !== undefined) inStateMs = (l.timeUs - conn.sinceUs) / 1000;
    }
    this.enqueue({
      event: { ...this.base(l, l.sport), event: 'rst-sent', from, to: null, inStateMs, inferred: false, reset: 'sent', reason: l.reason, lifetimeMs: null },
      pendingClose: false,
      key: k,
      oldstate: 0,
      closedInFinWait2: false,
    });
  }

  private enqueue(q: Queued): void {
    if (q.pendingClose) this.pendingCount++;
    if (this.pendingCount === 0 && this.head === this.queue.length) {
      // Fast path: nothing held back, emit at once.
      this.queue.length = 0;
      this.head = 0;
      this.emit(q.event);
      return;
    }
    this.queue.push(q);
  }

  /** Emits queued events in order, up to the first `→ CLOSE` newer than `beforeUs`. */
  private release(beforeUs: number): void {
    while (this.head < this.queue.length) {
      const q = this.queue[this.head];
      if (q === undefined) break;
      if (q.pendingClose) {
        if (q.event.monoUs > beforeUs) break;
        q.pendingClose = false;
        this.pendingCount--;
        q.event = inferClose(q);
      }
      this.head++;
      this.emit(q.event);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** A `→ CLOSE` no reset qualified: the TIME_WAIT inference (see the file comment). */
function inferClose(q: Queued): TransitionEvent {
  if (q.oldstate === CLOSING) return { ...q.event, to: 'TIME_WAIT', inferred: true };
  if (q.oldstate === FIN_WAIT2) return { ...q.event, to: q.closedInFinWait2 ? 'FIN_WAIT_2' : 'TIME_WAIT', inferred: true };
  return q.event;
}
