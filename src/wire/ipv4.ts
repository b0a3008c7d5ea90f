/**
 * IPv4 headers (RFC 791 §3.1) and the Internet checksum (RFC 1071): decode into a
 * caller-owned object, encode into a caller-owned buffer. No allocation per packet.
 *
 * Decoding never throws on short or malformed input: `truncated` says the buffer ended
 * before what the header announces, and `valid` says whether the fields can be trusted
 * (version 4, IHL ≥ 5, total length ≥ IHL). A capture analyser can keep going either way.
 * Addresses are unsigned 32-bit numbers in network order (`10.0.0.1` = 0x0a000001).
 */
import { put16, put32, u16, u32 } from './bytes.js';

export const IPV4_MIN_HEADER = 20;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMP = 1;

/** Flags in the fragment field. */
export const IPV4_DF = 0x4000;
export const IPV4_MF = 0x2000;

export interface Ipv4Header {
  /** The header parsed as far as the buffer allowed and announced a version 4 header of sane length. */
  valid: boolean;
  /** The buffer is shorter than the header or than the total length. */
  truncated: boolean;
  version: number;
  /** Header length in octets (IHL × 4). */
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  /** DF and MF bits (IPV4_DF, IPV4_MF). */
  flags: number;
  /** Fragment offset in octets. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  /** The header checksum verifies (false when not checked because the header is cut). */
  checksumOk: boolean;
  src: number;
  dst: number;
  /** Where the payload starts in the buffer, and how many of its octets the buffer holds. */
  payloadOffset: number;
  payloadLength: number;
}

export function newIpv4Header(): Ipv4Header {
  return {
    valid: false,
    truncated: false,
    version: 0,
    headerLength: 0,
    tos: 0,
    totalLength: 0,
    id: 0,
    flags: 0,
    fragmentOffset: 0,
    ttl: 0,
    protocol: 0,
    checksum: 0,
    checksumOk: false,
    src: 0,
    dst: 0,
    payloadOffset: 0,
    payloadLength: 0,
  };
}

/**
 * One's complement sum of 16-bit words (RFC 1071), not yet folded or complemented.
 * An odd last octet is padded with zero. Pass the result as `initial` to continue a sum.
 */
export function onesSum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  if (i < end) sum += (buf[i] as number) << 8;
  // No folding needed here: 32768 words of 0xffff stay far below 2^53.
  return sum;
}

/** Folds a sum to 16 bits and complements it: the value that goes into a checksum field. */
export function foldChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The Internet checksum of a range. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number): number {
  return foldChecksum(onesSum(buf, offset, length));
}

/**
 * Decodes the IPv4 header at `offset` (`length` octets of the buffer belong to the
 * packet) into `out`; returns `out.valid`. Options are skipped, not parsed.
 * `verifyChecksum = false` skips the header checksum (`checksumOk` stays false), for
 * capture analysis where offloading makes it meaningless and speed matters.
 */
export function decodeIpv4(buf: Uint8Array, offset: number, length: number, out: Ipv4Header, verifyChecksum = true): boolean {
  const avail = Math.max(0, Math.min(length, buf.length - offset));
  out.valid = false;
  out.truncated = false;
  out.checksumOk = false;
  out.payloadOffset = offset;
  out.payloadLength = 0;
  if (avail < 1) {
    out.truncated = true;
    out.version = 0;
    return false;
  }
  const b0 = buf[offset] as number;
  out.version = b0 >> 4;
  out.headerLength = (b0 & 0x0f) * 4;
  if (avail < IPV4_MIN_HEADER) {
    out.truncated = true;
    return false;
  }
  out.tos = buf[offset + 1] as number;
  out.totalLength = u16(buf, offset + 2);
  out.id = u16(buf, offset + 4);
  const frag = u16(buf, offset + 6);
  out.flags = frag & (IPV4_DF | IPV4_MF);
  out.fragmentOffset = (frag & 0x1fff) * 8;
  out.ttl = buf[offset + 8] as number;
  out.protocol = buf[offset + 9] as number;
  out.checksum = u16(buf, offset + 10);
  out.src = u32(buf, offset + 12);
  out.dst = u32(buf, offset + 16);
  if (out.version !== 4 || out.headerLength < IPV4_MIN_HEADER || out.totalLength < out.headerLength) return false;
  out.valid = true;
  if (avail < out.headerLength) {
    out.truncated = true;
    out.payloadOffset = offset + out.headerLength;
    return true;
  }
  out.checksumOk = verifyChecksum && internetChecksum(buf, offset, out.headerLength) === 0;
  out.payloadOffset = offset + out.headerLength;
  const inBuffer = Math.min(avail, out.totalLength) - out.headerLength;
  out.payloadLength = Math.max(0, inBuffer);
  if (avail < out.totalLength) out.truncated = true;
  return true;
}

export interface Ipv4Fields {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  /** Payload octets that follow the header. */
  readonly payloadLength: number;
  readonly ttl?: number;
  readonly id?: number;
  readonly tos?: number;
  /** Defaults to DF, as Linux sends TCP (path MTU discovery). */
  readonly flags?: number;
}

/** Writes a 20-octet header (no options) with its checksum at `offset`; returns 20. */
export function encodeIpv4(buf: Uint8Array, offset: number, f: Ipv4Fields): number {
  buf[offset] = 0x45;
  buf[offset + 1] = f.tos ?? 0;
  put16(buf, offset + 2, IPV4_MIN_HEADER + f.payloadLength);
  put16(buf, offset + 4, f.id ?? 0);
  put16(buf, offset + 6, f.flags ?? IPV4_DF);
  buf[offset + 8] = f.ttl ?? 64;
  buf[offset + 9] = f.protocol;
  put16(buf, offset + 10, 0);
  put32(buf, offset + 12, f.src);
  put32(buf, offset + 16, f.dst);
  put16(buf, offset + 10, internetChecksum(buf, offset, IPV4_MIN_HEADER));
  return IPV4_MIN_HEADER;
}

/** The pseudo-header sum of TCP and UDP checksums (RFC 9293 §3.1, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

const dottedCache = new Map<number, string>();

/** `10.0.0.1` for 0x0a000001 (memoised: addresses repeat). */
export function ipv4ToString(addr: number): string {
  const a = addr >>> 0;
  let s = dottedCache.get(a);
  if (s === undefined) {
    s = `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
    if (dottedCache.size < 65536) dottedCache.set(a, s);
  }
  return s;
}

/** Parses dotted-quad text; returns undefined for anything else. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}
