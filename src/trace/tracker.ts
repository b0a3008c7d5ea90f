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
 *
 * Cost: this runs once per traced event (tens of thousands a second), so it reads the
 * parser's reused {@link TraceRecord} (`pushRecord`), keys connections by a compact string
 * (ports as UTF-16 units, then the addresses), builds each event as one instance of a
 * single class, and holds events in a ring of reused slots; nothing is copied by spread.
 */
import { stateFromLinux, type TcpState } from '../core/states.js';
import type { Family, SocketAddress } from '../records/socket.js';
import { TraceRecord, type TraceEventName, type TraceLine } from '../wire/trace-line.js';
import type { TraceEventKind, TransitionEvent } from './event.js';

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

/** Linux state number → canonical id (null when unknown), by array index. */
const STATE_OF: readonly (TcpState | null)[] = Array.from({ length: 16 }, (_, n) => stateFromLinux(n) ?? null);

function stateOf(n: number): TcpState | null {
  return (n >= 0 && n < 16 ? STATE_OF[n] : stateFromLinux(n)) ?? null;
}

/** What the tracker reads of a line: {@link TraceRecord} (the parser's reused struct) has it all. */
export interface TrackerInput {
  readonly event: TraceEventName;
  readonly family: Family;
  readonly sport: number;
  readonly dport: number;
  readonly saddr: string;
  readonly daddr: string;
  readonly timeUs: number;
  readonly pid: number;
  readonly comm: string;
  /** inet_sock_set_state only. */
  readonly oldstate: number;
  readonly newstate: number;
  /** tcp_send_reset only. */
  readonly state: number;
  readonly reason: string;
}

interface Conn {
  state: number;
  sinceUs: number;
  bornUs: number | null;
  /** close() was called while in FIN_WAIT2 (the kernel emitted FIN_WAIT2 → FIN_WAIT2). */
  closedInFinWait2: boolean;
}

/** The one class every event is an instance of (monomorphic; fixed before it is emitted). */
class Event implements TransitionEvent {
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  constructor(
    readonly time: number,
    readonly monoUs: number,
    readonly event: TraceEventKind,
    readonly family: Family,
    localAddress: string,
    localPort: number,
    remoteAddress: string,
    remotePort: number,
    public from: TcpState | null,
    public to: TcpState | null,
    public inStateMs: number | null,
    public inferred: boolean,
    public reset: 'sent' | 'received' | null,
    public reason: string | null,
    public lifetimeMs: number | null,
    readonly pid: number,
    readonly comm: string,
  ) {
    this.local = { address: localAddress, port: localPort };
    this.remote = { address: remoteAddress, port: remotePort };
  }
}

/** A held event and what its release needs (slots are reused). */
interface Slot {
  event: Event | null;
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

/**
 * The connection key: both ports as UTF-16 units, the family and the local address length
 * (so the two addresses cannot run into each other), then the addresses.
 */
function key(family: Family, la: string, lp: number, ra: string, rp: number): string {
  if (lp >= 0 && lp <= 0xffff && rp >= 0 && rp <= 0xffff && Number.isInteger(lp) && Number.isInteger(rp) && la.length < 0x8000) {
    return String.fromCharCode(lp, rp, (family === 'ipv6' ? 0x8000 : 0) | la.length) + la + ra;
  }
  // Malformed ports from the string parser (-1): a spelled-out key that cannot collide.
  return `\u0000\u0000\u0000${family} ${la} ${lp} ${ra} ${rp}`;
}

/** Key of a connect still at port 0: family + local address + remote address:port. */
function connectKey(family: Family, la: string, ra: string, rp: number): string {
  return key(family, la, 0, ra, rp);
}

export class TransitionTracker {
  private readonly conns = new Map<string, Conn>();
  /** CLOSE → SYN_SENT seen with port 0 (their times), by family + local address + remote address:port. */
  private readonly connecting = new Map<string, number[]>();
  /** tcp_receive_reset just seen for a connection, waiting for its → CLOSE. */
  private readonly rxReset = new Map<string, number>();
  /** Held events: a ring of slots, `head` the oldest, `count` in use. */
  private ring: Slot[] = TransitionTracker.slots(64);
  private head = 0;
  private count = 0;
  private pendingCount = 0;
  private readonly scratch = new TraceRecord();

  constructor(
    private readonly options: TrackerOptions,
    private readonly emit: (e: TransitionEvent) => void,
  ) {}

  private static slots(n: number): Slot[] {
    return Array.from({ length: n }, () => ({ event: null, pendingClose: false, key: '', oldstate: 0, closedInFinWait2: false }));
  }

  /** Tracked connections (for tests and bounds). */
  get tracked(): number {
    return this.conns.size;
  }

  /** One parsed line (an object of the string parser). */
  push(l: TraceLine): void {
    this.pushRecord(this.scratch.assign(l));
  }

  /** One parsed line read from a reused struct (the parser's record); nothing of it is kept. */
  pushRecord(l: TrackerInput): void {
    if (l.event === 'inet_sock_set_state') this.onSetState(l);
    else if (l.event === 'tcp_receive_reset') this.onReceiveReset(l);
    else this.onSendReset(l);
    if (this.count > 0) this.release(l.timeUs - RESET_WINDOW_US);
  }

  /** Releases held events older than the reset window at monotonic time `nowUs` (call when idle). */
  flush(nowUs: number = Number.POSITIVE_INFINITY): void {
    this.release(nowUs - RESET_WINDOW_US);
  }

  private onSetState(l: TrackerInput): void {
    const k = key(l.family, l.saddr, l.sport, l.daddr, l.dport);
    let conn = this.conns.get(k);
    if (conn === undefined && l.oldstate === SYN_SENT) {
      const ck = connectKey(l.family, l.saddr, l.daddr, l.dport);
      const list = this.connecting.get(ck);
      const first = list?.shift();
      if (list !== undefined && list.length === 0) this.connecting.delete(ck);
      if (first !== undefined) conn = { state: SYN_SENT, sinceUs: first, bornUs: first, closedInFinWait2: false };
    }
    const inStateMs = conn !== undefined && conn.state === l.oldstate ? (l.timeUs - conn.sinceUs) / 1000 : null;
    const from = stateOf(l.oldstate);
    const to = stateOf(l.newstate);

    if (l.newstate === CLOSE) {
      this.conns.delete(k);
      let reset: 'received' | null = null;
      if (this.rxReset.size > 0 && this.rxReset.delete(k)) reset = 'received';
      const lifetimeMs = conn?.bornUs !== null && conn?.bornUs !== undefined ? (l.timeUs - conn.bornUs) / 1000 : null;
      const event = this.event(l, 'transition', from, to, inStateMs, null, null, lifetimeMs);
      event.reset = reset;
      this.enqueue(event, reset === null, k, l.oldstate, conn?.closedInFinWait2 ?? false);
      return;
    }

    if (l.oldstate === CLOSE && l.newstate === SYN_SENT && l.sport === 0) {
      const ck = connectKey(l.family, l.saddr, l.daddr, l.dport);
      const list = this.connecting.get(ck);
      if (list === undefined) this.connecting.set(ck, [l.timeUs]);
      else list.push(l.timeUs);
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
    this.enqueue(this.event(l, 'transition', from, to, inStateMs, null, null, null), false, k, l.oldstate, false);
  }

  private event(
    l: TrackerInput,
    kind: TraceEventKind,
    from: TcpState | null,
    to: TcpState | null,
    inStateMs: number | null,
    reset: 'sent' | 'received' | null,
    reason: string | null,
    lifetimeMs: number | null,
  ): Event {
    return new Event(this.options.toWallMs(l.timeUs), l.timeUs, kind, l.family, l.saddr, l.sport, l.daddr, l.dport, from, to, inStateMs, false, reset, reason, lifetimeMs, l.pid, l.comm);
  }

  private track(k: string, c: Conn): void {
    if (this.conns.size >= MAX_TRACKED) {
      const oldest = this.conns.keys().next();
      if (oldest.done !== true) this.conns.delete(oldest.value);
    }
    this.conns.set(k, c);
  }

  private onReceiveReset(l: TrackerInput): void {
    const k = key(l.family, l.saddr, l.sport, l.daddr, l.dport);
    let state = -1;
    let sinceUs = 0;
    const conn = this.conns.get(k);
    if (conn !== undefined) {
      state = conn.state;
      sinceUs = conn.sinceUs;
    } else {
      // A refused connect: the socket is still known only by its port-0 SYN_SENT event.
      const first = this.connecting.get(connectKey(l.family, l.saddr, l.daddr, l.dport))?.[0];
      if (first !== undefined) {
        state = SYN_SENT;
        sinceUs = first;
      }
    }
    this.rxReset.set(k, l.timeUs);
    if (this.rxReset.size > 4096) {
      for (const [rk, t] of this.rxReset) if (t < l.timeUs - 1e6) this.rxReset.delete(rk);
    }
    const known = state >= 0;
    this.enqueue(this.event(l, 'rst-received', known ? stateOf(state) : null, null, known ? (l.timeUs - sinceUs) / 1000 : null, 'received', null, null), false, k, 0, false);
  }

  private onSendReset(l: TrackerInput): void {
    const k = key(l.family, l.saddr, l.sport, l.daddr, l.dport);
    let from: TcpState | null = null;
    let inStateMs: number | null = null;
    // The abort's → CLOSE came just before: qualify it, and report the state it left.
    const mask = this.ring.length - 1;
    for (let n = this.count - 1; n >= 0; n--) {
      const q = this.ring[(this.head + n) & mask];
      if (q === undefined || q.event === null || !q.pendingClose || q.key !== k) continue;
      q.pendingClose = false;
      this.pendingCount--;
      q.event.reset = 'sent';
      from = q.event.from;
      inStateMs = q.event.inStateMs;
      break;
    }
    if (from === null && l.state !== 0) {
      const conn = this.conns.get(k);
      from = stateOf(conn?.state ?? l.state);
      if (conn !== undefined) inStateMs = (l.timeUs - conn.sinceUs) / 1000;
    }
    this.enqueue(this.event(l, 'rst-sent', from, null, inStateMs, 'sent', l.reason, null), false, k, 0, false);
  }

  private enqueue(event: Event, pendingClose: boolean, k: string, oldstate: number, closedInFinWait2: boolean): void {
    if (pendingClose) this.pendingCount++;
    else if (this.pendingCount === 0 && this.count === 0) {
      // Fast path: nothing held back, emit at once.
      this.emit(event);
      return;
    }
    if (this.count === this.ring.length) this.grow();
    const q = this.ring[(this.head + this.count) & (this.ring.length - 1)];
    if (q === undefined) return;
    q.event = event;
    q.pendingClose = pendingClose;
    q.key = k;
    q.oldstate = oldstate;
    q.closedInFinWait2 = closedInFinWait2;
    this.count++;
  }

  private grow(): void {
    const old = this.ring;
    const next = TransitionTracker.slots(old.length * 2);
    const mask = old.length - 1;
    for (let n = 0; n < this.count; n++) {
      const from = old[(this.head + n) & mask];
      const to = next[n];
      if (from === undefined || to === undefined) continue;
      to.event = from.event;
      to.pendingClose = from.pendingClose;
      to.key = from.key;
      to.oldstate = from.oldstate;
      to.closedInFinWait2 = from.closedInFinWait2;
    }
    this.ring = next;
    this.head = 0;
  }

  /** Emits held events in order, up to the first `→ CLOSE` newer than `beforeUs`. */
  private release(beforeUs: number): void {
    const mask = this.ring.length - 1;
    while (this.count > 0) {
      const q = this.ring[this.head];
      const e = q?.event;
      if (q === undefined || e === undefined || e === null) break;
      if (q.pendingClose) {
        if (e.monoUs > beforeUs) break;
        q.pendingClose = false;
        this.pendingCount--;
        inferClose(e, q.oldstate, q.closedInFinWait2);
      }
      q.event = null;
      q.key = '';
      this.head = (this.head + 1) & mask;
      this.count--;
      this.emit(e);
    }
    if (this.count === 0) this.head = 0;
  }
}

/** A `→ CLOSE` no reset qualified: the TIME_WAIT inference (see the file comment). */
function inferClose(e: Event, oldstate: number, closedInFinWait2: boolean): void {
  if (oldstate === CLOSING) {
    e.to = 'TIME_WAIT';
    e.inferred = true;
  } else if (oldstate === FIN_WAIT2) {
    e.to = closedInFinWait2 ? 'FIN_WAIT_2' : 'TIME_WAIT';
    e.inferred = true;
  }
}
