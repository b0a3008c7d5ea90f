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
import type { Profile } from './profile.js';
import { ACK, FIN, RST, SYN, type Segment } from './segment.js';
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.js';
import type { TcpState } from './states.js';
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
  state: TcpState = 'CLOSED';
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

  /** Back to a fresh endpoint (objects are reused from one connection to the next). */
  reset(): void {
    this.state = 'CLOSED';
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

/** TRANSITIONS by id with their origins as a set: `move` runs on most packets. */
const EDGES: ReadonlyMap<string, { readonly from: ReadonlySet<TcpState>; readonly to: TcpState }> = new Map(
  Object.values(TRANSITION_BY_ID).map((t) => [t.id, { from: new Set(t.from), to: t.to }]),
);

const SYNCHRONIZED: ReadonlySet<TcpState> = new Set(['SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT']);

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
    this.expire(this.orig, now);
    this.expire(this.resp, now);
  }

  private expire(e: ObservedEndpoint, now: number): void {
    if (e.timeWaitDeadline >= 0 && now >= e.timeWaitDeadline && e.state === 'TIME_WAIT') {
      this.move(e, 'time-wait-timeout', e.timeWaitDeadline, false, 0);
      e.timeWaitDeadline = -1;
    }
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
      this.move(y, 'active-open', now, true, 1);
      y.issKnown = false;
      y.passive = false;
      this.move(x, 'passive-open', now, true, 1);
      x.passive = true;
      this.move(x, 'rcv-syn', now, true, 1);
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
      this.resets = [...this.resets, { at: now, by: x.side, state: x.state, packet: n }];
      switch (x.state) {
        case 'SYN_SENT':
          this.move(x, 'abort-listen', now, false, n);
          break;
        case 'SYN_RECEIVED':
        case 'ESTABLISHED':
        case 'CLOSE_WAIT':
          this.move(x, 'abort', now, false, n);
          break;
        case 'FIN_WAIT_1':
        case 'FIN_WAIT_2':
          this.move(x, x.dataAfterOwnFin ? 'data-after-close' : 'abort', now, false, n);
          break;
        case 'CLOSING':
        case 'LAST_ACK':
        case 'TIME_WAIT':
          this.move(x, 'abort-closing', now, false, n);
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
          this.move(x, x.state === 'CLOSED' ? 'active-open' : 'listen-send', now, false, n);
          x.issKnown = true;
          x.iss = seg.seq;
          x.nxtKnown = true;
          x.nxt = seqAdd(seg.seq, 1);
          if (this.pendingSynAt >= 0 && this.pendingSynSide === x.side) {
            // It sent a SYN of its own, not a SYN,ACK, after the peer's SYN went by:
            // both SYNs crossed, and the peer's reached it in SYN-SENT.
            this.pendingSynAt = -1;
            this.simultaneousOpen = true;
            this.move(x, 'simultaneous-open', now, false, n);
          }
        } else if (x.issKnown && seg.seq === x.iss) {
          x.synRetransmissions++;
        }
        x.lastSynAt = now;
      } else {
        if (x.state === 'CLOSED' && this.pendingSynAt >= 0) {
          // It answered a SYN: it was listening, and the SYN moved it on when it arrived.
          this.move(x, 'passive-open', this.pendingSynAt, true, this.pendingSynPacket);
          x.passive = true;
          this.move(x, 'rcv-syn', this.pendingSynAt, false, this.pendingSynPacket);
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
            this.move(x, 'close-established', now, false, n);
            break;
          case 'CLOSE_WAIT':
            this.move(x, 'close-close-wait', now, false, n);
            break;
          case 'SYN_RECEIVED':
            this.move(x, 'close-syn-received', now, false, n);
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
          this.move(y, 'simultaneous-open', now, false, n);
        } else if (y.state === 'CLOSED' && this.pendingSynAt < 0) {
          this.pendingSynAt = now;
          this.pendingSynPacket = n;
          this.pendingSynSide = y.side;
        }
      } else if (y.state === 'SYN_SENT' && acksSyn) {
        this.move(y, 'rcv-syn-ack', now, false, n);
        if (this.synAckAt < 0) {
          this.synAckAt = now;
          if (y.lastSynAt >= 0) this.synAckRttMs = now - y.lastSynAt;
        }
      } else if (y.state === 'SYN_RECEIVED' && acksSyn) {
        this.move(y, 'rcv-ack-of-syn', now, false, n); // simultaneous open: the SYN,ACK acknowledges ours
      }
    } else if (f & ACK) {
      if (y.state === 'SYN_RECEIVED' && acksSyn) {
        this.move(y, 'rcv-ack-of-syn', now, false, n);
        if (this.handshakeRttMs < 0 && y.side === 'resp' && this.orig.lastSynAt >= 0 && !this.midStream) {
          this.handshakeRttMs = now - this.orig.lastSynAt;
        }
      }
      if (acksFin && !(f & FIN)) {
        if (y.state === 'FIN_WAIT_1') this.move(y, 'rcv-ack-of-fin', now, false, n);
        else if (y.state === 'CLOSING') this.enterTimeWait(y, 'closing-ack-of-fin', now, n);
        else if (y.state === 'LAST_ACK') this.move(y, 'last-ack-ack-of-fin', now, false, n);
      }
    }
    if (f & FIN && x.finSent) {
      const first = !y.peerFinSeen;
      y.peerFinSeen = true;
      if (!first) {
        if (y.state === 'TIME_WAIT') y.timeWaitDeadline = now + this.profile.timeWaitMs; // restarts 2MSL
        return;
      }
      if (acksFin && y.state === 'CLOSING') this.enterTimeWait(y, 'closing-ack-of-fin', now, n);
      if (acksFin && y.state === 'LAST_ACK') this.move(y, 'last-ack-ack-of-fin', now, false, n);
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
          this.move(y, 'rcv-ack-of-syn', now, false, n);
          this.move(y, 'rcv-fin', now, false, n);
          break;
        case 'ESTABLISHED':
          this.move(y, 'rcv-fin', now, false, n);
          break;
        case 'FIN_WAIT_1':
          if (ackedNow) this.enterTimeWait(y, 'rcv-fin-ack-of-fin', now, n);
          else {
            this.simultaneousClose = true;
            this.move(y, 'simultaneous-close', now, false, n);
          }
          break;
        case 'FIN_WAIT_2':
          this.enterTimeWait(y, 'rcv-fin-fin-wait-2', now, n);
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
        if (seg.flags & ACK && y.issKnown && seqGt(seg.ack, y.iss)) this.move(y, 'rst-refused', now, false, n);
        break;
      case 'SYN_RECEIVED':
        this.move(y, y.passive ? 'rst-to-listen' : 'rst-refused-syn-received', now, false, n);
        break;
      case 'ESTABLISHED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
      case 'CLOSE_WAIT':
        this.move(y, 'rst-reset', now, false, n);
        break;
      case 'CLOSING':
      case 'LAST_ACK':
      case 'TIME_WAIT':
        if (y.state === 'TIME_WAIT' && this.profile.rfc1337) break;
        this.move(y, 'rst-closing', now, false, n);
        y.timeWaitDeadline = -1;
        break;
      default:
        break;
    }
  }

  private enterTimeWait(e: ObservedEndpoint, id: TransitionId, now: number, n: number): void {
    this.move(e, id, now, false, n);
    e.timeWaitDeadline = now + this.profile.timeWaitMs;
  }

  private move(e: ObservedEndpoint, id: TransitionId, at: number, inferred: boolean, packet: number): void {
    const rule = EDGES.get(id);
    if (rule === undefined || !rule.from.has(e.state)) return; // the wire shows something the table has no edge for: keep the state
    const from = e.state;
    e.state = rule.to;
    if (this.sink.recording) this.sink.transition({ at, side: e.side, from, to: e.state, rule: id, inferred, packet });
  }

  /** Mid-stream start: the side is synchronized already; no rule applies. */
  private force(e: ObservedEndpoint, to: TcpState, at: number): void {
    const from = e.state;
    e.state = to;
    if (this.sink.recording) this.sink.transition({ at, side: e.side, from, to, rule: 'mid-stream', inferred: true, packet: 1 });
  }

  /** True when the side is in a synchronized state that a RST could abort. */
  static synchronized(state: TcpState): boolean {
    return SYNCHRONIZED.has(state);
  }
}
