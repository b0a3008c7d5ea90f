/**
 * Zeek's connection labels, computed the way Zeek computes them (behaviour studied in
 * zeek/zeek scripts/base/protocols/conn/main.zeek `conn_state` and the TCP analyser,
 * TCPSessionAdapter.cc / TCP.cc; re-expressed here, no code taken).
 *
 * Zeek keeps its own coarse state per endpoint — INACTIVE, SYN_SENT, SYN_ACK_SENT,
 * PARTIAL, ESTABLISHED, CLOSED, RESET — moved by flags only, and a history string:
 * s h a d f r (SYN, SYN+ACK, pure ACK, data, FIN, RST), t (retransmitted payload),
 * w (zero window), g (content gap, reported by the caller), i (FIN+RST), q (SYN+FIN or SYN+RST), ^ (roles flipped),
 * upper case for the originator. Where Zeek's code and its documentation differ, the code
 * wins here:
 * - `a` and `d` are recorded only for packets with none of SYN, FIN, RST: a FIN carrying
 *   data adds `F` and no `D`; a SYN,ACK adds no `A`.
 * - `s h f r` repeat only when the sequence number differs from the last one of that kind
 *   (a retransmitted SYN adds nothing); `t w g` are logarithmic: at the 1st, 10th, 100th ...
 * - REJ also covers an originator in SYN_ACK_SENT, and both sides RESET with no payload
 *   octets; RSTOS0 needs the history to match `^?S[^HAFGIQ]*R`, else OTH; S0 needs the
 *   responder INACTIVE (not PARTIAL).
 * - A FIN followed by a RST from the same side counts as a normal close once the peer
 *   FINs too.
 * - Payload sizes (`orig_bytes`) come from sequence numbers, not from counting packets.
 *
 * Limitations: checksums are not verified (like `zeek -C`, the usual setting for
 * captures taken on the sending host with offloading), so `c` never appears; `g` is
 * reported when an ACK covers octets the capture never showed (Zeek reports gaps from
 * its reassembler, which is not always on); Zeek's likely-server-port list depends on the
 * loaded analysers, here it is the well-known ports plus common service ports.
 */
import { ACK, FIN, RST, SYN } from '../core/segment.js';
import { settleMutableFields, settleNumberFields } from '../core/object-layout.js';
import { seqDiff } from '../core/seq.js';

export const ZEEK_INACTIVE = 0;
export const ZEEK_SYN_SENT = 1;
export const ZEEK_SYN_ACK_SENT = 2;
export const ZEEK_PARTIAL = 3;
export const ZEEK_ESTABLISHED = 4;
export const ZEEK_CLOSED = 5;
export const ZEEK_RESET = 6;

export const ZEEK_CONN_STATES = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'] as const;

export type ZeekConnState = (typeof ZEEK_CONN_STATES)[number];

/** Indexes in ZEEK_CONN_STATES. */
const CS_S0 = 0;
const CS_S1 = 1;
const CS_SF = 2;
const CS_REJ = 3;
const CS_S2 = 4;
const CS_S3 = 5;
const CS_RSTO = 6;
const CS_RSTR = 7;
const CS_RSTOS0 = 8;
const CS_RSTRH = 9;
const CS_SH = 10;
const CS_SHR = 11;
const CS_OTH = 12;

const COMMON_SERVER_PORTS = new Set([
  1080, 1433, 1521, 1723, 2049, 3128, 3306, 3389, 5060, 5222, 5432, 5900, 6379, 6667, 8000, 8080, 8443, 8888, 9200,
  11211, 27017,
]);

/** Zeek's heuristic guess that a port is a server's. */
export function likelyServerPort(port: number): boolean {
  return port < 1024 || COMMON_SERVER_PORTS.has(port);
}

/**
 * Whether Zeek would swap the roles of a connection whose first packet goes from
 * `srcPort` to `dstPort` with `flags`: only when it is not a plain SYN.
 */
export function zeekFlipsRoles(flags: number, srcPort: number, dstPort: number): boolean {
  if (flags & SYN && !(flags & ACK)) return false;
  if (!likelyServerPort(srcPort)) return false;
  if (likelyServerPort(dstPort)) return !(flags & SYN) && srcPort < dstPort;
  return true;
}

class ZeekEndpoint {
  state = ZEEK_INACTIVE;
  prevState = ZEEK_INACTIVE;
  /** Sequence bookkeeping as Zeek does it: start, highest end seen. */
  startSeq = 0;
  lastSeq = 0;
  ackSeq = 0;
  seqInit = false;
  histLastSyn = -1;
  histLastFin = -1;
  histLastRst = -1;
  rxmit = 0;
  rxmitNext = 1;
  zeroWin = 0;
  zeroWinNext = 1;
  gaps = 0;
  gapsNext = 1;
  /** Highest payload end (for Size()). */
  dataEnd = 0;
  sawFinSeqEnd = false;

  reset(): void {
    this.state = ZEEK_INACTIVE;
    this.prevState = ZEEK_INACTIVE;
    this.startSeq = 0;
    this.lastSeq = 0;
    this.ackSeq = 0;
    this.seqInit = false;
    this.histLastSyn = -1;
    this.histLastFin = -1;
    this.histLastRst = -1;
    this.rxmit = 0;
    this.rxmitNext = 1;
    this.zeroWin = 0;
    this.zeroWinNext = 1;
    this.gaps = 0;
    this.gapsNext = 1;
    this.dataEnd = 0;
    this.sawFinSeqEnd = false;
  }

  setState(s: number): void {
    if (s !== this.state) {
      this.prevState = this.state;
      this.state = s;
    }
  }

  /** Payload octets by sequence numbers, as Zeek's Size(). */
  size(): number {
    if (!this.seqInit) return 0;
    const d = seqDiff(this.dataEnd, this.startSeq) - 1;
    return d > 0 ? d : 0;
  }
}

/** History letters (lower case; the originator's are 32 lower: upper case). */
const L_S = 0x73;
const L_H = 0x68;
const L_A = 0x61;
const L_D = 0x64;
const L_F = 0x66;
const L_R = 0x72;
const L_T = 0x74;
const L_W = 0x77;
const L_G = 0x67;
const L_I = 0x69;
const L_Q = 0x71;
const CARET = 0x5e;

const BIT_SYN = 1;
const BIT_FIN = 2;
const BIT_RST = 4;
const BIT_ACK = 8;
const BIT_DATA = 16;
const BIT_FINRST = 32;
const BIT_MULTI = 64;

/** What Zeek's analysis reads of a segment (the decoder's DecodedSegment is one). */
export interface ZeekSegment {
  readonly flags: number;
  readonly seq: number;
  readonly ack: number;
  /** Payload octets. */
  readonly len: number;
  /** The window field as sent (unscaled). */
  readonly win: number;
  /** Capture time, seconds. */
  readonly time: number;
}

export class ZeekConn {
  readonly orig = new ZeekEndpoint();
  readonly resp = new ZeekEndpoint();
  /** The history letters as ASCII octets (no string is built per packet); `history` gives the text. */
  historyBytes = new Uint8Array(32);
  historyLength = 0;
  private seenMask = 0;
  /** Time of the last packet that counts for the duration. */
  lastTime = 0;
  firstTime = -1;

  constructor(flipped: boolean) {
    if (flipped) this.push(CARET);
  }

  /** Zeek's history string. */
  get history(): string {
    let s = '';
    const b = this.historyBytes;
    for (let i = 0; i < this.historyLength; i++) s += String.fromCharCode(b[i] as number);
    return s;
  }

  /** Back to a fresh connection (objects are reused from one connection to the next). */
  reset(flipped: boolean): void {
    this.orig.reset();
    this.resp.reset();
    this.historyBytes.fill(0, 0, this.historyLength);
    this.historyLength = 0;
    if (flipped) this.push(CARET);
    this.seenMask = 0;
    this.lastTime = 0;
    this.firstTime = -1;
  }

  private push(code: number): void {
    if (this.historyLength === this.historyBytes.length) {
      const next = new Uint8Array(this.historyBytes.length * 2);
      next.set(this.historyBytes);
      this.historyBytes = next;
    }
    this.historyBytes[this.historyLength++] = code;
  }

  /** A history letter (`c`: its lower-case code), upper case for the originator. */
  private letter(isOrig: boolean, c: number): void {
    this.push(isOrig ? c - 32 : c);
  }

  /** Records a once-per-direction letter; returns true when it had been seen before. */
  private once(isOrig: boolean, bit: number, c: number): boolean {
    const m = isOrig ? bit : bit << 8;
    if (this.seenMask & m) return true;
    this.seenMask |= m;
    this.letter(isOrig, c);
    return false;
  }

  /**
   * The commonest packet in one step: an ACK without SYN, FIN or RST and with an open
   * window, between two ESTABLISHED sides, that is not a retransmission. For such a
   * packet `packet` only adds the D or A letter once, moves the last time, the highest
   * sequence end and the highest payload end; this does the same and returns true. For
   * any other packet it changes nothing and returns false (then call `packet`).
   */
  fastPacket(isOrig: boolean, s: ZeekSegment): boolean {
    const flags = s.flags;
    if ((flags & (SYN | FIN | RST | ACK)) !== ACK || s.win === 0) return false;
    const seq = s.seq;
    const len = s.len;
    const e = isOrig ? this.orig : this.resp;
    const p = isOrig ? this.resp : this.orig;
    if (e.state !== ZEEK_ESTABLISHED || p.state !== ZEEK_ESTABLISHED) return false;
    const end = (seq + len) >>> 0;
    const deltaLast = seqDiff(end, e.lastSeq);
    if (deltaLast <= 0 && len > 0) return false; // a retransmission (the T letter)
    if (len > 0) this.once(isOrig, BIT_DATA, L_D);
    else this.once(isOrig, BIT_ACK, L_A);
    this.lastTime = s.time;
    if (deltaLast > 0) e.lastSeq = end;
    if (len > 0 && seqDiff(end, e.dataEnd) > 0) e.dataEnd = end;
    return true;
  }

  packet(isOrig: boolean, s: ZeekSegment): void {
    const flags = s.flags;
    const seq = s.seq;
    const ack = s.ack;
    const len = s.len;
    const window = s.win;
    const time = s.time;
    const e = isOrig ? this.orig : this.resp;
    const p = isOrig ? this.resp : this.orig;
    if (this.firstTime < 0) this.firstTime = time;
    const syn = (flags & SYN) !== 0;
    const fin = (flags & FIN) !== 0;
    const rst = (flags & RST) !== 0;
    const hasAck = (flags & ACK) !== 0;
    const segLen = rst ? (syn ? 1 : 0) + (fin ? 1 : 0) : len + (syn ? 1 : 0) + (fin ? 1 : 0);
    const end = (seq + segLen) >>> 0;

    // Sequence origin (a missing SYN: as if one came just before).
    if (e.state === ZEEK_INACTIVE) {
      e.startSeq = syn ? seq : (seq - 1) >>> 0;
      e.lastSeq = syn ? end : seq;
      e.dataEnd = syn ? (seq + 1) >>> 0 : seq;
      e.seqInit = true;
    } else if (syn && (e.state === ZEEK_SYN_SENT || e.state === ZEEK_SYN_ACK_SENT || e.state === ZEEK_ESTABLISHED || e.state === ZEEK_PARTIAL) && seq !== e.startSeq) {
      e.startSeq = seq;
      e.lastSeq = end;
      e.dataEnd = (seq + 1) >>> 0;
    }
    const relSeq = seqDiff(seq, e.startSeq);

    // History letters.
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.once(isOrig, BIT_FINRST, L_I);
      else this.once(isOrig, BIT_MULTI, L_Q);
    } else if (bits === 1) {
      if (syn) {
        const c = hasAck ? L_H : L_S;
        if (this.once(isOrig, BIT_SYN, c) && relSeq !== e.histLastSyn) this.letter(isOrig, c);
        e.histLastSyn = relSeq;
      }
      if (fin) {
        if (this.once(isOrig, BIT_FIN, L_F) && relSeq + len !== e.histLastFin) this.letter(isOrig, L_F);
        e.histLastFin = relSeq + len;
      }
      if (rst) {
        if (this.once(isOrig, BIT_RST, L_R) && relSeq !== e.histLastRst) this.letter(isOrig, L_R);
        e.histLastRst = relSeq;
      }
    } else if (len > 0) {
      this.once(isOrig, BIT_DATA, L_D);
    } else if (hasAck) {
      this.once(isOrig, BIT_ACK, L_A);
    }

    // Zero window (judged before this packet moves the states).
    if (window === 0 && !rst && p.state !== ZEEK_CLOSED && e.state !== ZEEK_RESET) {
      e.zeroWin++;
      if (e.zeroWin === e.zeroWinNext) {
        this.letter(isOrig, L_W);
        e.zeroWinNext *= 10;
      }
    }

    // Duration stops growing once both sides have closed.
    const bothDone = (this.orig.state === ZEEK_CLOSED || this.orig.state === ZEEK_RESET) && (this.resp.state === ZEEK_CLOSED || this.resp.state === ZEEK_RESET);
    if (!bothDone) this.lastTime = time;

    // Peer's sequence origin from an ACK (a partial connection).
    if (hasAck && p.state === ZEEK_INACTIVE && !p.seqInit) {
      p.startSeq = (ack - 1) >>> 0;
      p.lastSeq = p.startSeq;
      p.dataEnd = ack;
      p.seqInit = true;
    }

    // Last sequence seen and retransmissions.
    const deltaLast = seqDiff(end, e.lastSeq);
    if ((syn || rst) && (deltaLast > 1048576 || deltaLast < -1048576)) {
      // implausible jump: ignored
    } else if (e.state === ZEEK_RESET) {
      // nothing trusted after a reset
    } else if (deltaLast > 0) {
      e.lastSeq = end;
    } else if (len > 0) {
      e.rxmit++;
      if (e.rxmit === e.rxmitNext) {
        this.letter(isOrig, L_T);
        e.rxmitNext *= 10;
      }
    }
    if (len > 0 && !rst) {
      const dEnd = (seq + (syn ? 1 : 0) + len) >>> 0;
      if (seqDiff(dEnd, e.dataEnd) > 0) e.dataEnd = dEnd;
    }

    this.stateMachine(e, p, isOrig, flags, seq, len);
  }

  private stateMachine(e: ZeekEndpoint, p: ZeekEndpoint, isOrig: boolean, flags: number, seq: number, len: number): void {
    const syn = (flags & SYN) !== 0;
    const fin = (flags & FIN) !== 0;
    const rst = (flags & RST) !== 0;
    const hasAck = (flags & ACK) !== 0;
    switch (e.state) {
      case ZEEK_INACTIVE: {
        if (syn) {
          if (isOrig) {
            e.setState(hasAck ? ZEEK_SYN_ACK_SENT : ZEEK_SYN_SENT);
          } else {
            if (!hasAck && p.state === ZEEK_SYN_ACK_SENT && seq === e.startSeq) {
              p.setState(ZEEK_ESTABLISHED); // SYN / SYN,ACK reversal
            }
            if (p.state === ZEEK_SYN_SENT) p.setState(ZEEK_ESTABLISHED);
            e.setState(ZEEK_ESTABLISHED);
          }
        }
        if (fin) e.setState(ZEEK_CLOSED);
        if (rst) e.setState(ZEEK_RESET);
        if (e.state === ZEEK_INACTIVE) {
          const orig = isOrig ? e : p;
          if (!isOrig && len === 0 && orig.state === ZEEK_SYN_SENT) {
            // an ACK of the SYN before the SYN,ACK: not a partial connection
          } else if (hasAck && p.state === ZEEK_ESTABLISHED) {
            e.setState(ZEEK_ESTABLISHED); // the SYN was missed, the SYN,ACK was not
          } else {
            e.setState(ZEEK_PARTIAL);
          }
        }
        break;
      }
      case ZEEK_SYN_SENT:
      case ZEEK_SYN_ACK_SENT:
        if (fin) e.setState(ZEEK_CLOSED);
        if (rst) e.setState(ZEEK_RESET);
        break;
      case ZEEK_ESTABLISHED:
      case ZEEK_PARTIAL:
        if (syn && e.state === ZEEK_PARTIAL && p.state === ZEEK_INACTIVE && !hasAck) e.setState(ZEEK_SYN_SENT);
        if (fin && !rst) {
          e.setState(ZEEK_CLOSED);
          if (p.state === ZEEK_RESET && p.prevState === ZEEK_CLOSED) p.setState(ZEEK_CLOSED);
        }
        if (rst) e.setState(ZEEK_RESET);
        break;
      case ZEEK_CLOSED:
        if (rst && p.state !== ZEEK_CLOSED) e.setState(ZEEK_RESET);
        break;
      default:
        break;
    }
  }

  /** A content gap in one side's stream (octets acknowledged that the capture never showed). */
  gap(isOrig: boolean): void {
    const e = isOrig ? this.orig : this.resp;
    e.gaps++;
    if (e.gaps === e.gapsNext) {
      this.letter(isOrig, L_G);
      e.gapsNext *= 10;
    }
  }

  /** Zeek's conn_state at the end of the connection. */
  connState(): ZeekConnState {
    return ZEEK_CONN_STATES[this.connStateCode()] as ZeekConnState;
  }

  /** `connState` as its index in ZEEK_CONN_STATES. */
  connStateCode(): number {
    const os = this.orig.state;
    const rs = this.resp.state;
    const code = CONN_STATE_BY_STATES[os * 8 + rs] as number;
    if (code >= 0) return code;
    // The two cases that look further than the states (connStateOfStates).
    if (rs === ZEEK_RESET) return this.orig.size() === 0 && this.resp.size() === 0 ? CS_REJ : CS_RSTR;
    return /^\^?S[^HAFGIQ]*R/.test(this.history) ? CS_RSTOS0 : CS_OTH;
  }

  /** Zeek's duration: to the last packet before both sides closed. */
  duration(): number {
    return this.firstTime < 0 ? 0 : this.lastTime - this.firstTime;
  }
}

/**
 * Zeek's conn_state from the two endpoints' states, or -1 where it also depends on more:
 * both reset (REJ when neither sent data, else RSTR), and the originator reset while the
 * responder was inactive (RSTOS0 when the history is a SYN then the reset, else OTH).
 */
function connStateOfStates(os: number, rs: number): number {
  const oInactive = os === ZEEK_INACTIVE || os === ZEEK_PARTIAL;
  const rInactive = rs === ZEEK_INACTIVE || rs === ZEEK_PARTIAL;
  if (rs === ZEEK_RESET) {
    if (os === ZEEK_SYN_SENT || os === ZEEK_SYN_ACK_SENT) return CS_REJ;
    if (os === ZEEK_RESET) return -1;
    return oInactive ? CS_RSTRH : CS_RSTR;
  }
  if (os === ZEEK_RESET) return rInactive ? -1 : CS_RSTO;
  if (rs === ZEEK_CLOSED && os === ZEEK_CLOSED) return CS_SF;
  if (os === ZEEK_CLOSED) return rInactive ? CS_SH : CS_S2;
  if (rs === ZEEK_CLOSED) return oInactive ? CS_SHR : CS_S3;
  if (os === ZEEK_SYN_SENT && rs === ZEEK_INACTIVE) return CS_S0;
  if (os === ZEEK_ESTABLISHED && rs === ZEEK_ESTABLISHED) return CS_S1;
  return CS_OTH;
}

/**
 * connStateOfStates for every pair (orig × 8 + resp), worked out once: a connection's
 * conn_state is then a lookup. The comparisons, run per connection, met pairs for the
 * first time at the end of a capture (connections cut short) and made V8 throw away the
 * compiled code that writes the records, for the thousands finished then.
 */
const CONN_STATE_BY_STATES = new Int8Array(64);
for (let os = ZEEK_INACTIVE; os <= ZEEK_RESET; os++) for (let rs = ZEEK_INACTIVE; rs <= ZEEK_RESET; rs++) CONN_STATE_BY_STATES[os * 8 + rs] = connStateOfStates(os, rs);

// Sequence numbers and capture times get their final field layout now (see src/core/object-layout.ts).
{
  const z = new ZeekConn(false);
  settleNumberFields(z.orig, ['startSeq', 'lastSeq', 'dataEnd']);
  settleNumberFields(z, ['lastTime', 'firstTime']);
  settleMutableFields(z.orig);
  settleMutableFields(z);
}
