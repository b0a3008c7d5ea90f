/**
 * One TCP connection of a capture: its 4-tuple with roles, counters per direction, the
 * passive observer's two endpoint models, Zeek's labels and Wireshark's completeness.
 * `toRecord` turns it into the documented record.
 */
import type { ObservedEndpoint, ObservedTransition, ObserverSink } from '../core/observer.js';
import { PassiveObserver } from '../core/observer.js';
import type { Profile } from '../core/profile.js';
import { ACK, FIN, RST, SYN, type Segment } from '../core/segment.js';
import type { TcpState } from '../core/states.js';
import { ZeekConn, type ZeekConnState } from './zeek.js';

/** Wireshark's tcp.completeness bits (epan/dissectors/packet-tcp.c). */
export const COMPLETENESS_SYN = 1;
export const COMPLETENESS_SYN_ACK = 2;
export const COMPLETENESS_ACK = 4;
export const COMPLETENESS_DATA = 8;
export const COMPLETENESS_FIN = 16;
export const COMPLETENESS_RST = 32;

export interface Address {
  readonly address: string;
  readonly port: number;
}

export interface SegmentLogEntry {
  readonly at: number;
  readonly fromOrig: boolean;
  readonly flags: number;
  /** Sequence and acknowledgement numbers relative to each side's ISN (as Wireshark shows them). */
  readonly seq: number;
  readonly ack: number;
  readonly len: number;
  readonly window: number;
  readonly origState: TcpState;
  readonly respState: TcpState;
}

/** What one side sent that deserves a look (counts of segments, octets for missedBytes). */
export interface SideAnomalies {
  synRetransmissions: number;
  finRetransmissions: number;
  retransmissions: number;
  outOfOrder: number;
  keepAlives: number;
  /** Zero windows this side advertised. */
  zeroWindow: number;
  /** Octets of this side the peer acknowledged but the capture never showed. */
  missedBytes: number;
  /** New data this side sent after its own FIN. */
  dataAfterFin: number;
}

export interface Anomalies {
  resets: readonly { at: number; by: 'orig' | 'resp'; state: TcpState }[];
  orig: SideAnomalies;
  resp: SideAnomalies;
  unansweredSyn: boolean;
  simultaneousOpen: boolean;
  simultaneousClose: boolean;
  halfClose: boolean;
  midStream: boolean;
  truncatedPackets: number;
  /** SYN → final ACK of the handshake, ms (null when not seen whole). */
  handshakeRttMs: number | null;
}

export interface TimelineEntry {
  /** Seconds since the epoch. */
  readonly at: number;
  readonly side: 'orig' | 'resp';
  readonly from: TcpState;
  readonly to: TcpState;
  readonly rule: string;
  readonly inferred: boolean;
  readonly packet: number;
}

export interface ConnectionRecord {
  id: number;
  family: 'ipv4' | 'ipv6';
  /** Seconds since the epoch. */
  start: number;
  /** Seconds. */
  duration: number;
  originator: Address;
  responder: Address;
  /** The originator sent no SYN in the capture: it is the first sender, or Zeek's flipped guess. */
  originatorInferred: boolean;
  packets: { orig: number; resp: number };
  bytes: { orig: number; resp: number };
  /** Octets of the frames as on the wire (what tshark's conversation table counts). */
  wireBytes: { orig: number; resp: number };
  /** Octets of the IP packets (IP total length), as Zeek's orig_ip_bytes / resp_ip_bytes. */
  ipBytes: { orig: number; resp: number };
  states: { orig: TcpState; resp: TcpState };
  zeek: { connState: ZeekConnState; history: string; origBytes: number; respBytes: number; duration: number };
  completeness: number;
  anomalies: Anomalies;
  timeline?: TimelineEntry[];
}

/** One segment object for every connection: the observer reads it during the call only. */
const SCRATCH: Segment = { seq: 0, ack: 0, flags: 0, window: 0, len: 0 };

export class Connection implements ObserverSink {
  readonly id: number;
  readonly family: 'ipv4' | 'ipv6';
  /** Originator and responder addresses as 32-bit words (IPv4: word 0 only), and ports. */
  readonly o0: number;
  readonly o1: number;
  readonly o2: number;
  readonly o3: number;
  readonly r0: number;
  readonly r1: number;
  readonly r2: number;
  readonly r3: number;
  readonly oPort: number;
  readonly rPort: number;
  readonly originatorInferred: boolean;
  readonly start: number;
  last: number;
  origPackets = 0;
  respPackets = 0;
  origBytes = 0;
  respBytes = 0;
  origWire = 0;
  respWire = 0;
  origIp = 0;
  respIp = 0;
  completeness = 0;
  truncated = 0;
  /** Window scale shifts announced in SYNs (-1 none); applied once both sides offered one. */
  origWscale = -1;
  respWscale = -1;
  readonly observer: PassiveObserver;
  readonly zeek: ZeekConn;
  readonly timeline: TimelineEntry[] | null;
  readonly log: SegmentLogEntry[] | null;
  /** Hash chain in the flow table. */
  nextInBucket: Connection | null = null;
  hash = 0;
  finalized = false;

  constructor(
    id: number,
    family: 'ipv4' | 'ipv6',
    o: Uint32Array,
    oPort: number,
    r: Uint32Array,
    rPort: number,
    time: number,
    profile: Profile,
    options: { originatorInferred: boolean; zeekFlipped: boolean; timeline: boolean; log: boolean },
  ) {
    this.id = id;
    this.family = family;
    this.o0 = o[0] as number;
    this.o1 = o[1] as number;
    this.o2 = o[2] as number;
    this.o3 = o[3] as number;
    this.r0 = r[0] as number;
    this.r1 = r[1] as number;
    this.r2 = r[2] as number;
    this.r3 = r[3] as number;
    this.oPort = oPort;
    this.rPort = rPort;
    this.start = time;
    this.last = time;
    this.originatorInferred = options.originatorInferred;
    this.observer = new PassiveObserver(profile, this);
    this.zeek = new ZeekConn(options.zeekFlipped);
    this.timeline = options.timeline ? [] : null;
    this.log = options.log ? [] : null;
  }

  get recording(): boolean {
    return this.timeline !== null;
  }

  transition(t: ObservedTransition): void {
    if (this.timeline !== null) {
      this.timeline.push({ at: t.at / 1000, side: t.side, from: t.from, to: t.to, rule: t.rule, inferred: t.inferred, packet: t.packet });
    }
  }

  /** One packet of this connection. `len` is the payload length on the wire. */
  packet(fromOrig: boolean, flags: number, seq: number, ack: number, rawWindow: number, len: number, wscale: number, wireLen: number, ipLen: number, time: number, truncated: boolean): void {
    this.last = time;
    if (truncated) this.truncated++;
    if (fromOrig) {
      this.origPackets++;
      this.origBytes += len;
      this.origWire += wireLen;
      this.origIp += ipLen;
    } else {
      this.respPackets++;
      this.respBytes += len;
      this.respWire += wireLen;
      this.respIp += ipLen;
    }
    if (flags & SYN) {
      if (fromOrig) this.origWscale = wscale;
      else this.respWscale = wscale;
      this.completeness |= flags & ACK ? COMPLETENESS_SYN_ACK : COMPLETENESS_SYN;
    } else if (flags & ACK) {
      this.completeness |= COMPLETENESS_ACK;
    }
    if (len > 0) this.completeness |= COMPLETENESS_DATA;
    if (flags & FIN) this.completeness |= COMPLETENESS_FIN;
    if (flags & RST) this.completeness |= COMPLETENESS_RST;
    const scaled = flags & SYN || this.origWscale < 0 || this.respWscale < 0 ? rawWindow : rawWindow * 2 ** (fromOrig ? this.origWscale : this.respWscale);
    const s = SCRATCH;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = scaled;
    s.len = len;
    const ob = this.observer;
    const gapsBefore = fromOrig ? ob.resp.gapsAcked : ob.orig.gapsAcked;
    ob.segment(fromOrig, s, time * 1000);
    this.zeek.packet(fromOrig, flags, seq, ack, len, rawWindow, time);
    // Zeek reports a gap when the acknowledgement passes a hole of the peer's stream.
    if ((fromOrig ? ob.resp.gapsAcked : ob.orig.gapsAcked) !== gapsBefore) this.zeek.gap(!fromOrig);
    if (this.log !== null) {
      const x = fromOrig ? this.observer.orig : this.observer.resp;
      const y = fromOrig ? this.observer.resp : this.observer.orig;
      const base = x.issKnown ? x.iss : 0;
      const ackBase = y.issKnown ? y.iss : 0;
      this.log.push({
        at: time,
        fromOrig,
        flags,
        seq: (seq - base) >>> 0,
        ack: flags & ACK ? (ack - ackBase) >>> 0 : 0,
        len,
        window: scaled,
        origState: this.observer.orig.state,
        respState: this.observer.resp.state,
      });
    }
  }

  /** Runs the timers up to `now` (seconds): the end of the capture, or the expiry sweep. */
  advance(now: number): void {
    this.observer.flush();
    this.observer.advance(now * 1000);
  }

  toRecord(addressText: (w0: number, w1: number, w2: number, w3: number, family: 'ipv4' | 'ipv6') => string, withTimeline: boolean): ConnectionRecord {
    const ob = this.observer;
    const o = ob.orig;
    const r = ob.resp;
    const unanswered = o.issKnown && o.lastSynAt >= 0 && !r.issKnown && !ob.resets.some((x) => x.by === 'resp');
    const record: ConnectionRecord = {
      id: this.id,
      family: this.family,
      start: this.start,
      duration: round6(this.last - this.start),
      originator: { address: addressText(this.o0, this.o1, this.o2, this.o3, this.family), port: this.oPort },
      responder: { address: addressText(this.r0, this.r1, this.r2, this.r3, this.family), port: this.rPort },
      originatorInferred: this.originatorInferred,
      packets: { orig: this.origPackets, resp: this.respPackets },
      bytes: { orig: this.origBytes, resp: this.respBytes },
      wireBytes: { orig: this.origWire, resp: this.respWire },
      ipBytes: { orig: this.origIp, resp: this.respIp },
      states: { orig: o.state, resp: r.state },
      zeek: {
        connState: this.zeek.connState(),
        history: this.zeek.history,
        origBytes: this.zeek.orig.size(),
        respBytes: this.zeek.resp.size(),
        duration: round6(this.zeek.duration()),
      },
      completeness: this.completeness,
      anomalies: {
        resets: ob.resets.length === 0 ? NO_RESETS : ob.resets.map((x) => ({ at: x.at / 1000, by: x.by, state: x.state })),
        orig: sideAnomalies(o),
        resp: sideAnomalies(r),
        unansweredSyn: unanswered,
        simultaneousOpen: ob.simultaneousOpen,
        simultaneousClose: ob.simultaneousClose,
        halfClose: ob.halfClose,
        midStream: ob.midStream,
        truncatedPackets: this.truncated,
        handshakeRttMs: ob.handshakeRttMs >= 0 ? round6(ob.handshakeRttMs) : null,
      },
    };
    if (withTimeline && this.timeline !== null) record.timeline = this.timeline;
    return record;
  }
}

const NO_RESETS: Anomalies['resets'] = Object.freeze([]);

function sideAnomalies(e: ObservedEndpoint): SideAnomalies {
  return {
    synRetransmissions: e.synRetransmissions,
    finRetransmissions: e.finRetransmissions,
    retransmissions: e.retransmissions,
    outOfOrder: e.outOfOrder,
    keepAlives: e.keepAlives,
    zeroWindow: e.zeroWindows,
    missedBytes: e.missedBytes,
    dataAfterFin: e.dataAfterFin,
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function sideJson(a: SideAnomalies): string {
  return `{"synRetransmissions":${a.synRetransmissions},"finRetransmissions":${a.finRetransmissions},"retransmissions":${a.retransmissions},"outOfOrder":${a.outOfOrder},"keepAlives":${a.keepAlives},"zeroWindow":${a.zeroWindow},"missedBytes":${a.missedBytes},"dataAfterFin":${a.dataAfterFin}}`;
}

function pairJson(p: { orig: number; resp: number }): string {
  return `{"orig":${p.orig},"resp":${p.resp}}`;
}

/**
 * The record as JSON text, byte for byte what `JSON.stringify(record)` gives, several
 * times faster (the field set is fixed and every string is plain ASCII without quotes
 * or backslashes: addresses, state ids, rule ids, Zeek letters).
 */
export function recordToJson(r: ConnectionRecord): string {
  const a = r.anomalies;
  let resets = '[';
  for (let i = 0; i < a.resets.length; i++) {
    const x = a.resets[i] as Anomalies['resets'][number];
    resets += `${i > 0 ? ',' : ''}{"at":${JSON.stringify(x.at)},"by":"${x.by}","state":"${x.state}"}`;
  }
  resets += ']';
  let s =
    `{"id":${r.id},"family":"${r.family}","start":${JSON.stringify(r.start)},"duration":${JSON.stringify(r.duration)},` +
    `"originator":{"address":"${r.originator.address}","port":${r.originator.port}},"responder":{"address":"${r.responder.address}","port":${r.responder.port}},` +
    `"originatorInferred":${r.originatorInferred},"packets":${pairJson(r.packets)},"bytes":${pairJson(r.bytes)},"wireBytes":${pairJson(r.wireBytes)},"ipBytes":${pairJson(r.ipBytes)},` +
    `"states":{"orig":"${r.states.orig}","resp":"${r.states.resp}"},` +
    `"zeek":{"connState":"${r.zeek.connState}","history":${JSON.stringify(r.zeek.history)},"origBytes":${r.zeek.origBytes},"respBytes":${r.zeek.respBytes},"duration":${JSON.stringify(r.zeek.duration)}},` +
    `"completeness":${r.completeness},"anomalies":{"resets":${resets},"orig":${sideJson(a.orig)},"resp":${sideJson(a.resp)},` +
    `"unansweredSyn":${a.unansweredSyn},"simultaneousOpen":${a.simultaneousOpen},"simultaneousClose":${a.simultaneousClose},"halfClose":${a.halfClose},` +
    `"midStream":${a.midStream},"truncatedPackets":${a.truncatedPackets},"handshakeRttMs":${JSON.stringify(a.handshakeRttMs)}}`;
  if (r.timeline !== undefined) s += `,"timeline":${JSON.stringify(r.timeline)}`;
  return s + '}';
}
