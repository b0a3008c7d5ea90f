/**
 * One TCP endpoint: the TCB and its event processing, sans-IO.
 *
 * Implements RFC 9293 §3.10 Event Processing — user calls OPEN (§3.10.1), SEND (§3.10.2),
 * RECEIVE (§3.10.3), CLOSE (§3.10.4), ABORT (§3.10.5); SEGMENT ARRIVES (§3.10.7) in the
 * RFC's order of checks (sequence number, RST with RFC 5961 §3, SYN with RFC 5961 §4,
 * ACK with RFC 5961 §5, segment text, FIN); timeouts (§3.10.8) with the RFC 6298 timer.
 *
 * Time is an argument of every call (milliseconds, any origin); the endpoint never reads
 * a clock. Outputs go to an `EndpointSink` given at construction: segments to send, state
 * changes (with the transition rule as cause) and user notifications. The segment handed
 * to `sink.send` is a scratch object reused on the next send: copy it to keep it.
 *
 * State only changes through `transition(ruleId)`, which refuses edges missing from
 * TRANSITIONS (./transitions.ts), so the diagram drawn from that table is the model.
 *
 * Limitations: payload is counted, not stored; out-of-order segments are not queued
 * (they are acknowledged and dropped, RFC 9293 §3.10.7.4 allows this); every data segment
 * is acknowledged at once (no delayed ACK); there is no congestion control, fast
 * retransmit, SACK, urgent data, options or security/compartment check. After a timeout
 * the oldest segment is retransmitted, and each ACK that follows during recovery
 * retransmits the next one (go-back-N in lockstep with the receiver's cumulative ACK).
 */
import { ConnectionCallError } from './errors.js';
import type { Profile } from './profile.js';
import { RtoEstimator } from './rto.js';
import { ACK, FIN, newSegment, PSH, RST, SYN, type Segment } from './segment.js';
import { seqAdd, seqGt, seqInWindow, seqLe, seqLt } from './seq.js';
import type { TcpState } from './states.js';
import { isAllowedTransition, TRANSITION_BY_ID, type TransitionId, type TransitionRule } from './transitions.js';

/** What the endpoint tells its user (RFC 9293 §3.9 "signal to the user"). */
export type Notification =
  | 'established'
  | 'data'
  | 'closing'
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'closed';

export interface EndpointSink {
  /** A segment to put on the wire. Valid only during the call. */
  send(seg: Readonly<Segment>, now: number): void;
  stateChanged(from: TcpState, to: TcpState, rule: TransitionRule, now: number): void;
  /** `bytes` is the amount of data for 'data', 0 otherwise. */
  notify(what: Notification, bytes: number, now: number): void;
}

export interface EndpointOptions {
  readonly profile: Profile;
  /** Initial send sequence number base; the ISS of a connection is derived from it and the time. */
  readonly iss: number;
  /** Application reads data as soon as it arrives (true) or only on `receive` (false). */
  readonly reading?: boolean;
  readonly mss?: number;
  readonly rcvBuffer?: number;
}

const OFF = -1;

/** The earlier of two deadlines where OFF means "none". */
function earliest(a: number, b: number): number {
  if (b === OFF) return a;
  return a === OFF || b < a ? b : a;
}

/** The RFC's ISN clock ticks every 4 µs: 250 ticks per millisecond (RFC 9293 §3.4.1). */
const ISN_TICKS_PER_MS = 250;

export class Endpoint {
  state: TcpState = 'CLOSED';

  // --- the TCB (RFC 9293 §3.3.1) ---
  iss = 0;
  irs = 0;
  sndUna = 0;
  sndNxt = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Largest window the peer has offered (RFC 5961 §5.2 MAX.SND.WND). */
  maxSndWnd = 0;
  rcvNxt = 0;

  // --- send side: the retransmission queue is the sequence range [sndUna, sndNxt) ---
  /** Octets SENT by the user and not yet transmitted. */
  sendQueued = 0;
  /** CLOSE was called: a FIN follows the queued data. */
  finQueued = false;
  finSent = false;
  /** Sequence number of our FIN once sent. */
  finSeq = 0;

  // --- receive side ---
  /** Octets received and not yet read by the application. */
  rcvBuffered = 0;
  /** The application reads as data arrives. */
  reading: boolean;
  /** The peer's FIN has been received: RECEIVE returns end of stream. */
  peerFinReceived = false;

  /** The connection came from a passive OPEN (matters for RST and SYN in SYN-RECEIVED). */
  passiveOpen = false;
  /** Linux: the application called close(): no reads, data arriving is answered by RST. */
  orphan = false;

  // --- timers, as deadlines in the caller's time (OFF when not running) ---
  rtxDeadline = OFF;
  /** Retransmissions of the current oldest unacknowledged segment. */
  rtxCount = 0;
  /** During recovery after a timeout: retransmit up to here as ACKs arrive. */
  private recoverUntil = 0;
  private inRecovery = false;
  persistDeadline = OFF;
  private persistBackoff = 0;
  private probesOut = 0;
  timeWaitDeadline = OFF;
  finWait2Deadline = OFF;
  /** When the oldest unacknowledged data was first sent, for the user timeout. */
  private unackedSince = OFF;
  /** RTT timing (RFC 6298 with Karn's rule): sequence and send time of the timed segment. */
  private rttSeq = 0;
  private rttTime = OFF;
  /** Right edge of the window last advertised, for receiver SWS avoidance (§3.8.6.2.2). */
  private advertisedRightEdge = 0;

  readonly profile: Profile;
  readonly mss: number;
  readonly rcvBufferSize: number;
  readonly rto: RtoEstimator;
  private readonly issBase: number;
  private readonly sink: EndpointSink;
  private readonly out: Segment = newSegment();

  constructor(options: EndpointOptions, sink: EndpointSink) {
    this.profile = options.profile;
    this.issBase = options.iss >>> 0;
    this.reading = options.reading ?? true;
    this.mss = options.mss ?? options.profile.mss;
    this.rcvBufferSize = options.rcvBuffer ?? options.profile.rcvBuffer;
    this.rto = new RtoEstimator(this.profile.initialRtoMs, this.profile.minRtoMs, this.profile.maxRtoMs);
    this.sink = sink;
  }

  /** RCV.WND: free space in the receive buffer. */
  get rcvWnd(): number {
    return this.rcvBufferSize - this.rcvBuffered;
  }

  /** The earliest pending timer, or -1 when none runs. */
  nextDeadline(): number {
    let d = earliest(OFF, this.rtxDeadline);
    d = earliest(d, this.persistDeadline);
    d = earliest(d, this.timeWaitDeadline);
    d = earliest(d, this.finWait2Deadline);
    if (this.profile.userTimeoutMs !== null && this.unackedSince !== OFF) {
      d = earliest(d, this.unackedSince + this.profile.userTimeoutMs);
    }
    return d;
  }

  // ======================================================================
  // User calls (RFC 9293 §3.10.1 – §3.10.5)
  // ======================================================================

  /** Passive OPEN (§3.10.1). */
  listen(now: number): void {
    if (this.state !== 'CLOSED') throw new ConnectionCallError('listen', this.state, 'connection already exists');
    this.resetTcb();
    this.passiveOpen = true;
    this.transition('passive-open', now);
  }

  /** Active OPEN (§3.10.1); from LISTEN it turns the listener active (§3.10.2). */
  connect(now: number): void {
    if (this.state === 'CLOSED') {
      this.startActiveOpen(now);
      this.transition('active-open', now);
    } else if (this.state === 'LISTEN') {
      this.startActiveOpen(now);
      this.transition('listen-send', now);
    } else {
      throw new ConnectionCallError('connect', this.state, 'connection already exists');
    }
    this.sendSyn(now);
  }

  /** SEND (§3.10.2): queue `bytes` octets for transmission. */
  send(bytes: number, now: number): void {
    switch (this.state) {
      case 'CLOSED':
        throw new ConnectionCallError('send', this.state, 'connection does not exist');
      case 'LISTEN':
        // §3.10.2: SEND in LISTEN with a foreign socket turns the connection active.
        this.startActiveOpen(now);
        this.transition('listen-send', now);
        this.sendSyn(now);
        this.sendQueued += bytes;
        return;
      case 'SYN_SENT':
      case 'SYN_RECEIVED':
        if (this.finQueued) throw new ConnectionCallError('send', this.state, 'connection closing');
        this.sendQueued += bytes; // queued until ESTABLISHED
        return;
      case 'ESTABLISHED':
      case 'CLOSE_WAIT':
        this.sendQueued += bytes;
        this.output(now);
        return;
      default:
        throw new ConnectionCallError('send', this.state, 'connection closing');
    }
  }

  /** RECEIVE (§3.10.3): the application reads up to `max` octets; returns how many. */
  receive(max: number, now: number): number {
    if (this.state === 'CLOSED') throw new ConnectionCallError('receive', this.state, 'connection does not exist');
    if (this.orphan) throw new ConnectionCallError('receive', this.state, 'socket closed by the application');
    const n = Math.min(max, this.rcvBuffered);
    if (n > 0) {
      this.rcvBuffered -= n;
      this.maybeSendWindowUpdate(now);
    }
    return n;
  }

  /** Stops or resumes the application's reading; resuming reads everything buffered. */
  setReading(enabled: boolean, now: number): void {
    this.reading = enabled;
    if (enabled && this.rcvBuffered > 0 && this.state !== 'CLOSED') {
      const n = this.rcvBuffered;
      this.rcvBuffered = 0;
      this.sink.notify('data', n, now);
      this.maybeSendWindowUpdate(now);
    }
  }

  /**
   * CLOSE (§3.10.4): "I have no more data to send" — a half-close; the endpoint keeps
   * receiving. Under a profile with `closeOrphans` (linux) this is close(2): the socket
   * is orphaned, unread data causes a RST, and use `shutdown` for a half-close.
   */
  close(now: number): void {
    this.closeCall(now, this.profile.closeOrphans, 'close');
  }

  /** shutdown(SHUT_WR): a half-close in every profile (the RFC's CLOSE). */
  shutdown(now: number): void {
    this.closeCall(now, false, 'shutdown');
  }

  /** ABORT (§3.10.5). */
  abort(now: number): void {
    switch (this.state) {
      case 'CLOSED':
        throw new ConnectionCallError('abort', this.state, 'connection does not exist');
      case 'LISTEN':
      case 'SYN_SENT':
        this.enterClosed('abort-listen', now);
        return;
      case 'SYN_RECEIVED':
      case 'ESTABLISHED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
      case 'CLOSE_WAIT':
        // <SEQ=SND.NXT><CTL=RST>; like Linux we also carry the ACK.
        this.emit(this.sndNxt, this.rcvNxt, RST | ACK, 0, now);
        this.sink.notify('reset', 0, now);
        this.enterClosed('abort', now);
        return;
      default:
        this.enterClosed('abort-closing', now);
    }
  }

  /** `call` names the user's call in errors (close() does not orphan under every profile). */
  private closeCall(now: number, orphaning: boolean, call: 'close' | 'shutdown'): void {
    if (orphaning && this.profile.resetOnCloseWithUnreadData && this.rcvBuffered > 0) {
      if (this.state === 'SYN_RECEIVED' || this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT') {
        // Linux tcp_close(): unread data means the peer's data was lost: RST, not FIN.
        this.emit(this.sndNxt, this.rcvNxt, RST | ACK, 0, now);
        this.enterClosed('close-unread-data', now);
        return;
      }
    }
    switch (this.state) {
      case 'CLOSED':
        throw new ConnectionCallError(call, this.state, 'connection does not exist');
      case 'LISTEN':
        this.enterClosed('close-listen', now);
        return;
      case 'SYN_SENT':
        this.enterClosed('close-syn-sent', now);
        return;
      case 'SYN_RECEIVED':
        this.markOrphan(orphaning);
        this.finQueued = true;
        if (this.sendQueued === 0) {
          this.transition('close-syn-received', now);
          this.output(now);
        }
        // else: queued until ESTABLISHED (§3.10.4), then FIN-WAIT-1.
        return;
      case 'ESTABLISHED':
        if (this.finQueued) throw new ConnectionCallError(call, this.state, 'connection closing');
        this.markOrphan(orphaning);
        this.finQueued = true;
        // §3.10.4: "In any case, enter FIN-WAIT-1 state"; the FIN follows the queued data.
        this.transition('close-established', now);
        this.output(now);
        return;
      case 'CLOSE_WAIT':
        this.markOrphan(orphaning);
        this.finQueued = true;
        this.transition('close-close-wait', now);
        this.output(now);
        return;
      default:
        // FIN-WAIT-*, CLOSING, LAST-ACK, TIME-WAIT: the FIN is already on its way.
        if (orphaning && !this.orphan) {
          // Linux: close() after shutdown() only releases the socket to the kernel.
          this.markOrphan(true);
          if (this.state === 'FIN_WAIT_2') this.armFinWait2Timer(now);
          return;
        }
        throw new ConnectionCallError(call, this.state, 'connection closing');
    }
  }

  private markOrphan(orphaning: boolean): void {
    if (orphaning) {
      this.orphan = true;
      this.rcvBuffered = 0;
    }
  }

  // ======================================================================
  // SEGMENT ARRIVES (RFC 9293 §3.10.7)
  // ======================================================================

  segmentArrives(seg: Readonly<Segment>, now: number): void {
    switch (this.state) {
      case 'CLOSED':
        this.arrivesClosed(seg, now);
        return;
      case 'LISTEN':
        this.arrivesListen(seg, now);
        return;
      case 'SYN_SENT':
        this.arrivesSynSent(seg, now);
        return;
      default:
        this.arrivesSynchronizing(seg, now);
    }
  }

  /** §3.10.7.1: no TCB. Everything but a RST is answered with a RST. */
  private arrivesClosed(seg: Readonly<Segment>, now: number): void {
    if (seg.flags & RST) return;
    if (seg.flags & ACK) {
      this.emit(seg.ack, 0, RST, 0, now); // <SEQ=SEG.ACK><CTL=RST>
    } else {
      const segLen = seg.len + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
      this.emit(0, seqAdd(seg.seq, segLen), RST | ACK, 0, now); // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    }
  }

  /** §3.10.7.2 */
  private arrivesListen(seg: Readonly<Segment>, now: number): void {
    // First: a RST to a listener is ignored.
    if (seg.flags & RST) return;
    // Second: an ACK cannot be for anything here: <SEQ=SEG.ACK><CTL=RST>.
    if (seg.flags & ACK) {
      this.emit(seg.ack, 0, RST, 0, now);
      return;
    }
    // Third: SYN opens the connection.
    if (seg.flags & SYN) {
      this.irs = seg.seq;
      this.rcvNxt = seqAdd(seg.seq, 1);
      this.iss = this.chooseIss(now);
      this.sndUna = this.iss;
      this.sndNxt = seqAdd(this.iss, 1);
      // Linux takes the peer's window from the SYN; the RFC sets it with the ACK.
      this.setSendWindow(seg);
      this.transition('rcv-syn', now);
      this.sendSynAck(now);
      return;
    }
    // Fourth: anything else is dropped.
  }

  /** §3.10.7.3 */
  private arrivesSynSent(seg: Readonly<Segment>, now: number): void {
    const hasAck = (seg.flags & ACK) !== 0;
    // First: the ACK must acknowledge our SYN: ISS < SEG.ACK =< SND.NXT.
    if (hasAck && (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndNxt))) {
      if (!(seg.flags & RST)) this.emit(seg.ack, 0, RST, 0, now);
      return;
    }
    // Second: RST is valid only with an acceptable ACK (RFC 5961 §3.2 for SYN-SENT).
    if (seg.flags & RST) {
      if (hasAck) {
        this.sink.notify('refused', 0, now);
        this.enterClosed('rst-refused', now);
      }
      return;
    }
    // Fourth: SYN.
    if (!(seg.flags & SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    if (hasAck) this.sndUna = seg.ack;
    if (seqGt(this.sndUna, this.iss)) {
      // Our SYN is acknowledged: the handshake completes here.
      this.setSendWindow(seg);
      this.stopRetransmitTimer();
      this.unackedSince = OFF;
      this.inRecovery = false;
      this.sampleRtt(seg.ack, now);
      this.rto.restore();
      this.transition('rcv-syn-ack', now);
      this.sink.notify('established', 0, now);
      this.sendAck(now);
      this.output(now);
    } else {
      // Simultaneous open: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
      this.setSendWindow(seg);
      this.transition('simultaneous-open', now);
      this.rttTime = OFF; // the SYN,ACK repeats the SYN's sequence number (Karn)
      this.sendSynAck(now);
    }
  }

  /** §3.10.7.4: SYN-RECEIVED and the synchronized states. */
  private arrivesSynchronizing(seg: Readonly<Segment>, now: number): void {
    const flags = seg.flags;
    const wnd = this.rcvWnd;
    const segLen = seg.len + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);

    // ---- First: check sequence number (the four acceptability cases) ----
    let acceptable: boolean;
    if (segLen === 0) {
      acceptable = wnd === 0 ? seg.seq === this.rcvNxt : seqInWindow(seg.seq, this.rcvNxt, wnd);
    } else {
      acceptable =
        wnd !== 0 &&
        (seqInWindow(seg.seq, this.rcvNxt, wnd) || seqInWindow(seqAdd(seg.seq, segLen - 1), this.rcvNxt, wnd));
    }
    if (!acceptable) {
      if (flags & RST) return; // out-of-window RST: silently dropped (RFC 5961 §3.2 case 1)
      if (this.state === 'TIME_WAIT' && flags & FIN && seqAdd(seg.seq, segLen) === this.rcvNxt) {
        // A retransmitted FIN: the peer lost our last ACK. Re-ACK and restart the
        // 2MSL wait (§3.10.7.4 eighth, TIME-WAIT) — this is why TIME-WAIT exists.
        this.timeWaitDeadline = now + this.profile.timeWaitMs;
        this.sendAck(now);
        return;
      }
      // §3.10.7.4: zero window still accepts valid ACKs on the expected sequence.
      // The ACK has its full fifth-step effect, including on our FIN; only the text is dropped.
      if (wnd === 0 && seg.seq === this.rcvNxt && flags & ACK && !(flags & SYN)) {
        if (!this.processAck(seg, now)) return;
        if (this.state === 'FIN_WAIT_1' || this.state === 'CLOSING' || this.state === 'LAST_ACK') {
          if (this.ackOfOurFin(now)) return; // LAST-ACK → CLOSED: nothing more to send
        }
      }
      this.sendAck(now); // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
      return;
    }

    // Trim to the window: drop the part before RCV.NXT and beyond RCV.NXT+RCV.WND.
    let seq = seg.seq;
    let len = seg.len;
    let syn = (flags & SYN) !== 0;
    let fin = (flags & FIN) !== 0;
    if (seqLt(seq, this.rcvNxt)) {
      let old = (this.rcvNxt - seq) >>> 0;
      if (syn) {
        syn = false;
        old -= 1;
        seq = seqAdd(seq, 1);
      }
      const cut = Math.min(old, len);
      len -= cut;
      seq = seqAdd(seq, cut);
      if (old > cut) fin = false; // the FIN itself is old
    }
    const room = wnd - ((seq - this.rcvNxt) >>> 0);
    if (len > room) {
      len = Math.max(0, room);
      fin = false;
    }

    // ---- Second: RST (RFC 5961 §3.2) ----
    if (flags & RST) {
      if (seg.seq !== this.rcvNxt) {
        this.sendAck(now); // in window but not exact: challenge ACK
        return;
      }
      this.resetByPeer(now);
      return;
    }

    // ---- Fourth: SYN (RFC 5961 §4; RFC 9293 §3.10.7.4 fourth) ----
    if (syn) {
      if (this.state === 'SYN_RECEIVED' && this.passiveOpen) {
        this.returnToListen('syn-to-listen', now);
        return;
      }
      this.sendAck(now); // challenge ACK
      return;
    }

    // ---- Fifth: ACK ----
    if (!(flags & ACK)) return;
    if (this.state === 'SYN_RECEIVED') {
      if (seqGt(seg.ack, this.sndUna) && seqLe(seg.ack, this.sndNxt)) {
        this.setSendWindow(seg);
        this.transition('rcv-ack-of-syn', now);
        this.sink.notify('established', 0, now);
        if (this.finQueued) {
          // CLOSE was queued in SYN-RECEIVED behind data (§3.10.4); the FIN follows it.
          this.transition('close-established', now);
        }
      } else {
        this.emit(seg.ack, 0, RST, 0, now); // <SEQ=SEG.ACK><CTL=RST>
        return;
      }
    }
    if (!this.processAck(seg, now)) return;

    // FIN-WAIT-1 → FIN-WAIT-2 once our FIN is acknowledged; if this very segment also
    // carries the peer's FIN, the eighth step takes FIN-WAIT-1 straight to TIME-WAIT.
    switch (this.state) {
      case 'FIN_WAIT_1':
        // (An in-order FIN: the segment starts at RCV.NXT, whatever data precedes the FIN.)
        if (!(fin && seq === this.rcvNxt)) this.ackOfOurFin(now);
        break;
      case 'CLOSING':
      case 'LAST_ACK':
        this.ackOfOurFin(now);
        return;
      case 'TIME_WAIT':
        // Only a retransmitted FIN is expected here (handled as old above); re-ACK anything else.
        if (fin) {
          this.timeWaitDeadline = now + this.profile.timeWaitMs;
          this.sendAck(now);
        }
        return;
      default:
        break;
    }

    // Linux (tcp_rcv_state_process, RFC 1122 §4.2.2.13): after close() nobody will ever
    // read, so any new data — in order or not — is answered RST <SEQ=SEG.ACK> and aborts.
    if (len > 0 && this.orphan && (this.state === 'FIN_WAIT_1' || this.state === 'FIN_WAIT_2')) {
      this.emit(seg.ack, 0, RST, 0, now);
      this.sink.notify('reset', 0, now);
      this.enterClosed('data-after-close', now);
      return;
    }

    // Out of order (a gap before this segment): not queued (see Limitations); a
    // duplicate ACK tells the peer what we still expect.
    if (seq !== this.rcvNxt && (len > 0 || fin)) {
      this.sendAck(now);
      return;
    }

    // ---- Seventh: segment text ----
    if (len > 0) {
      if (this.state === 'ESTABLISHED' || this.state === 'FIN_WAIT_1' || this.state === 'FIN_WAIT_2') {
        this.rcvNxt = seqAdd(this.rcvNxt, len);
        this.deliver(len, now);
        if (!fin) this.sendAck(now);
      }
      // CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent FIN; text is ignored.
    }

    // ---- Eighth: FIN ----
    if (fin) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.peerFinReceived = true;
      this.sink.notify('closing', 0, now);
      // The ACK of the FIN goes out after the state change, so it carries the new state.
      switch (this.state) {
        case 'SYN_RECEIVED':
        case 'ESTABLISHED':
          this.transition('rcv-fin', now);
          break;
        case 'FIN_WAIT_1':
          if (this.ourFinAcked()) this.enterTimeWait('rcv-fin-ack-of-fin', now);
          else this.transition('simultaneous-close', now);
          break;
        case 'FIN_WAIT_2':
          this.enterTimeWait('rcv-fin-fin-wait-2', now);
          break;
        default:
          break; // CLOSE-WAIT, CLOSING, LAST-ACK: remain.
      }
      this.sendAck(now);
    }
  }

  /**
   * The ACK processing shared by the synchronized states (§3.10.7.4 fifth, ESTABLISHED).
   * Returns false when the segment must be dropped.
   */
  private processAck(seg: Readonly<Segment>, now: number): boolean {
    // Any acceptable ACK shows the peer alive: zero-window probing may go on for as long
    // as it answers (RFC 1122 §4.2.2.17) — except for orphans, which Linux bounds.
    if (!this.orphan) this.probesOut = 0;
    // RFC 5961 §5.2: acceptable range (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT.
    const lowest = (this.sndUna - this.maxSndWnd) >>> 0;
    if (seqGt(seg.ack, this.sndNxt) || seqLt(seg.ack, lowest)) {
      this.sendAck(now);
      return false;
    }
    if (seqGt(seg.ack, this.sndUna)) {
      this.sampleRtt(seg.ack, now);
      this.sndUna = seg.ack;
      this.rtxCount = 0;
      this.rto.restore();
      if (this.sndUna === this.sndNxt) {
        this.stopRetransmitTimer();
        this.unackedSince = OFF;
        this.inRecovery = false;
      } else {
        this.rtxDeadline = now + this.rto.rto;
        this.unackedSince = now;
        if (this.inRecovery && seqLt(this.sndUna, this.recoverUntil)) {
          this.retransmitOldest(now); // the next lost segment of the flight
        } else {
          this.inRecovery = false;
        }
      }
    }
    // Window update (§3.10.7.4): only from a segment newer than the last one used.
    if (
      seqLe(this.sndUna, seg.ack) &&
      (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, seg.ack)))
    ) {
      this.setSendWindow(seg);
    }
    if (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT' || this.finQueued) this.output(now);
    return true;
  }

  private ourFinAcked(): boolean {
    return this.finSent && seqGt(this.sndUna, this.finSeq);
  }

  /**
   * §3.10.7.4 fifth, FIN-WAIT-1, CLOSING and LAST-ACK: once our FIN is acknowledged,
   * enter FIN-WAIT-2, TIME-WAIT or CLOSED respectively. Returns true when CLOSED.
   */
  private ackOfOurFin(now: number): boolean {
    if (!this.ourFinAcked()) return false;
    switch (this.state) {
      case 'FIN_WAIT_1':
        this.transition('rcv-ack-of-fin', now);
        if (this.orphan) this.armFinWait2Timer(now);
        return false;
      case 'CLOSING':
        this.enterTimeWait('closing-ack-of-fin', now);
        return false;
      case 'LAST_ACK':
        this.sink.notify('closed', 0, now);
        this.enterClosed('last-ack-ack-of-fin', now);
        return true;
      default:
        return false;
    }
  }

  /** RST in an acceptable exact position (§3.10.7.4 second, per state). */
  private resetByPeer(now: number): void {
    switch (this.state) {
      case 'SYN_RECEIVED':
        if (this.passiveOpen) {
          this.returnToListen('rst-to-listen', now);
        } else {
          this.sink.notify('refused', 0, now);
          this.enterClosed('rst-refused-syn-received', now);
        }
        return;
      case 'ESTABLISHED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
      case 'CLOSE_WAIT':
        this.sink.notify('reset', 0, now);
        this.enterClosed('rst-reset', now);
        return;
      case 'TIME_WAIT':
        if (this.profile.rfc1337) return; // RFC 1337: TIME-WAIT ignores RST
        this.enterClosed('rst-closing', now);
        return;
      default:
        this.enterClosed('rst-closing', now);
    }
  }

  private deliver(len: number, now: number): void {
    if (this.reading) {
      this.sink.notify('data', len, now);
    } else {
      this.rcvBuffered += len;
    }
  }

  // ======================================================================
  // Timers (RFC 9293 §3.10.8, RFC 6298)
  // ======================================================================

  /** Fires every timer whose deadline is at or before `now`. */
  tick(now: number): void {
    if (this.timeWaitDeadline !== OFF && now >= this.timeWaitDeadline) {
      this.sink.notify('closed', 0, now);
      this.enterClosed('time-wait-timeout', now);
      return;
    }
    if (this.finWait2Deadline !== OFF && now >= this.finWait2Deadline) {
      this.enterClosed('fin-wait-2-timeout', now);
      return;
    }
    if (
      this.profile.userTimeoutMs !== null &&
      this.unackedSince !== OFF &&
      now >= this.unackedSince + this.profile.userTimeoutMs
    ) {
      this.giveUp(now);
      return;
    }
    if (this.rtxDeadline !== OFF && now >= this.rtxDeadline) this.retransmitTimeout(now);
    if (this.persistDeadline !== OFF && now >= this.persistDeadline) this.persistTimeout(now);
  }

  private retransmitTimeout(now: number): void {
    if (this.rtxCount >= this.retryLimit()) {
      this.giveUp(now);
      return;
    }
    this.rtxCount += 1;
    this.rto.backOff();
    this.rttTime = OFF; // Karn: never time a retransmitted segment
    this.inRecovery = true;
    this.recoverUntil = this.sndNxt;
    this.retransmitOldest(now);
    this.rtxDeadline = now + this.rto.rto;
  }

  private retryLimit(): number {
    if (this.state === 'SYN_SENT') return this.profile.synRetries;
    if (this.state === 'SYN_RECEIVED') return this.profile.synAckRetries;
    return this.orphan ? this.profile.orphanRetries : this.profile.dataRetries;
  }

  /** Retransmissions or the user timeout are exhausted: abort (§3.10.8 USER TIMEOUT). */
  private giveUp(now: number): void {
    if (this.state === 'SYN_RECEIVED' && this.passiveOpen) {
      this.returnToListen('syn-received-timeout', now);
      return;
    }
    this.sink.notify('timeout', 0, now);
    this.enterClosed('user-timeout', now);
  }

  /** Zero-window probe (§3.8.6.1): a segment the receiver must answer with its window. */
  private persistTimeout(now: number): void {
    if (this.probesOut >= this.retryLimit()) {
      this.giveUp(now);
      return;
    }
    this.probesOut += 1;
    // Like Linux and BSD: an old sequence number, no data; the receiver answers with an
    // ACK carrying its current window (RFC 1122 §4.2.2.17 lets the probe omit data).
    this.emit((this.sndUna - 1) >>> 0, this.rcvNxt, ACK, 0, now);
    this.persistBackoff = Math.min(this.persistBackoff * 2, this.profile.maxRtoMs);
    this.persistDeadline = now + this.persistBackoff;
  }

  private armFinWait2Timer(now: number): void {
    if (this.profile.finWait2TimeoutMs !== null) this.finWait2Deadline = now + this.profile.finWait2TimeoutMs;
  }

  private stopRetransmitTimer(): void {
    this.rtxDeadline = OFF;
    this.rtxCount = 0;
  }

  // ======================================================================
  // Sending
  // ======================================================================

  /** Transmits queued data and a queued FIN as far as the send window allows. */
  private output(now: number): void {
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECEIVED' || this.state === 'CLOSED') return;
    if (this.finSent && this.sendQueued === 0) return;
    for (;;) {
      const usable = (this.sndUna + this.sndWnd - this.sndNxt) | 0;
      if (this.sendQueued > 0) {
        if (usable <= 0) break;
        const n = Math.min(this.mss, this.sendQueued, usable);
        this.sendQueued -= n;
        // The FIN rides on the last data segment when it fits in the window.
        const withFin = this.sendQueued === 0 && this.finQueued && usable > n;
        const seq = this.sndNxt;
        this.sndNxt = seqAdd(this.sndNxt, n);
        let flags = ACK | (this.sendQueued === 0 ? PSH : 0);
        if (withFin) {
          flags |= FIN;
          this.finSeq = this.sndNxt;
          this.finSent = true;
          this.sndNxt = seqAdd(this.sndNxt, 1);
        }
        this.startTiming(seq, now);
        this.emit(seq, this.rcvNxt, flags, n, now);
        this.armRetransmit(now);
        if (withFin) break;
      } else if (this.finQueued && !this.finSent) {
        if (usable <= 0) break;
        this.finSeq = this.sndNxt;
        this.finSent = true;
        this.sndNxt = seqAdd(this.sndNxt, 1);
        this.startTiming(this.finSeq, now);
        this.emit(this.finSeq, this.rcvNxt, FIN | ACK, 0, now);
        this.armRetransmit(now);
        break;
      } else {
        break;
      }
    }
    // Persist timer: something waits for a window and nothing in flight will bring one.
    const waiting = this.sendQueued > 0 || (this.finQueued && !this.finSent);
    if (waiting && this.sndNxt === this.sndUna && this.sndWnd === 0) {
      if (this.persistDeadline === OFF) {
        this.persistBackoff = this.rto.rto;
        this.persistDeadline = now + this.persistBackoff;
      }
    } else {
      this.persistDeadline = OFF;
      this.persistBackoff = 0;
    }
  }

  /** Retransmits the oldest unacknowledged segment: SYN, SYN,ACK, data or FIN. */
  private retransmitOldest(now: number): void {
    if (this.state === 'SYN_SENT') {
      this.emit(this.iss, 0, SYN, 0, now);
      return;
    }
    // Our SYN is still unacknowledged: in SYN-RECEIVED, or after a CLOSE there (the FIN
    // then directly follows the SYN) — for a passive and a simultaneous open alike.
    const synPending = this.state === 'SYN_RECEIVED' || (this.finSent && this.finSeq === seqAdd(this.iss, 1));
    if (this.sndUna === this.iss && synPending) {
      this.emit(this.iss, this.rcvNxt, SYN | ACK, 0, now);
      return;
    }
    const dataEnd = this.finSent ? this.finSeq : this.sndNxt;
    if (seqLt(this.sndUna, dataEnd)) {
      const n = Math.min(this.mss, (dataEnd - this.sndUna) >>> 0);
      const end = seqAdd(this.sndUna, n);
      const withFin = this.finSent && end === this.finSeq && seqLt(this.finSeq, this.sndNxt);
      this.emit(this.sndUna, this.rcvNxt, ACK | PSH | (withFin ? FIN : 0), n, now);
    } else if (this.finSent && this.sndUna === this.finSeq) {
      this.emit(this.finSeq, this.rcvNxt, FIN | ACK, 0, now);
    }
  }

  private armRetransmit(now: number): void {
    if (this.rtxDeadline === OFF) this.rtxDeadline = now + this.rto.rto;
    if (this.unackedSince === OFF) this.unackedSince = now;
  }

  private startTiming(seq: number, now: number): void {
    if (this.rttTime === OFF && !this.inRecovery) {
      this.rttSeq = seq;
      this.rttTime = now;
    }
  }

  private sampleRtt(ack: number, now: number): void {
    if (this.rttTime !== OFF && seqGt(ack, this.rttSeq)) {
      this.rto.sample(now - this.rttTime);
      this.rttTime = OFF;
    }
  }

  private sendSyn(now: number): void {
    this.startTiming(this.iss, now);
    this.emit(this.iss, 0, SYN, 0, now);
    this.armRetransmit(now);
  }

  private sendSynAck(now: number): void {
    this.startTiming(this.iss, now);
    this.emit(this.iss, this.rcvNxt, SYN | ACK, 0, now);
    this.armRetransmit(now);
  }

  /** <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
  private sendAck(now: number): void {
    this.emit(this.sndNxt, this.rcvNxt, ACK, 0, now);
  }

  /** Receiver SWS avoidance (§3.8.6.2.2): announce a window that grew by min(MSS, buffer/2). */
  private maybeSendWindowUpdate(now: number): void {
    if (this.state === 'CLOSED' || this.state === 'LISTEN' || this.state === 'SYN_SENT') return;
    const rightEdge = seqAdd(this.rcvNxt, this.rcvWnd);
    const growth = (rightEdge - this.advertisedRightEdge) | 0;
    if (growth >= Math.min(this.mss, this.rcvBufferSize / 2)) this.sendAck(now);
  }

  private emit(seq: number, ack: number, flags: number, len: number, now: number): void {
    const out = this.out;
    out.seq = seq >>> 0;
    out.ack = flags & ACK ? ack >>> 0 : 0;
    out.flags = flags;
    out.len = len;
    out.window = flags & RST ? 0 : this.rcvWnd;
    if (!(flags & RST)) this.advertisedRightEdge = seqAdd(this.rcvNxt, this.rcvWnd);
    this.sink.send(out, now);
  }

  // ======================================================================
  // State changes
  // ======================================================================

  /** The single place where the state changes; refuses edges not in TRANSITIONS. */
  private transition(id: TransitionId, now: number): void {
    const rule = TRANSITION_BY_ID[id];
    if (!isAllowedTransition(id, this.state)) {
      throw new Error(`internal: transition ${id} is not allowed from ${this.state}`);
    }
    const from = this.state;
    this.state = rule.to;
    this.sink.stateChanged(from, rule.to, rule, now);
  }

  private enterTimeWait(id: TransitionId, now: number): void {
    this.stopRetransmitTimer();
    this.persistDeadline = OFF;
    this.finWait2Deadline = OFF;
    this.unackedSince = OFF;
    this.timeWaitDeadline = now + this.profile.timeWaitMs;
    this.transition(id, now);
  }

  private enterClosed(id: TransitionId, now: number): void {
    this.transition(id, now);
    this.resetTcb();
  }

  private returnToListen(id: TransitionId, now: number): void {
    this.transition(id, now);
    this.resetTcb();
    this.passiveOpen = true;
  }

  private startActiveOpen(now: number): void {
    this.resetTcb();
    this.passiveOpen = false;
    this.iss = this.chooseIss(now);
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
  }

  /** A clock-driven ISN (RFC 9293 §3.4.1) from the configured base and the caller's time. */
  private chooseIss(now: number): number {
    return seqAdd(this.issBase, Math.floor(now * ISN_TICKS_PER_MS) >>> 0);
  }

  private setSendWindow(seg: Readonly<Segment>): void {
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    if (seg.window > this.maxSndWnd) this.maxSndWnd = seg.window;
  }

  /** Forgets the connection: back to an empty TCB with no timers. */
  private resetTcb(): void {
    this.irs = 0;
    this.sndWnd = 0;
    this.sndWl1 = 0;
    this.sndWl2 = 0;
    this.maxSndWnd = 0;
    this.rcvNxt = 0;
    this.sendQueued = 0;
    this.finQueued = false;
    this.finSent = false;
    this.finSeq = 0;
    this.rcvBuffered = 0;
    this.peerFinReceived = false;
    this.orphan = false;
    this.rtxDeadline = OFF;
    this.rtxCount = 0;
    this.inRecovery = false;
    this.persistDeadline = OFF;
    this.persistBackoff = 0;
    this.probesOut = 0;
    this.timeWaitDeadline = OFF;
    this.finWait2Deadline = OFF;
    this.unackedSince = OFF;
    this.rttTime = OFF;
    this.advertisedRightEdge = 0;
    this.rto.reset();
  }
}

export type { TransitionRule };
