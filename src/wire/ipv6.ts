/**
 * IPv6 headers (RFC 8200 §3) and the extension headers that may precede the transport
 * header (§4: hop-by-hop 0, routing 43, fragment 44, destination options 60, AH 51 from
 * RFC 4302, mobility 135). Decodes into a caller-owned object, never throws; addresses
 * are kept as four 32-bit words each, so no allocation per packet.
 */
import { u16, u32 } from './bytes.js';

export const IPV6_HEADER = 40;

export interface Ipv6Header {
  valid: boolean;
  truncated: boolean;
  /** The upper-layer protocol after the extension headers (59: none). */
  protocol: number;
  payloadLengthField: number;
  hopLimit: number;
  src0: number;
  src1: number;
  src2: number;
  src3: number;
  dst0: number;
  dst1: number;
  dst2: number;
  dst3: number;
  /** A fragment header was present; `fragmentOffset` > 0 means not the first fragment. */
  fragmented: boolean;
  fragmentOffset: number;
  moreFragments: boolean;
  /** Where the upper-layer header starts, and how many octets of it the buffer holds. */
  payloadOffset: number;
  payloadLength: number;
}

export function newIpv6Header(): Ipv6Header {
  return {
    valid: false, truncated: false, protocol: 0, payloadLengthField: 0, hopLimit: 0,
    src0: 0, src1: 0, src2: 0, src3: 0, dst0: 0, dst1: 0, dst2: 0, dst3: 0,
    fragmented: false, fragmentOffset: 0, moreFragments: false, payloadOffset: 0, payloadLength: 0,
  };
}

/** Decodes the IPv6 packet at `offset` (`length` octets captured); returns out.valid. */
export function decodeIpv6(buf: Uint8Array, offset: number, length: number, out: Ipv6Header): boolean {
  const avail = Math.max(0, Math.min(length, buf.length - offset));
  out.valid = false;
  out.truncated = false;
  out.fragmented = false;
  out.fragmentOffset = 0;
  out.moreFragments = false;
  out.payloadOffset = offset;
  out.payloadLength = 0;
  if (avail < IPV6_HEADER) {
    out.truncated = true;
    return false;
  }
  if ((buf[offset] as number) >> 4 !== 6) return false;
  out.payloadLengthField = u16(buf, offset + 4);
  let next = buf[offset + 6] as number;
  out.hopLimit = buf[offset + 7] as number;
  out.src0 = u32(buf, offset + 8);
  out.src1 = u32(buf, offset + 12);
  out.src2 = u32(buf, offset + 16);
  out.src3 = u32(buf, offset + 20);
  out.dst0 = u32(buf, offset + 24);
  out.dst1 = u32(buf, offset + 28);
  out.dst2 = u32(buf, offset + 32);
  out.dst3 = u32(buf, offset + 36);
  out.valid = true;
  // A zero payload length with a hop-by-hop jumbo option (RFC 2675) is not expected in captures.
  const packetEnd = offset + IPV6_HEADER + out.payloadLengthField;
  const bufEnd = offset + avail;
  if (bufEnd < packetEnd) out.truncated = true;
  const end = Math.min(packetEnd, bufEnd);
  let o = offset + IPV6_HEADER;
  for (let guard = 0; guard < 16; guard++) {
    if (next === 0 || next === 43 || next === 60 || next === 135) {
      if (o + 8 > end) return cut(out, next, o);
      const len = ((buf[o + 1] as number) + 1) * 8;
      next = buf[o] as number;
      o += len;
    } else if (next === 44) {
      if (o + 8 > end) return cut(out, next, o);
      const f = u16(buf, o + 2);
      out.fragmented = true;
      out.fragmentOffset = f & 0xfff8;
      out.moreFragments = (f & 1) === 1;
      next = buf[o] as number;
      o += 8;
    } else if (next === 51) {
      if (o + 8 > end) return cut(out, next, o);
      const len = ((buf[o + 1] as number) + 2) * 4;
      next = buf[o] as number;
      o += len;
    } else {
      break;
    }
  }
  out.protocol = next;
  out.payloadOffset = o;
  out.payloadLength = Math.max(0, end - o);
  if (o > end) out.truncated = true;
  return true;
}

function cut(out: Ipv6Header, next: number, o: number): boolean {
  out.truncated = true;
  out.protocol = next;
  out.payloadOffset = o;
  out.payloadLength = 0;
  return true;
}

/** RFC 5952 text of an address given as four words (`::1`, `2001:db8::1`, `::ffff:10.0.0.1`). */
export function ipv6WordsToString(w0: number, w1: number, w2: number, w3: number): string {
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    return `::ffff:${w3 >>> 24}.${(w3 >>> 16) & 0xff}.${(w3 >>> 8) & 0xff}.${w3 & 0xff}`;
  }
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number): string => g.slice(a, b).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}
