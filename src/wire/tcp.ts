/**
 * TCP headers (RFC 9293 §3.1) with the options that matter for state and handshake
 * analysis (MSS, window scale RFC 7323 §2, SACK-permitted RFC 2018, timestamps RFC 7323
 * §3), and the checksum over the IPv4 pseudo-header. Decode into a caller-owned object,
 * encode into a caller-owned buffer; no allocation per packet.
 *
 * Decoding never throws: `truncated` says the buffer ended before the header (or its
 * options) did, `valid` says the fixed header is there and the data offset is sane,
 * `badOptions` that the option list was malformed (the rest of the header still holds).
 */
import { put16, put32, u16, u32 } from './bytes.js';
import { foldChecksum, onesSum, pseudoHeaderSum } from './ipv4.js';

export const TCP_MIN_HEADER = 20;

/** Option kinds (IANA "TCP Option Kind Numbers"). */
export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WSCALE = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;

export interface TcpHeader {
  valid: boolean;
  truncated: boolean;
  badOptions: boolean;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in octets (data offset × 4). */
  headerLength: number;
  /** The control bits (FIN 0x01 … URG 0x20, ECE 0x40, CWR 0x80), as in core/segment.ts. */
  flags: number;
  /** The raw 16-bit window field (not scaled). */
  window: number;
  checksum: number;
  urgent: number;
  /** -1 when the option is absent. */
  mss: number;
  /** Window scale shift, -1 when absent. */
  wscale: number;
  sackPermitted: boolean;
  /** SACK blocks present (count only). */
  sackBlocks: number;
  hasTimestamps: boolean;
  tsVal: number;
  tsEcr: number;
  payloadOffset: number;
  /** Payload octets present in the buffer. */
  payloadLength: number;
}

export function newTcpHeader(): TcpHeader {
  return {
    valid: false,
    truncated: false,
    badOptions: false,
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    headerLength: 0,
    flags: 0,
    window: 0,
    checksum: 0,
    urgent: 0,
    mss: -1,
    wscale: -1,
    sackPermitted: false,
    sackBlocks: 0,
    hasTimestamps: false,
    tsVal: 0,
    tsEcr: 0,
    payloadOffset: 0,
    payloadLength: 0,
  };
}

/**
 * Decodes the TCP segment at `offset` (`length` octets: the IP payload length) into
 * `out`; returns `out.valid`.
 */
export function decodeTcp(buf: Uint8Array, offset: number, length: number, out: TcpHeader): boolean {
  const avail = Math.max(0, Math.min(length, buf.length - offset));
  out.valid = false;
  out.truncated = false;
  out.badOptions = false;
  out.mss = -1;
  out.wscale = -1;
  out.sackPermitted = false;
  out.sackBlocks = 0;
  out.hasTimestamps = false;
  out.tsVal = 0;
  out.tsEcr = 0;
  out.payloadOffset = offset;
  out.payloadLength = 0;
  if (avail < TCP_MIN_HEADER) {
    out.truncated = true;
    return false;
  }
  out.srcPort = u16(buf, offset);
  out.dstPort = u16(buf, offset + 2);
  out.seq = u32(buf, offset + 4);
  out.ack = u32(buf, offset + 8);
  out.headerLength = ((buf[offset + 12] as number) >> 4) * 4;
  out.flags = buf[offset + 13] as number;
  out.window = u16(buf, offset + 14);
  out.checksum = u16(buf, offset + 16);
  out.urgent = u16(buf, offset + 18);
  if (out.headerLength < TCP_MIN_HEADER) return false;
  out.valid = true;
  if (avail < out.headerLength) {
    out.truncated = true;
    parseOptions(buf, offset + TCP_MIN_HEADER, offset + avail, out);
    out.payloadOffset = offset + out.headerLength;
    return true;
  }
  parseOptions(buf, offset + TCP_MIN_HEADER, offset + out.headerLength, out);
  out.payloadOffset = offset + out.headerLength;
  out.payloadLength = avail - out.headerLength;
  return true;
}

/** Reads the option list [start, end) into `out` (its option fields, and `badOptions`). */
export function parseOptions(buf: Uint8Array, start: number, end: number, out: TcpHeader): void {
  let i = start;
  while (i < end) {
    const kind = buf[i] as number;
    if (kind === TCPOPT_EOL) return;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) {
      out.badOptions = true;
      return;
    }
    const len = buf[i + 1] as number;
    if (len < 2 || i + len > end) {
      out.badOptions = true;
      return;
    }
    switch (kind) {
      case TCPOPT_MSS:
        if (len === 4) out.mss = u16(buf, i + 2);
        else out.badOptions = true;
        break;
      case TCPOPT_WSCALE:
        if (len === 3) out.wscale = buf[i + 2] as number;
        else out.badOptions = true;
        break;
      case TCPOPT_SACK_PERM:
        if (len === 2) out.sackPermitted = true;
        else out.badOptions = true;
        break;
      case TCPOPT_SACK:
        if ((len - 2) % 8 === 0) out.sackBlocks = (len - 2) / 8;
        else out.badOptions = true;
        break;
      case TCPOPT_TIMESTAMP:
        if (len === 10) {
          out.hasTimestamps = true;
          out.tsVal = u32(buf, i + 2);
          out.tsEcr = u32(buf, i + 6);
        } else {
          out.badOptions = true;
        }
        break;
      default:
        break; // unknown options are skipped by their length
    }
    i += len;
  }
}

/** Options in tcpdump's notation: `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7` (known ones only). */
export function describeOptions(h: Readonly<TcpHeader>): string {
  const parts: string[] = [];
  if (h.mss >= 0) parts.push(`mss ${h.mss}`);
  if (h.sackPermitted) parts.push('sackOK');
  if (h.hasTimestamps) parts.push(`TS val ${h.tsVal} ecr ${h.tsEcr}`);
  if (h.wscale >= 0) parts.push(`wscale ${h.wscale}`);
  if (h.sackBlocks > 0) parts.push(`sack ${h.sackBlocks}`);
  return parts.join(',');
}

/**
 * The TCP checksum over the IPv4 pseudo-header and `length` octets of segment at
 * `offset` (checksum field included: a correct segment sums to 0).
 */
export function tcpChecksum(buf: Uint8Array, offset: number, length: number, src: number, dst: number): number {
  return foldChecksum(onesSum(buf, offset, length, pseudoHeaderSum(src, dst, 6, length)));
}

export interface TcpFields {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  readonly urgent?: number;
  /** MSS option (SYN only), omitted when undefined. */
  readonly mss?: number;
}

/**
 * Writes a TCP header at `offset` (payload, if any, must already sit right after the
 * header: `payloadLength` octets) and fills in the checksum for the IPv4 addresses.
 * Returns the header length.
 */
export function encodeTcp(
  buf: Uint8Array,
  offset: number,
  f: TcpFields,
  payloadLength: number,
  src: number,
  dst: number,
): number {
  const headerLength = f.mss !== undefined ? 24 : TCP_MIN_HEADER;
  put16(buf, offset, f.srcPort);
  put16(buf, offset + 2, f.dstPort);
  put32(buf, offset + 4, f.seq >>> 0);
  put32(buf, offset + 8, f.ack >>> 0);
  buf[offset + 12] = (headerLength / 4) << 4;
  buf[offset + 13] = f.flags & 0xff;
  put16(buf, offset + 14, f.window & 0xffff);
  put16(buf, offset + 16, 0);
  put16(buf, offset + 18, f.urgent ?? 0);
  if (f.mss !== undefined) {
    buf[offset + 20] = TCPOPT_MSS;
    buf[offset + 21] = 4;
    put16(buf, offset + 22, f.mss);
  }
  put16(buf, offset + 16, tcpChecksum(buf, offset, headerLength + payloadLength, src, dst));
  return headerLength;
}
