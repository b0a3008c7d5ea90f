/**
 * The capture pipeline: link layer → IPv4/IPv6 → TCP → the flow table → one
 * `Connection` per 4-tuple and lifetime. Allocation-free per packet except when a
 * connection is created.
 *
 * Flow table: keyed by the 4-tuple in either direction (a hash over both addresses and
 * ports, chained). A plain SYN on a tuple whose connection is closing or closed, or that
 * restarts an attempt with another ISN, starts a new connection (port reuse). The
 * originator is the sender of the first plain SYN; otherwise the first sender, swapped by
 * Zeek's likely-server-port guess, and marked `originatorInferred`. Connections idle for
 * `idleTimeoutSec` of capture time (`closedLingerSec`, 5 s like Zeek's tcp_close_delay,
 * once both sides are CLOSED or in TIME_WAIT) are finished and handed to `onConnection`
 * as records, so memory follows the live connections. A record with a side still in
 * TIME_WAIT waits (as a record, not a connection) until capture time passes the end of
 * TIME_WAIT or the capture ends, so its final states are those at the end of the capture.
 *
 * Limitations: IPv4 and IPv6 fragments are not reassembled: non-first fragments are
 * counted and skipped; a first fragment is analysed with the payload length its TCP
 * header and the total length imply. Tunnels (GRE, VXLAN, IP-in-IP) are not entered.
 */
import { LINUX_PROFILE, type Profile } from '../core/profile.js';
import { ACK, RST, SYN } from '../core/segment.js';
import { decodeIpv4, IPPROTO_TCP, ipv4ToString, IPV4_MF, newIpv4Header } from '../wire/ipv4.js';
import { decodeIpv6, ipv6WordsToString, newIpv6Header } from '../wire/ipv6.js';
import { decodeLink, newLinkResult } from '../wire/link.js';
import type { PacketRecord } from '../wire/pcap.js';
import { decodeTcp, newTcpHeader } from '../wire/tcp.js';
import { Connection, type ConnectionRecord } from './connection.js';
import { zeekFlipsRoles } from './zeek.js';

export interface AnalyzerOptions {
  readonly profile?: Profile;
  readonly idleTimeoutSec?: number;
  readonly closedLingerSec?: number;
  /** Keep each connection's transition timeline. */
  readonly timeline?: boolean;
  /** Keep the segment log of this connection id (for `--conn`). */
  readonly logConnection?: number;
  /**
   * Called with each finished connection's record; `conn` is given only for the
   * connection of `logConnection` (its segment log).
   */
  readonly onConnection: (r: ConnectionRecord, conn: Connection | null) => void;
}

export interface CaptureCounters {
  packets: number;
  tcpPackets: number;
  nonIp: number;
  nonTcp: number;
  fragments: number;
  truncated: number;
  unsupportedLink: number;
  malformed: number;
  connections: number;
  firstTime: number;
  lastTime: number;
  linkTypes: Record<string, number>;
}

export function addressText(w0: number, w1: number, w2: number, w3: number, family: 'ipv4' | 'ipv6'): string {
  return family === 'ipv4' ? ipv4ToString(w0) : ipv6WordsToString(w0, w1, w2, w3);
}

function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x9e3779b1) >>> 0;
}

export class CaptureAnalyzer {
  readonly counters: CaptureCounters = {
    packets: 0, tcpPackets: 0, nonIp: 0, nonTcp: 0, fragments: 0, truncated: 0, unsupportedLink: 0, malformed: 0,
    connections: 0, firstTime: Number.NaN, lastTime: Number.NaN, linkTypes: {},
  };
  private readonly link = newLinkResult();
  private readonly ip4 = newIpv4Header();
  private readonly ip6 = newIpv6Header();
  private readonly tcp = newTcpHeader();
  private readonly src = new Uint32Array(4);
  private readonly dst = new Uint32Array(4);
  private readonly buckets = new Map<number, Connection>();
  private live = 0;
  private nextId = 1;
  private readonly profile: Profile;
  private readonly idle: number;
  private readonly linger: number;
  private readonly options: AnalyzerOptions;
  private nextSweep = -Infinity;
  private lastLinkType = -1;

  constructor(options: AnalyzerOptions) {
    this.options = options;
    this.profile = options.profile ?? LINUX_PROFILE;
    this.idle = options.idleTimeoutSec ?? 300;
    this.linger = options.closedLingerSec ?? 5;
  }

  get liveConnections(): number {
    return this.live;
  }

  packet(p: PacketRecord): void {
    const c = this.counters;
    c.packets++;
    let time = p.time;
    if (Number.isNaN(time)) time = Number.isNaN(c.lastTime) ? 0 : c.lastTime; // simple packet blocks
    if (Number.isNaN(c.firstTime)) c.firstTime = time;
    if (Number.isNaN(c.lastTime) || time > c.lastTime) c.lastTime = time;
    if (p.linkType !== this.lastLinkType) {
      this.lastLinkType = p.linkType;
      c.linkTypes[String(p.linkType)] = (c.linkTypes[String(p.linkType)] ?? 0) + 1;
    }
    if (c.lastTime >= this.nextSweep) {
      // Every few seconds of capture time: cheap next to the packets in between.
      this.nextSweep = c.lastTime + Math.min(5, this.linger / 2, this.idle / 2);
      this.sweep(c.lastTime);
    }
    const buf = p.data;
    const version = decodeLink(p.linkType, buf, p.offset, p.caplen, this.link);
    if (version === 0) {
      if (this.link.unsupported) c.unsupportedLink++;
      else if (this.link.truncated) c.truncated++;
      else c.nonIp++;
      return;
    }
    const l3 = this.link.offset;
    const l3len = p.offset + p.caplen - l3;
    let family: 'ipv4' | 'ipv6';
    let tcpOffset: number;
    let tcpLenOnWire: number;
    let truncated = false;
    let ipLen: number;
    const src = this.src;
    const dst = this.dst;
    if (version === 4) {
      const h = this.ip4;
      if (!decodeIpv4(buf, l3, l3len, h, false)) {
        if (h.truncated) c.truncated++;
        else c.malformed++;
        return;
      }
      if (h.fragmentOffset > 0) {
        c.fragments++;
        return;
      }
      if (h.protocol !== IPPROTO_TCP) {
        c.nonTcp++;
        return;
      }
      if (h.flags & IPV4_MF) c.fragments++;
      family = 'ipv4';
      src[0] = h.src;
      dst[0] = h.dst;
      src[1] = src[2] = src[3] = dst[1] = dst[2] = dst[3] = 0;
      tcpOffset = h.payloadOffset;
      // TSO on the capturing host can leave total length 0: trust the frame then.
      tcpLenOnWire = h.totalLength === 0 ? p.wireLen - (l3 - p.offset) - h.headerLength : h.totalLength - h.headerLength;
      truncated = h.truncated;
      ipLen = h.headerLength + tcpLenOnWire;
    } else {
      const h = this.ip6;
      if (!decodeIpv6(buf, l3, l3len, h)) {
        if (h.truncated) c.truncated++;
        else c.malformed++;
        return;
      }
      if (h.fragmented && h.fragmentOffset > 0) {
        c.fragments++;
        return;
      }
      if (h.protocol !== IPPROTO_TCP) {
        if (h.truncated && h.payloadLength === 0) c.truncated++;
        else c.nonTcp++;
        return;
      }
      family = 'ipv6';
      src[0] = h.src0; src[1] = h.src1; src[2] = h.src2; src[3] = h.src3;
      dst[0] = h.dst0; dst[1] = h.dst1; dst[2] = h.dst2; dst[3] = h.dst3;
      tcpOffset = h.payloadOffset;
      tcpLenOnWire = l3 + 40 + h.payloadLengthField - h.payloadOffset;
      truncated = h.truncated;
      ipLen = 40 + h.payloadLengthField;
    }
    const t = this.tcp;
    const avail = p.offset + p.caplen - tcpOffset;
    if (!decodeTcp(buf, tcpOffset, Math.min(avail, Math.max(tcpLenOnWire, 0)), t)) {
      if (t.truncated) c.truncated++;
      else c.malformed++;
      return;
    }
    if (t.truncated) {
      // The header's options are cut: flags and sequence numbers are still there.
      truncated = true;
    }
    c.tcpPackets++;
    const len = Math.max(0, tcpLenOnWire - t.headerLength);
    if (truncated) c.truncated++;
    this.dispatch(family, t.srcPort, t.dstPort, t.flags & 0x3f, t.seq, t.ack, t.window, len, t.wscale, p.wireLen, ipLen, time, truncated);
  }

  private hashOf(family: number, a: Uint32Array, ap: number, b: Uint32Array, bp: number): number {
    // Symmetric: the same for both directions.
    let h1 = mix(family, ap);
    let h2 = mix(family, bp);
    for (let i = 0; i < 4; i++) {
      h1 = mix(h1, a[i] as number);
      h2 = mix(h2, b[i] as number);
    }
    return (h1 ^ h2) >>> 0;
  }

  private dispatch(family: 'ipv4' | 'ipv6', sp: number, dp: number, flags: number, seq: number, ack: number, win: number, len: number, wscale: number, wireLen: number, ipLen: number, time: number, truncated: boolean): void {
    const src = this.src;
    const dst = this.dst;
    const hash = this.hashOf(family === 'ipv4' ? 4 : 6, src, sp, dst, dp);
    let conn = this.buckets.get(hash) ?? null;
    let fromOrig = true;
    let prev: Connection | null = null;
    while (conn !== null) {
      if (conn.family === family) {
        if (conn.oPort === sp && conn.rPort === dp && isOrig(conn, src) && isResp(conn, dst)) {
          fromOrig = true;
          break;
        }
        if (conn.oPort === dp && conn.rPort === sp && isOrig(conn, dst) && isResp(conn, src)) {
          fromOrig = false;
          break;
        }
      }
      prev = conn;
      conn = conn.nextInBucket;
    }
    const plainSyn = (flags & (SYN | ACK | RST)) === SYN;
    if (conn !== null && plainSyn && this.isReuse(conn, fromOrig, seq)) {
      this.finish(conn, time);
      conn = null;
    }
    if (conn === null) {
      const flip = !plainSyn && zeekFlipsRoles(flags, sp, dp);
      const o = flip ? dst : src;
      const r = flip ? src : dst;
      conn = new Connection(this.nextId++, family, o, flip ? dp : sp, r, flip ? sp : dp, time, this.profile, {
        originatorInferred: !plainSyn,
        zeekFlipped: flip,
        timeline: this.options.timeline === true || this.options.logConnection !== undefined,
        log: this.options.logConnection === this.nextId - 1,
      });
      conn.hash = hash;
      conn.nextInBucket = this.buckets.get(hash) ?? null;
      this.buckets.set(hash, conn);
      this.live++;
      this.counters.connections++;
      fromOrig = !flip;
    } else if (prev !== null) {
      // Move to the front of its chain: the next packet is likely the same connection.
      prev.nextInBucket = conn.nextInBucket;
      conn.nextInBucket = this.buckets.get(hash) ?? null;
      this.buckets.set(hash, conn);
    }
    conn.packet(fromOrig, flags, seq, ack, win, len, wscale, wireLen, ipLen, time, truncated);
  }

  /** A plain SYN on a known tuple: is it a new connection? */
  private isReuse(conn: Connection, fromOrig: boolean, seq: number): boolean {
    const ob = conn.observer;
    const x = fromOrig ? ob.orig : ob.resp;
    if (x.issKnown && x.iss === seq) return false; // a retransmission
    const closing = ob.orig.finSent || ob.resp.finSent || ob.resets.length > 0;
    const over = (ob.orig.state === 'CLOSED' || ob.orig.state === 'TIME_WAIT') && (ob.resp.state === 'CLOSED' || ob.resp.state === 'TIME_WAIT' || ob.resp.state === 'LISTEN');
    if (closing || over) return true;
    // A new attempt from the same side with another ISN (the old one was given up).
    return x.state === 'SYN_SENT' && x.issKnown && x.iss !== seq;
  }

  private unlink(conn: Connection): void {
    let head = this.buckets.get(conn.hash) ?? null;
    if (head === conn) {
      if (conn.nextInBucket === null) this.buckets.delete(conn.hash);
      else this.buckets.set(conn.hash, conn.nextInBucket);
    } else {
      while (head !== null && head.nextInBucket !== conn) head = head.nextInBucket;
      if (head !== null) head.nextInBucket = conn.nextInBucket;
    }
    conn.nextInBucket = null;
  }

  private finish(conn: Connection, now: number): void {
    if (conn.finalized) return;
    conn.finalized = true;
    this.unlink(conn);
    this.live--;
    conn.advance(now);
    const record = conn.toRecord(addressText, this.options.timeline === true || conn.log !== null);
    const ob = conn.observer;
    const o = ob.orig.state === 'TIME_WAIT' ? ob.orig.timeWaitDeadline / 1000 : -1;
    const r = ob.resp.state === 'TIME_WAIT' ? ob.resp.timeWaitDeadline / 1000 : -1;
    if (o < 0 && r < 0) {
      this.options.onConnection(record, conn.log !== null ? conn : null);
      return;
    }
    this.waiting.push({ record, conn: conn.log !== null ? conn : null, orig: o, resp: r, due: Math.max(o, r) });
  }

  /** Records waiting for TIME_WAIT to end, in finishing order (so nearly in deadline order). */
  private waiting: { record: ConnectionRecord; conn: Connection | null; orig: number; resp: number; due: number }[] = [];
  private waitingHead = 0;

  /** Hands over waiting records whose TIME_WAIT ended by `now`; all of them when `all`. */
  private release(now: number, all: boolean): void {
    const q = this.waiting;
    while (this.waitingHead < q.length) {
      const w = q[this.waitingHead];
      if (w === undefined || (!all && w.due > now)) break;
      this.waitingHead++;
      for (const side of ['orig', 'resp'] as const) {
        const deadline = w[side];
        if (deadline < 0 || deadline > now) continue;
        w.record.states[side] = 'CLOSED';
        w.record.timeline?.push({ at: deadline, side, from: 'TIME_WAIT', to: 'CLOSED', rule: 'time-wait-timeout', inferred: false, packet: 0 });
      }
      this.options.onConnection(w.record, w.conn);
    }
    if (this.waitingHead > 4096 && this.waitingHead * 2 > q.length) {
      this.waiting = q.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }

  /** Finishes connections idle for too long (capture time). */
  sweep(now: number): void {
    const done: Connection[] = [];
    for (const head of this.buckets.values()) {
      for (let c: Connection | null = head; c !== null; c = c.nextInBucket) {
        const ob = c.observer;
        const closed = over(ob.orig.state) && over(ob.resp.state);
        if (now - c.last > (closed ? this.linger : this.idle)) done.push(c);
      }
    }
    done.sort((a, b) => a.id - b.id);
    for (const c of done) this.finish(c, now);
    this.release(now, false);
  }

  /** The capture is over: finish every connection, timers run to the last packet's time. */
  end(): void {
    const now = Number.isNaN(this.counters.lastTime) ? 0 : this.counters.lastTime;
    const rest: Connection[] = [];
    for (const head of this.buckets.values()) for (let c: Connection | null = head; c !== null; c = c.nextInBucket) rest.push(c);
    rest.sort((a, b) => a.id - b.id);
    for (const c of rest) this.finish(c, now);
    this.release(now, true);
  }
}

/** Nothing more is expected on the wire from a side in these states. */
function over(state: string): boolean {
  return state === 'CLOSED' || state === 'TIME_WAIT' || state === 'LISTEN';
}

function isOrig(c: Connection, w: Uint32Array): boolean {
  return c.o0 === w[0] && c.o1 === w[1] && c.o2 === w[2] && c.o3 === w[3];
}

function isResp(c: Connection, w: Uint32Array): boolean {
  return c.r0 === w[0] && c.r1 === w[1] && c.r2 === w[2] && c.r3 === w[3];
}

export type { ConnectionRecord };
