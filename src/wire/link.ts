/**
 * Link layers of capture files (https://www.tcpdump.org/linktypes.html): find where the
 * IP packet starts. NULL (0, host-order address family) and LOOP (108, network order),
 * EN10MB (1) with any number of 802.1Q / 802.1ad (QinQ) tags, RAW (101, and DLT_RAW 12
 * and 14 as some files carry them), IPV4 (228), IPV6 (229), LINUX_SLL (113) and
 * LINUX_SLL2 (276). Decodes into a caller-owned object; never throws.
 */
import { u16 } from './bytes.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;

export interface LinkResult {
  /** 4, 6, or 0 when the packet carries something else (ARP, LLDP, ...). */
  ipVersion: number;
  /** Where the IP header starts. */
  offset: number;
  /** The frame ended inside the link header. */
  truncated: boolean;
  /** The link type is not one we decode. */
  unsupported: boolean;
}

export function newLinkResult(): LinkResult {
  return { ipVersion: 0, offset: 0, truncated: false, unsupported: false };
}

function fromEtherType(t: number): number {
  return t === ETHERTYPE_IPV4 ? 4 : t === ETHERTYPE_IPV6 ? 6 : 0;
}

/** BSD address families for IPv4 (2) and IPv6 (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS, 10 Linux). */
function fromAddressFamily(af: number): number {
  if (af === 2) return 4;
  if (af === 24 || af === 28 || af === 30 || af === 10) return 6;
  return 0;
}

/** Decodes the link header of a frame of `caplen` octets at `offset`; returns out.ipVersion. */
export function decodeLink(linkType: number, buf: Uint8Array, offset: number, caplen: number, out: LinkResult): number {
  out.ipVersion = 0;
  out.truncated = false;
  out.unsupported = false;
  out.offset = offset;
  const end = offset + caplen;
  switch (linkType) {
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (caplen < 4) return truncated(out);
      const b0 = buf[offset] as number;
      const b3 = buf[offset + 3] as number;
      // NULL is in the writer's byte order: the family is small, so one end octet holds it.
      const af = linkType === LINKTYPE_LOOP ? b3 : b0 !== 0 ? b0 : b3;
      out.ipVersion = fromAddressFamily(af);
      out.offset = offset + 4;
      return out.ipVersion;
    }
    case LINKTYPE_ETHERNET: {
      let o = offset + 12;
      if (o + 2 > end) return truncated(out);
      let t = u16(buf, o);
      while (t === ETHERTYPE_VLAN || t === ETHERTYPE_QINQ || t === ETHERTYPE_QINQ_OLD) {
        o += 4;
        if (o + 2 > end) return truncated(out);
        t = u16(buf, o);
      }
      out.ipVersion = fromEtherType(t);
      out.offset = o + 2;
      return out.ipVersion;
    }
    case LINKTYPE_RAW:
    case 12:
    case 14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      if (caplen < 1) return truncated(out);
      const v = (buf[offset] as number) >> 4;
      out.ipVersion = v === 4 || v === 6 ? v : 0;
      if (linkType === LINKTYPE_IPV4 && v !== 4) out.ipVersion = 0;
      if (linkType === LINKTYPE_IPV6 && v !== 6) out.ipVersion = 0;
      return out.ipVersion;
    }
    case LINKTYPE_LINUX_SLL: {
      if (caplen < 16) return truncated(out);
      out.ipVersion = fromEtherType(u16(buf, offset + 14));
      out.offset = offset + 16;
      return out.ipVersion;
    }
    case LINKTYPE_LINUX_SLL2: {
      if (caplen < 20) return truncated(out);
      out.ipVersion = fromEtherType(u16(buf, offset));
      out.offset = offset + 20;
      return out.ipVersion;
    }
    default:
      out.unsupported = true;
      return 0;
  }
}

function truncated(out: LinkResult): number {
  out.truncated = true;
  return 0;
}
