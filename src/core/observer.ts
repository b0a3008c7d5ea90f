/**
 * The passive observer: two endpoint models fed from one vantage point (a capture).
 *
 * Implements the same edges as the active endpoint (RFC 9293 §3.10 and the Linux
 * profile's behaviours, every change checked against TRANSITIONS in ./transitions.ts) but
 * infers them from what each side *sends* and what it *receives*: a SYN it sends takes it
 * to SYN-SENT (§3.10.1), an acceptable SYN,ACK it receives to ESTABLISHED (§3.10.7.3),
 * its FIN to FIN-WAIT-1 or LAST-ACK (§3.10.4), the ACK of its FIN onwards (§3.10.7.4
 * fifth), the peer's FIN to CLOSE-WAIT, CLOSING or TIME-WAIT (eighth), a RST it sends or
 * receives to CLOSED or LISTEN (second; §3.10.5 ABORT). Timers advance with capture time
 * only (`advance(now)`): TIME-WAIT ends `profile.timeWaitMs` after it began.
 *
 * Why not drive `Endpoint` itself: it is an active model — it picks its own ISS, sends
 * its own segments and sizes its own windows — so feeding it a capture would mean
 * translating both sequence spaces and suppressing its outputs on every packet; the
 * observer instead shares its vocabulary (states, rule ids, profile timers).
 *
 * Also recorded per side: retransmissions, out-of-order segments, keep-alives, octets
 * the capture missed (acknowledged by the peer but never seen), zero windows, SYN and
 * FIN retransmissions, data sent after its own FIN, resets; per connection: simultaneous
 * open and close, half-close, handshake RTT.
 *
 * Limitations: the vantage point is assumed to sit between the two endpoints with no
 * loss after it — a segment seen is taken as received (a capture taken at one host sees
 * that host's segments before the network drops them). Acceptability of RST uses the
 * sequence space seen so far, not the receiver's exact window. A FIN_WAIT_2 timeout
 * needs to know whether the application called close() or shutdown(), which the wire
 * does not say, so it is not applied. close() with unread data and ABORT look the same
 * on the wire (a RST): both are reported as `abort`.
 */
import { settleMutableFields, settleNumberFields } from './object-layout.js';
import { LINUX_PROFILE, type Profile } from './profile.js';
import { ACK, FIN, RST, SYN, type Segment } from './segment.js';
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.js';
import { TCP_STATES, type TcpState } from './states.js';
import { TRANSITION_BY_ID, type TransitionId } from './transitions.js';

export type ObservedSide = 'orig' | 'resp';

export interface ObservedTransition {
  /** Capture time, ms. */
  readonly at: number;
  readonly side: ObservedSide;
  readonly from: TcpState;
  readonly to: TcpState;
  /** The transition rule, or `mid-stream` when the capture began after the handshake. */
  readonly rule: TransitionId | 'mid-stream';
  /** True when inferred without seeing the causing segment (a missed SYN, a listener before the capture). */
  readonly inferred: boolean;
  /** 1-based number of the connection's packet that caused it (0 for timers). */
  readonly packet: number;
}

export interface ObservedReset {
  readonly at: number;
  readonly by: ObservedSide;
  /** The sender's state when it sent the RST. */
  readonly state: TcpState;
  readonly packet: number;
}

/** What one side did, as seen on the wire. */
export class ObservedEndpoint {
  /** The state as its index in TCP_STATES (what the observer keeps; `state` names it). */
  code = 0;
  readonly side: ObservedSide;
  /** Sequence space seen from this side: ISS known, highest SEQ + SEG.LEN. */
  issKnown = false;
  iss = 0;
  nxtKnown = false;
  nxt = 0;
  finSent = false;
  finSeq = 0;
  passive = false;
  /** The peer sent new data after this side's FIN (Linux answers it with RST). */
  dataAfterOwnFin = false;
  timeWaitDeadline = -1;
  lastSynAt = -1;

  retransmissions = 0;
  outOfOrder = 0;
  keepAlives = 0;
  missedBytes = 0;
  zeroWindows = 0;
  synRetransmissions = 0;
  finRetransmissions = 0;
  dataAfterFin = 0;
  /** When a segment last jumped ahead of the sequence space seen (ms), for reordering. */
  gapAt = -1;
  /** The peer's FIN has been seen arriving here. */
  peerFinSeen = false;
  /** A SYN,ACK has been sent (a second one with the same ISS is a retransmission). */
  synAckSent = false;
  /** Sequence ranges skipped by a segment that jumped ahead: [start, end) pairs, oldest first. */
  holes: number[] | null = null;
  /** Holes the peer acknowledged: segments the capture missed. */
  gapsAcked = 0;
  /** The peer acknowledged this side's FIN. */
  finAckedSeen = false;

  constructor(side: ObservedSide) {
    this.side = side;
  }

  get state(): TcpState {
    return TCP_STATES[this.code] as TcpState;
  }

  /** Back to a fresh endpoint (objects are reused from one connection to the next). */
  reset(): void {
    this.code = 0;
    this.issKnown = false;
    this.iss = 0;
    this.nxtKnown = false;
    this.nxt = 0;
    this.finSent = false;
    this.finSeq = 0;
    this.passive = false;
    this.dataAfterOwnFin = false;
    this.timeWaitDeadline = -1;
    this.lastSynAt = -1;
    this.retransmissions = 0;
    this.outOfOrder = 0;
    this.keepAlives = 0;
    this.missedBytes = 0;
    this.zeroWindows = 0;
    this.synRetransmissions = 0;
    this.finRetransmissions = 0;
    this.dataAfterFin = 0;
    this.gapAt = -1;
    this.peerFinSeen = false;
    this.synAckSent = false;
    if (this.holes !== null) this.holes.length = 0;
    this.gapsAcked = 0;
    this.finAckedSeen = false;
  }
}

export interface ObserverSink {
  /** False: `transition` is not called (no object is built per change). */
  readonly recording: boolean;
  transition(t: ObservedTransition): void;
}

const MAX_HOLES = 32;
const NO_RESETS: readonly ObservedReset[] = Object.freeze([]);

/** A reset seen: made by a constructor, not at an object literal (see `withReset`). */
class SeenReset implements ObservedReset {
  constructor(
    readonly at: number,
    readonly by: ObservedSide,
    readonly state: TcpState,
    readonly packet: number,
  ) {}
}

/**
 * `resets` and one more, as a new array (a record handed out keeps the one it has). Made
 * without literals: as the objects made at a literal outlive collections, V8 decides to
 * make later ones straight in the old generation, and throws away the compiled code that
 * makes them (senderSide was compiled again in 2 runs of 10 for that).
 */
function withReset(resets: readonly ObservedReset[], r: ObservedReset): ObservedReset[] {
  const next = resets.slice();
  next.push(r);
  return next;
}

/** Removes [start, end) from the hole list; true when it overlapped a hole. */
function fillHoles(holes: number[], start: number, end: number): boolean {
  let hit = false;
  for (let i = 0; i < holes.length; i += 2) {
    const a = holes[i] as number;
    const b = holes[i + 1] as number;
    if (!seqLt(start, b) || !seqGt(end, a)) continue;
    hit = true;
    const keep: number[] = [];
    if (seqLt(a, start)) keep.push(a, start);
    if (seqGt(b, end)) keep.push(end, b);
    holes.splice(i, 2, ...keep);
    i += keep.length - 2;
  }
  return hit;
}

/**
 * TRANSITIONS as numbers (`move` runs on most packets): per edge, its id, the states it
 * leaves as a bit mask over TCP_STATES, and the state it enters.
 */
const EDGE_IDS: readonly TransitionId[] = Object.keys(TRANSITION_BY_ID) as TransitionId[];
const EDGE_FROM = new Int32Array(EDGE_IDS.length);
const EDGE_TO = new Uint8Array(EDGE_IDS.length);
EDGE_IDS.forEach((id, i) => {
  const t = TRANSITION_BY_ID[id];
  for (const f of t.from) EDGE_FROM[i] = (EDGE_FROM[i] as number) | (1 << TCP_STATES.indexOf(f));
  EDGE_TO[i] = TCP_STATES.indexOf(t.to);
});

function edge(id: TransitionId): number {
  const i = EDGE_IDS.indexOf(id);
  if (i < 0) throw new Error(`transition ${id} is not in the table`);
  return i;
}

const E_ABORT = edge('abort');
const E_ABORT_CLOSING = edge('abort-closing');
const E_ABORT_LISTEN = edge('abort-listen');
const E_ACTIVE_OPEN = edge('active-open');
const E_CLOSE_CLOSE_WAIT = edge('close-close-wait');
const E_CLOSE_ESTABLISHED = edge('close-established');
const E_CLOSE_SYN_RECEIVED = edge('close-syn-received');
const E_CLOSING_ACK_OF_FIN = edge('closing-ack-of-fin');
const E_DATA_AFTER_CLOSE = edge('data-after-close');
const E_LAST_ACK_ACK_OF_FIN = edge('last-ack-ack-of-fin');
const E_LISTEN_SEND = edge('listen-send');
const E_PASSIVE_OPEN = edge('passive-open');
const E_RCV_ACK_OF_FIN = edge('rcv-ack-of-fin');
const E_RCV_ACK_OF_SYN = edge('rcv-ack-of-syn');
const E_RCV_FIN = edge('rcv-fin');
const E_RCV_FIN_ACK_OF_FIN = edge('rcv-fin-ack-of-fin');
const E_RCV_FIN_FIN_WAIT_2 = edge('rcv-fin-fin-wait-2');
const E_RCV_SYN = edge('rcv-syn');
const E_RCV_SYN_ACK = edge('rcv-syn-ack');
const E_RST_CLOSING = edge('rst-closing');
const E_RST_REFUSED = edge('rst-refused');
const E_RST_REFUSED_SYN_RECEIVED = edge('rst-refused-syn-received');
const E_RST_RESET = edge('rst-reset');
const E_RST_TO_LISTEN = edge('rst-to-listen');
const E_SIMULTANEOUS_CLOSE = edge('simultaneous-close');
const E_SIMULTANEOUS_OPEN = edge('simultaneous-open');
const E_TIME_WAIT_TIMEOUT = edge('time-wait-timeout');

const SYNCHRONIZED: ReadonlySet<TcpState> = new Set(['SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT']);
const ESTABLISHED = TCP_STATES.indexOf('ESTABLISHED');

export class PassiveObserver {
  readonly orig = new ObservedEndpoint('orig');
  readonly resp = new ObservedEndpoint('resp');
  /** Every RST seen (shared empty list until the first, to keep connections small). */
  resets: readonly ObservedReset[] = NO_RESETS;
  /** The capture began after the handshake (or with a SYN,ACK): states before were inferred. */
  midStream = false;
  simultaneousOpen = false;
  simultaneousClose = false;
  /** One side sent data after the other's FIN (a half-close in use). */
  halfClose = false;
  /** SYN sent → SYN,ACK seen, and → the ACK completing the handshake, ms. */
  synAckAt = -1;
  handshakeRttMs = -1;
  synAckRttMs = -1;
  private started = false;
  private readonly profile: Profile;
  private readonly sink: ObserverSink;
  private packetNo = 0;
  /** A SYN the responder received before we saw it answer (CLOSED or LISTEN is unknown until then). */
  private pendingSynAt = -1;
  private pendingSynPacket = 0;
  private pendingSynSide: ObservedSide | null = null;
  /**
   * A FIN that reached an ESTABLISHED side: applied when that side next speaks, because
   * a FIN it sends without acknowledging this one shows it had closed first (a
   * simultaneous close seen from the middle).
   */
  private pendingFin: { to: ObservedEndpoint; at: number; packet: number } | null = null;

  constructor(profile: Profile, sink: ObserverSink) {
    this.profile = profile;
    this.sink = sink;
  }

  /** Back to a fresh observer with the same profile and sink (no allocation). */
  reset(): void {
    this.orig.reset();
    this.resp.reset();
    this.resets = NO_RESETS;
    this.midStream = false;
    this.simultaneousOpen = false;
    this.simultaneousClose = false;
    this.halfClose = false;
    this.synAckAt = -1;
    this.handshakeRttMs = -1;
    this.synAckRttMs = -1;
    this.started = false;
    this.packetNo = 0;
    this.pendingSynAt = -1;
    this.pendingSynPacket = 0;
    this.pendingSynSide = null;
    this.pendingFin = null;
  }

  /** The connection is over (end of capture or expiry): applies what was held back. */
  flush(): void {
    const p = this.pendingFin;
    if (p !== null) {
      this.pendingFin = null;
      const peer = p.to === this.orig ? this.resp : this.orig;
      this.deliverFin(p.to, peer, false, p.at, p.packet);
    }
  }

  /** Fires timers due at or before `now` (capture time, ms). */
  advance(now: number): void {
    if (this.orig.timeWaitDeadline >= 0) this.expire(this.orig, now);
    if (this.resp.timeWaitDeadline >= 0) this.expire(this.resp, now);
  }

  private expire(e: ObservedEndpoint, now: number): void {
    if (e.timeWaitDeadline >= 0 && now >= e.timeWaitDeadline && e.state === 'TIME_WAIT') {
      this.move(e, E_TIME_WAIT_TIMEOUT, e.timeWaitDeadline, false, 0);
      e.timeWaitDeadline = -1;
    }
  }

  /**
   * The commonest segment in one step: in-order data or a bare acknowledgement (ACK
   * without SYN, FIN or RST) between two ESTABLISHED sides with nothing pending — no
   * timer, no FIN held back, no holes, no acknowledgement of data the capture missed.
   * For such a segment `segment` only counts it, moves the sender's next sequence
   * number and counts a zero window; this does the same and returns true. For any other
   * segment it changes nothing and returns false (then call `segment`).
   */
  fastSegment(fromOrig: boolean, seg: Readonly<Segment>): boolean {
    if ((seg.flags & (SYN | FIN | RST | ACK)) !== ACK || this.pendingFin !== null || !this.started) return false;
    const x = fromOrig ? this.orig : this.resp;
    const y = fromOrig ? this.resp : this.orig;
    if (x.code !== ESTABLISHED || y.code !== ESTABLISHED || x.timeWaitDeadline >= 0 || y.timeWaitDeadline >= 0) return false;
    // In order (not a retransmission, a keep-alive or a jump), and no FIN on either side yet.
    if (!x.nxtKnown || seg.seq !== x.nxt || x.finSent || y.finSent) return false;
    // Acknowledges nothing unseen, and no hole of the receiver's stream to fill.
    if ((y.nxtKnown && seqGt(seg.ack, y.nxt)) || (y.holes !== null && y.holes.length > 0)) return false;
    this.packetNo++;
    if (seg.len > 0) x.nxt = seqAdd(seg.seq, seg.len);
    if (seg.window === 0) x.zeroWindows++;
    return true;
  }

  /** One segment seen on the wire, sent by the originator (`fromOrig`) or the responder. */
  segment(fromOrig: boolean, seg: Readonly<Segment>, now: number): void {
    this.packetNo++;
    this.advance(now);
    const x = fromOrig ? this.orig : this.resp;
    const y = fromOrig ? this.resp : this.orig;
    if (!this.started) {
      this.started = true;
      this.inferStart(x, y, seg, now);
    }
    const pending = this.pendingFin;
    if (pending !== null && pending.to === x) {
      this.pendingFin = null;
      const finFirst = seg.flags & FIN && !(seg.flags & RST) && !(seg.flags & ACK && y.finSent && seqGt(seg.ack, y.finSeq));
      if (finFirst && x.state === 'ESTABLISHED' && !x.finSent) {
        // x's FIN left before the peer's arrived: x closes, then takes the peer's FIN.
        this.senderSide(x, y, seg, now);
        this.deliverFin(x, y, false, now, this.packetNo);
        this.receiverSide(x, y, seg, now);
        return;
      }
      this.deliverFin(x, y, false, pending.at, pending.packet);
    }
    this.senderSide(x, y, seg, now);
    this.receiverSide(x, y, seg, now);
  }

  /** The first segment is not a SYN: say what both sides must have done before. */
  private inferStart(x: ObservedEndpoint, y: ObservedEndpoint, seg: Readonly<Segment>, now: number): void {
    const f = seg.flags;
    if (f & SYN && !(f & ACK)) return;
    this.midStream = true;
    if (f & SYN) {
      // A SYN,ACK first: the SYN went by before the capture started.
      this.move(y, E_ACTIVE_OPEN, now, true, 1);
      y.issKnown = false;
      y.passive = false;
      this.move(x, E_PASSIVE_OPEN, now, true, 1);
      x.passive = true;
      this.move(x, E_RCV_SYN, now, true, 1);
      y.issKnown = true;
      y.iss = seqAdd(seg.ack, -1);
      y.nxtKnown = true;
      y.nxt = seg.ack;
      return;
    }
    this.force(x, 'ESTABLISHED', now);
    this.force(y, 'ESTABLISHED', now);
    x.nxtKnown = true;
    x.nxt = seg.seq;
    if (f & ACK) {
      y.nxtKnown = true;
      y.nxt = seg.ack;
    }
  }

  private senderSide(x: ObservedEndpoint, y: ObservedEndpoint, seg: Readonly<Segment>, now: number): void {
    const f = seg.flags;
    const n = this.packetNo;
    if (f & RST) {
      this.resets = withReset(this.resets, new SeenReset(now, x.side, x.state, n));
      switch (x.state) {
        case 'SYN_SENT':
          this.move(x, E_ABORT_LISTEN, now, false, n);
          break;
        case 'SYN_RECEIVED':
        case 'ESTABLISHED':
        case 'CLOSE_WAIT':
          this.move(x, E_ABORT, now, false, n);
          break;
        case 'FIN_WAIT_1':
        case 'FIN_WAIT_2':
          this.move(x, x.dataAfterOwnFin ? E_DATA_AFTER_CLOSE : E_ABORT, now, false, n);
          break;
        case 'CLOSING':
        case 'LAST_ACK':
        case 'TIME_WAIT':
          this.move(x, E_ABORT_CLOSING, now, false, n);
          x.timeWaitDeadline = -1;
          break;
        default:
          break; // CLOSED answers for a connection it does not have; LISTEN stays.
      }
      return;
    }
    if (f & SYN) {
      if (!(f & ACK)) {
        if (x.state === 'CLOSED' || x.state === 'LISTEN') {
          this.move(x, x.state === 'CLOSED' ? E_ACTIVE_OPEN : E_LISTEN_SEND, now, false, n);
          x.issKnown = true;
          x.iss = seg.seq;
          x.nxtKnown = true;
          x.nxt = seqAdd(seg.seq, 1);
          if (this.pendingSynAt >= 0 && this.pendingSynSide === x.side) {
            // It sent a SYN of its own, not a SYN,ACK, after the peer's SYN went by:
            // both SYNs crossed, and the peer's reached it in SYN-SENT.
            this.pendingSynAt = -1;
            this.simultaneousOpen = true;
            this.move(x, E_SIMULTANEOUS_OPEN, now, false, n);
          }
        } else if (x.issKnown && seg.seq === x.iss) {
          x.synRetransmissions++;
        }
        x.lastSynAt = now;
      } else {
        if (x.state === 'CLOSED' && this.pendingSynAt >= 0) {
          // It answered a SYN: it was listening, and the SYN moved it on when it arrived.
          this.move(x, E_PASSIVE_OPEN, this.pendingSynAt, true, this.pendingSynPacket);
          x.passive = true;
          this.move(x, E_RCV_SYN, this.pendingSynAt, false, this.pendingSynPacket);
          this.pendingSynAt = -1;
        }
        if (x.synAckSent && x.issKnown && seg.seq === x.iss) {
          x.synRetransmissions++;
        } else {
          x.synAckSent = true;
          x.issKnown = true;
          x.iss = seg.seq;
          if (!x.nxtKnown || seqGt(seqAdd(seg.seq, 1), x.nxt)) x.nxt = seqAdd(seg.seq, 1);
          x.nxtKnown = true;
        }
        x.lastSynAt = now;
      }
    }
    const start = f & SYN ? seqAdd(seg.seq, 1) : seg.seq;
    const dataEnd = seqAdd(start, seg.len);
    if (seg.len > 0 || (f & (SYN | FIN)) === 0) this.classifyData(x, y, seg, start, dataEnd, now);
    if (seg.len > 0 && y.finSent && x.nxtKnown && seqGt(dataEnd, x.nxt)) {
      y.dataAfterOwnFin = true;
      this.halfClose = true;
    }
    if (f & FIN) {
      if (x.finSent && dataEnd === x.finSeq) {
        x.finRetransmissions++;
      } else if (!x.finSent) {
        x.finSent = true;
        x.finSeq = dataEnd;
        switch (x.state) {
          case 'ESTABLISHED':
            this.move(x, E_CLOSE_ESTABLISHED, now, false, n);
            break;
          case 'CLOSE_WAIT':
            this.move(x, E_CLOSE_CLOSE_WAIT, now, false, n);
            break;
          case 'SYN_RECEIVED':
            this.move(x, E_CLOSE_SYN_RECEIVED, now, false, n);
            break;
          default:
            break;
        }
      }
    }
    const end = seqAdd(dataEnd, f & FIN ? 1 : 0);
    if (!x.nxtKnown || seqGt(end, x.nxt)) {
      x.nxt = end;
      x.nxtKnown = true;
    }
    if (seg.window === 0 && !(f & SYN)) x.zeroWindows++;
  }

  /** Retransmission, reordering, keep-alive, gap, or data after FIN. */
  private classifyData(x: ObservedEndpoint, _y: ObservedEndpoint, seg: Readonly<Segment>, start: number, dataEnd: number, now: number): void {
    if (!x.nxtKnown) return;
    const f = seg.flags;
    const gapAt = x.gapAt;
    if (seg.len <= 1 && start === seqAdd(x.nxt, -1) && (f & (SYN | FIN | RST)) === 0 && f & ACK) {
      x.keepAlives++;
      return;
    }
    if (seg.len === 0) return;
    if (x.finSent && seqGt(dataEnd, x.finSeq)) x.dataAfterFin++;
    if (seqLt(start, x.nxt)) {
      // Old sequence space: filling a hole that opened a moment ago is reordering;
      // anything else was sent before (a retransmission).
      const filled = x.holes !== null && fillHoles(x.holes, start, dataEnd);
      const reorderWindow = this.handshakeRttMs > 0 ? this.handshakeRttMs : 3;
      if (filled && gapAt >= 0 && now - gapAt <= reorderWindow) x.outOfOrder++;
      else x.retransmissions++;
    } else if (seqGt(start, x.nxt)) {
      x.gapAt = now;
      x.holes ??= [];
      if (x.holes.length >= MAX_HOLES) x.holes.splice(0, 2);
      x.holes.push(x.nxt, start);
    }
  }

  private receiverSide(x: ObservedEndpoint, y: ObservedEndpoint, seg: Readonly<Segment>, now: number): void {
    const f = seg.flags;
    const n = this.packetNo;
    if (f & RST) {
      this.resetArrives(y, seg, now);
      return;
    }
    if (f & ACK && y.nxtKnown && seqGt(seg.ack, y.nxt)) {
      // Acknowledged but never seen: the capture missed it.
      const missed = seqDiff(seg.ack, y.nxt);
      if (missed > 0 && missed < 0x40000000) {
        y.missedBytes += missed;
        y.gapsAcked++;
      }
      y.nxt = seg.ack;
    }
    if (f & ACK && y.holes !== null && y.holes.length > 0) {
      // Holes below the acknowledgement were received by the peer: the capture missed them.
      while (y.holes.length > 0 && seqLe(y.holes[1] as number, seg.ack)) {
        y.missedBytes += seqDiff(y.holes[1] as number, y.holes[0] as number);
        y.gapsAcked++;
        y.holes.splice(0, 2);
      }
    }
    const acksSyn = (f & ACK) !== 0 && y.issKnown && seqGt(seg.ack, y.iss);
    const acksFin = (f & ACK) !== 0 && y.finSent && seqGt(seg.ack, y.finSeq);
    if (acksFin) y.finAckedSeen = true;
    if (f & SYN) {
      if (!(f & ACK)) {
        if (y.state === 'SYN_SENT') {
          this.simultaneousOpen = true;
          this.move(y, E_SIMULTANEOUS_OPEN, now, false, n);
        } else if (y.state === 'CLOSED' && this.pendingSynAt < 0) {
          this.pendingSynAt = now;
          this.pendingSynPacket = n;
          this.pendingSynSide = y.side;
        }
      } else if (y.state === 'SYN_SENT' && acksSyn) {
        this.move(y, E_RCV_SYN_ACK, now, false, n);
        if (this.synAckAt < 0) {
          this.synAckAt = now;
          if (y.lastSynAt >= 0) this.synAckRttMs = now - y.lastSynAt;
        }
      } else if (y.state === 'SYN_RECEIVED' && acksSyn) {
        this.move(y, E_RCV_ACK_OF_SYN, now, false, n); // simultaneous open: the SYN,ACK acknowledges ours
      }
    } else if (f & ACK) {
      if (y.state === 'SYN_RECEIVED' && acksSyn) {
        this.move(y, E_RCV_ACK_OF_SYN, now, false, n);
        if (this.handshakeRttMs < 0 && y.side === 'resp' && this.orig.lastSynAt >= 0 && !this.midStream) {
          this.handshakeRttMs = now - this.orig.lastSynAt;
        }
      }
      if (acksFin && !(f & FIN)) {
        if (y.state === 'FIN_WAIT_1') this.move(y, E_RCV_ACK_OF_FIN, now, false, n);
        else if (y.state === 'CLOSING') this.enterTimeWait(y, E_CLOSING_ACK_OF_FIN, now, n);
        else if (y.state === 'LAST_ACK') this.move(y, E_LAST_ACK_ACK_OF_FIN, now, false, n);
      }
    }
    if (f & FIN && x.finSent) {
      const first = !y.peerFinSeen;
      y.peerFinSeen = true;
      if (!first) {
        if (y.state === 'TIME_WAIT') y.timeWaitDeadline = now + this.profile.timeWaitMs; // restarts 2MSL
        return;
      }
      if (acksFin && y.state === 'CLOSING') this.enterTimeWait(y, E_CLOSING_ACK_OF_FIN, now, n);
      if (acksFin && y.state === 'LAST_ACK') this.move(y, E_LAST_ACK_ACK_OF_FIN, now, false, n);
      if (y.state === 'ESTABLISHED' && !y.finSent) {
        this.pendingFin = { to: y, at: now, packet: n };
        return;
      }
      this.deliverFin(y, x, acksFin, now, n);
    }
  }

  /** The peer's FIN reaches `y` (§3.10.7.4 eighth). */
  private deliverFin(y: ObservedEndpoint, x: ObservedEndpoint, acksFin: boolean, now: number, n: number): void {
    void x;
    const ackedNow = acksFin || (y.finSent && this.finAckedByPeer(y));
    {
      switch (y.state) {
        case 'SYN_RECEIVED':
          this.move(y, E_RCV_ACK_OF_SYN, now, false, n);
          this.move(y, E_RCV_FIN, now, false, n);
          break;
        case 'ESTABLISHED':
          this.move(y, E_RCV_FIN, now, false, n);
          break;
        case 'FIN_WAIT_1':
          if (ackedNow) this.enterTimeWait(y, E_RCV_FIN_ACK_OF_FIN, now, n);
          else {
            this.simultaneousClose = true;
            this.move(y, E_SIMULTANEOUS_CLOSE, now, false, n);
          }
          break;
        case 'FIN_WAIT_2':
          this.enterTimeWait(y, E_RCV_FIN_FIN_WAIT_2, now, n);
          break;
        default:
          break;
      }
    }
  }

  /** The peer has acknowledged y's FIN in what it sent so far. */
  private finAckedByPeer(y: ObservedEndpoint): boolean {
    return y.finAckedSeen;
  }

  private resetArrives(y: ObservedEndpoint, seg: Readonly<Segment>, now: number): void {
    const n = this.packetNo;
    switch (y.state) {
      case 'SYN_SENT':
        // §3.10.7.3: only a RST that acknowledges our SYN is acceptable.
        if (seg.flags & ACK && y.issKnown && seqGt(seg.ack, y.iss)) this.move(y, E_RST_REFUSED, now, false, n);
        break;
      case 'SYN_RECEIVED':
        this.move(y, y.passive ? E_RST_TO_LISTEN : E_RST_REFUSED_SYN_RECEIVED, now, false, n);
        break;
      case 'ESTABLISHED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
      case 'CLOSE_WAIT':
        this.move(y, E_RST_RESET, now, false, n);
        break;
      case 'CLOSING':
      case 'LAST_ACK':
      case 'TIME_WAIT':
        if (y.state === 'TIME_WAIT' && this.profile.rfc1337) break;
        this.move(y, E_RST_CLOSING, now, false, n);
        y.timeWaitDeadline = -1;
        break;
      default:
        break;
    }
  }

  private enterTimeWait(e: ObservedEndpoint, id: number, now: number, n: number): void {
    this.move(e, id, now, false, n);
    e.timeWaitDeadline = now + this.profile.timeWaitMs;
  }

  /** Takes edge `id` (an E_ constant) when the side is in one of its origin states; else the state is kept. */
  private move(e: ObservedEndpoint, id: number, at: number, inferred: boolean, packet: number): void {
    if (((EDGE_FROM[id] as number) & (1 << e.code)) === 0) return; // the wire shows something the table has no edge for
    const from = e.state;
    e.code = EDGE_TO[id] as number;
    if (this.sink.recording) this.sink.transition({ at, side: e.side, from, to: e.state, rule: EDGE_IDS[id] as TransitionId, inferred, packet });
  }

  /** Mid-stream start: the side is synchronized already; no rule applies. */
  private force(e: ObservedEndpoint, to: TcpState, at: number): void {
    const from = e.state;
    e.code = TCP_STATES.indexOf(to);
    if (this.sink.recording) this.sink.transition({ at, side: e.side, from, to, rule: 'mid-stream', inferred: true, packet: 1 });
  }

  /** True when the side is in a synchronized state that a RST could abort. */
  static synchronized(state: TcpState): boolean {
    return SYNCHRONIZED.has(state);
  }
}

// Sequence numbers and millisecond times are past the small-integer range: their fields
// get their final layout now, before the first connection (see ./object-layout.ts).
{
  const e = new ObservedEndpoint('orig');
  settleNumberFields(e, ['iss', 'nxt', 'finSeq', 'timeWaitDeadline', 'lastSynAt', 'gapAt']);
  settleMutableFields(e);
  const o = new PassiveObserver(LINUX_PROFILE, { recording: false, transition: () => undefined });
  settleNumberFields(o, ['synAckAt', 'handshakeRttMs', 'synAckRttMs', 'pendingSynAt']);
  settleMutableFields(o);
}
