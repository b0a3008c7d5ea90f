/**
 * From a captured frame to a TCP segment: the link layer, IPv4 (the common header read in
 * place) or IPv6, then the TCP header. Every packet's capture time goes to the sink's
 * `tick` first, each TCP segment then to `segment`; what is not a TCP segment is counted
 * (not IP, not TCP, fragments, truncated, malformed, unsupported link types).
 * Allocation-free per packet.
 *
 * Limitations: IPv4 and IPv6 fragments are not reassembled: non-first fragments are
 * counted and skipped; a first fragment is analysed with the payload length its TCP
 * header and the total length imply. Tunnels (GRE, VXLAN, IP-in-IP) are not entered.
 */
import { settleMutableFields, settleNumberFields } from '../core/object-layout.js';
import { u32 } from '../wire/bytes.js';
import { decodeIpv4, IPPROTO_TCP, IPV4_MF, IPV4_MIN_HEADER, newIpv4Header } from '../wire/ipv4.js';
import { decodeIpv6, newIpv6Header } from '../wire/ipv6.js';
import { decodeLink, newLinkResult } from '../wire/link.js';
import type { PacketRecord } from '../wire/pcap.js';
import { SYN } from '../core/segment.js';
import { decodeTcp, newTcpHeader, parseOptions, TCP_MIN_HEADER } from '../wire/tcp.js';
import type { CaptureCounters } from './counters.js';

/**
 * The TCP segment just decoded: one object, refilled for every packet. Its numbers are
 * handed on in fields, not as arguments: a sequence number past 2^31 or a time passed as
 * an argument to a function that is not inlined is a new heap number per packet.
 */
export class DecodedSegment {
  family: 'ipv4' | 'ipv6' = 'ipv4';
  /** Addresses as 32-bit words (IPv4: word 0, the rest 0). */
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  sp = 0;
  dp = 0;
  /** The six classic flag bits. */
  flags = 0;
  seq = 0;
  ack = 0;
  /** The window field as sent (unscaled). */
  win = 0;
  /** Payload octets on the wire. */
  len = 0;
  /** The window scale shift a SYN announced (-1: none or not a SYN). */
  wscale = -1;
  /** Octets of the frame on the wire, and of the IP packet. */
  wireLen = 0;
  ipLen = 0;
  /** Capture time, seconds. */
  time = 0;
  /** The capture cut the packet short. */
  truncated = false;
}

// Sequence numbers and times get their final field layout now (see src/core/object-layout.ts).
{
  const s = new DecodedSegment();
  settleNumberFields(s, ['seq', 'ack', 'time']);
  settleMutableFields(s);
}

export interface DecodedSink {
  /** Every packet's capture time (seconds), before its segment if it has one. */
  tick(time: number): void;
  /** A TCP segment (read it during the call: the object is refilled for the next packet). */
  segment(s: DecodedSegment): void;
}

export class PacketDecoder {
  /** Where the counts of what is not a TCP segment (and of link types) go. */
  readonly counters: CaptureCounters;
  private readonly link = newLinkResult();
  private readonly ip4 = newIpv4Header();
  private readonly ip6 = newIpv6Header();
  private readonly tcp = newTcpHeader();
  private readonly out = new DecodedSegment();
  private lastLinkType = -1;
  /** The latest capture time, for packets without one (pcapng simple packet blocks). */
  private lastTime = Number.NaN;

  constructor(counters: CaptureCounters) {
    this.counters = counters;
  }

  /** The window scale shift in the option list [start, end), as `decodeTcp` reads it (-1: none). */
  private windowScale(buf: Uint8Array, start: number, end: number): number {
    const t = this.tcp;
    t.wscale = -1;
    parseOptions(buf, start, end, t);
    return t.wscale;
  }

  /**
   * The packet's capture time (a simple packet block has none: the latest one before it),
   * and the counts every packet updates. `decode` begins with it; a caller that handles
   * a packet without `decode` (PacketRingWriter.writeCommon) calls it instead.
   */
  clock(p: PacketRecord): number {
    let time = p.time;
    if (Number.isNaN(time)) time = Number.isNaN(this.lastTime) ? 0 : this.lastTime; // simple packet blocks
    if (Number.isNaN(this.lastTime) || time > this.lastTime) this.lastTime = time;
    if (p.linkType !== this.lastLinkType) {
      const c = this.counters;
      this.lastLinkType = p.linkType;
      c.linkTypes[String(p.linkType)] = (c.linkTypes[String(p.linkType)] ?? 0) + 1;
    }
    return time;
  }

  decode(p: PacketRecord, sink: DecodedSink): void {
    const c = this.counters;
    const time = this.clock(p);
    sink.tick(time);
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
    const out = this.out;
    const src = out.src;
    const dst = out.dst;
    const avail4 = Math.min(l3len, buf.length - l3);
    const b0 = avail4 >= IPV4_MIN_HEADER ? (buf[l3] as number) : 0;
    const hl = (b0 & 0x0f) * 4;
    const total4 = hl >= IPV4_MIN_HEADER ? ((buf[l3 + 2] as number) << 8) | (buf[l3 + 3] as number) : 0;
    if (version === 4 && b0 >> 4 === 4 && hl >= IPV4_MIN_HEADER && total4 >= hl && avail4 >= hl) {
      // The common IPv4 header, read in place (decodeIpv4 below handles every other case the same way).
      const frag = ((buf[l3 + 6] as number) << 8) | (buf[l3 + 7] as number);
      if ((frag & 0x1fff) !== 0) {
        c.fragments++;
        return;
      }
      if (buf[l3 + 9] !== IPPROTO_TCP) {
        c.nonTcp++;
        return;
      }
      if (frag & IPV4_MF) c.fragments++;
      family = 'ipv4';
      src[0] = u32(buf, l3 + 12);
      dst[0] = u32(buf, l3 + 16);
      src[1] = src[2] = src[3] = dst[1] = dst[2] = dst[3] = 0;
      tcpOffset = l3 + hl;
      tcpLenOnWire = total4 - hl;
      truncated = avail4 < total4;
      ipLen = total4;
    } else if (version === 4) {
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
    const avail = p.offset + p.caplen - tcpOffset;
    const tcpAvail = Math.min(avail, Math.max(tcpLenOnWire, 0), buf.length - tcpOffset);
    const hl4 = tcpAvail >= TCP_MIN_HEADER ? ((buf[tcpOffset + 12] as number) >> 4) * 4 : 0;
    if (hl4 >= TCP_MIN_HEADER && tcpAvail >= hl4) {
      // The whole header is there: read in place (decodeTcp below handles every other case
      // the same way). Options matter only on a SYN (its window scale).
      const flags = buf[tcpOffset + 13] as number;
      out.sp = ((buf[tcpOffset] as number) << 8) | (buf[tcpOffset + 1] as number);
      out.dp = ((buf[tcpOffset + 2] as number) << 8) | (buf[tcpOffset + 3] as number);
      out.flags = flags & 0x3f;
      out.seq = u32(buf, tcpOffset + 4);
      out.ack = u32(buf, tcpOffset + 8);
      out.win = ((buf[tcpOffset + 14] as number) << 8) | (buf[tcpOffset + 15] as number);
      out.len = Math.max(0, tcpLenOnWire - hl4);
      out.wscale = flags & SYN && hl4 > TCP_MIN_HEADER ? this.windowScale(buf, tcpOffset + TCP_MIN_HEADER, tcpOffset + hl4) : -1;
    } else {
      const t = this.tcp;
      if (!decodeTcp(buf, tcpOffset, Math.min(avail, Math.max(tcpLenOnWire, 0)), t)) {
        if (t.truncated) c.truncated++;
        else c.malformed++;
        return;
      }
      if (t.truncated) {
        // The header's options are cut: flags and sequence numbers are still there.
        truncated = true;
      }
      out.sp = t.srcPort;
      out.dp = t.dstPort;
      out.flags = t.flags & 0x3f;
      out.seq = t.seq;
      out.ack = t.ack;
      out.win = t.window;
      out.len = Math.max(0, tcpLenOnWire - t.headerLength);
      out.wscale = t.wscale;
    }
    c.tcpPackets++;
    if (truncated) c.truncated++;
    out.family = family;
    out.wireLen = p.wireLen;
    out.ipLen = ipLen;
    out.time = time;
    out.truncated = truncated;
    sink.segment(out);
  }
}
