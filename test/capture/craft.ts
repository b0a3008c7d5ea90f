/**
 * Byte-level capture crafting for tests: IPv4/IPv6 TCP packets (with options, IP options,
 * IPv6 extension headers, fragments), link-layer wrappers for every supported link type,
 * and pcap / pcapng files in either byte order. Written from the format specifications
 * (pcap-savefile(5), draft-ietf-opsawg-pcapng, tcpdump.org link types).
 */
import { internetChecksum } from '../../src/wire/ipv4.js';

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: string; // tcpdump letters: S F R P . (ACK)
  seq: number;
  ack?: number;
  win?: number;
  len?: number;
  mss?: number;
  wscale?: number;
  sackOk?: boolean;
  ts?: [number, number];
  /** IPv4 only: option octets (multiple of 4). */
  ipOptions?: number[];
  /** IPv4 fragment offset (octets) and more-fragments flag. */
  fragOffset?: number;
  moreFragments?: boolean;
  /** IPv6 only: extension headers before TCP. */
  v6ext?: ('hop' | 'dst' | 'frag')[];
  protocol?: number;
}

function flagBits(s: string): number {
  let f = 0;
  for (const c of s) f |= c === 'F' ? 1 : c === 'S' ? 2 : c === 'R' ? 4 : c === 'P' ? 8 : c === '.' ? 16 : 0;
  return f;
}

function v4(addr: string): number[] {
  return addr.split('.').map(Number);
}

function v6(addr: string): number[] {
  const [head = '', tail = ''] = addr.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = addr.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out: number[] = [];
  for (const g of groups) {
    const n = parseInt(g, 16);
    out.push(n >> 8, n & 0xff);
  }
  return out;
}

function be16(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff];
}
function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function tcpHeader(s: TcpSpec): number[] {
  const opts: number[] = [];
  if (s.mss !== undefined) opts.push(2, 4, ...be16(s.mss));
  if (s.sackOk === true) opts.push(4, 2);
  if (s.ts !== undefined) opts.push(8, 10, ...be32(s.ts[0]), ...be32(s.ts[1]));
  if (s.wscale !== undefined) opts.push(1, 3, 3, s.wscale);
  while (opts.length % 4 !== 0) opts.push(0);
  const hl = 20 + opts.length;
  const h = [
    ...be16(s.sport), ...be16(s.dport), ...be32(s.seq >>> 0), ...be32((s.ack ?? 0) >>> 0),
    (hl / 4) << 4, flagBits(s.flags), ...be16(s.win ?? 65535), 0, 0, 0, 0, ...opts,
  ];
  for (let i = 0; i < (s.len ?? 0); i++) h.push(0x61 + (i % 26));
  return h;
}

/** An IP packet (v4 or v6 by the address syntax) carrying the TCP segment. */
export function ipPacket(s: TcpSpec): Uint8Array {
  const tcp = s.protocol === undefined || s.protocol === 6 ? tcpHeader(s) : [0, 53, 0, 53, 0, 8, 0, 0];
  const proto = s.protocol ?? 6;
  if (!s.src.includes(':')) {
    const opts = s.ipOptions ?? [];
    const ihl = 20 + opts.length;
    const frag = ((s.fragOffset ?? 0) / 8) | (s.moreFragments === true ? 0x2000 : 0);
    const h = [0x40 | (ihl / 4), 0, ...be16(ihl + tcp.length), 0, 1, ...be16(frag), 64, proto, 0, 0, ...v4(s.src), ...v4(s.dst), ...opts];
    const bytes = new Uint8Array([...h, ...tcp]);
    const sum = internetChecksum(bytes, 0, ihl);
    bytes[10] = sum >> 8;
    bytes[11] = sum & 0xff;
    return bytes;
  }
  const ext: number[] = [];
  const chain = s.v6ext ?? [];
  const codes = { hop: 0, dst: 60, frag: 44 } as const;
  const first = chain.length > 0 ? codes[chain[0] as 'hop'] : proto;
  chain.forEach((e, i) => {
    const next = i + 1 < chain.length ? codes[chain[i + 1] as 'hop'] : proto;
    if (e === 'frag') ext.push(next, 0, ...be16((s.fragOffset ?? 0) | (s.moreFragments === true ? 1 : 0)), 0, 0, 0, 7);
    else ext.push(next, 0, 1, 4, 0, 0, 0, 0); // 8 octets: a PadN option
  });
  const payload = [...ext, ...tcp];
  return new Uint8Array([0x60, 0, 0, 0, ...be16(payload.length), first, 64, ...v6(s.src), ...v6(s.dst), ...payload]);
}

export const LINK = { NULL: 0, EN10MB: 1, RAW: 101, LOOP: 108, SLL: 113, IPV4: 228, IPV6: 229, SLL2: 276 } as const;

/** Wraps an IP packet in a link header; `vlans` tags for EN10MB (0x8100, or 0x88a8 for QinQ outer). */
export function frame(linkType: number, ip: Uint8Array, opts: { vlans?: number[]; littleNull?: boolean; etherType?: number } = {}): Uint8Array {
  const isV6 = (ip[0] as number) >> 4 === 6;
  const etherType = opts.etherType ?? (isV6 ? 0x86dd : 0x0800);
  let head: number[] = [];
  switch (linkType) {
    case LINK.NULL: {
      const af = isV6 ? 30 : 2;
      head = opts.littleNull === false ? be32(af) : [af, 0, 0, 0];
      break;
    }
    case LINK.LOOP:
      head = be32(isV6 ? 30 : 2);
      break;
    case LINK.EN10MB: {
      head = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
      for (const tag of opts.vlans ?? []) head.push(...be16(tag), 0, 42);
      head.push(...be16(etherType));
      break;
    }
    case LINK.SLL:
      head = [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...be16(etherType)];
      break;
    case LINK.SLL2:
      head = [...be16(etherType), 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
      break;
    default:
      head = [];
  }
  return new Uint8Array([...head, ...ip]);
}

export interface CraftedPacket {
  t: number; // seconds
  bytes: Uint8Array;
  caplen?: number;
}

function w32(little: boolean, n: number): number[] {
  const b = be32(n);
  return little ? b.reverse() : b;
}
function w16(little: boolean, n: number): number[] {
  const b = be16(n);
  return little ? b.reverse() : b;
}

export function pcapFile(opts: { little: boolean; nanos: boolean; linkType: number; snaplen?: number }, packets: readonly CraftedPacket[]): Uint8Array {
  const L = opts.little;
  const out: number[] = [...w32(L, opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4), ...w16(L, 2), ...w16(L, 4), ...w32(L, 0), ...w32(L, 0), ...w32(L, opts.snaplen ?? 262144), ...w32(L, opts.linkType)];
  for (const p of packets) {
    const cap = p.caplen ?? p.bytes.length;
    const sec = Math.floor(p.t);
    const frac = Math.round((p.t - sec) * (opts.nanos ? 1e9 : 1e6));
    out.push(...w32(L, sec), ...w32(L, frac), ...w32(L, cap), ...w32(L, p.bytes.length), ...p.bytes.subarray(0, cap));
  }
  return new Uint8Array(out);
}

export interface NgInterface {
  linkType: number;
  /** if_tsresol octet (default 6: microseconds). */
  tsresol?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: number;
}

export interface NgPacket extends CraftedPacket {
  ifc?: number;
  kind?: 'epb' | 'spb' | 'pb';
}

function block(L: boolean, type: number, body: number[]): number[] {
  while (body.length % 4 !== 0) body.push(0);
  const len = 12 + body.length;
  return [...w32(L, type), ...w32(L, len), ...body, ...w32(L, len)];
}

function resolutionUnits(t: number, tsresol: number, tsoffset: number): bigint {
  const rel = t - tsoffset;
  if (tsresol & 0x80) return BigInt(Math.round(rel * 2 ** (tsresol & 0x7f)));
  const per = 10 ** tsresol;
  const sec = Math.floor(rel);
  // Whole microseconds first: a float seconds value holds no more.
  const us = Math.round((rel - sec) * 1e6);
  return BigInt(sec) * BigInt(per) + (per >= 1e6 ? BigInt(us) * BigInt(per / 1e6) : BigInt(Math.round((us / 1e6) * per)));
}

export function pcapngSection(opts: { little: boolean; interfaces: NgInterface[]; unknownBlock?: boolean }, packets: readonly NgPacket[]): Uint8Array {
  const L = opts.little;
  const out: number[] = [];
  out.push(...block(L, 0x0a0d0d0a, [...w32(L, 0x1a2b3c4d), ...w16(L, 1), ...w16(L, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  for (const itf of opts.interfaces) {
    const o: number[] = [];
    if (itf.tsresol !== undefined) o.push(...w16(L, 9), ...w16(L, 1), itf.tsresol, 0, 0, 0);
    if (itf.tsoffset !== undefined) {
      const hi = Math.floor(itf.tsoffset / 4294967296);
      const lo = itf.tsoffset >>> 0;
      o.push(...w16(L, 14), ...w16(L, 8), ...(L ? [...w32(L, lo), ...w32(L, hi)] : [...w32(L, hi), ...w32(L, lo)]));
    }
    if (o.length > 0) o.push(0, 0, 0, 0);
    out.push(...block(L, 1, [...w16(L, itf.linkType), 0, 0, ...w32(L, 262144), ...o]));
  }
  if (opts.unknownBlock === true) out.push(...block(L, 0x00000042, [1, 2, 3, 4, 5])); // an unassigned block type
  for (const p of packets) {
    const ifc = p.ifc ?? 0;
    const itf = opts.interfaces[ifc] as NgInterface;
    const cap = p.caplen ?? p.bytes.length;
    const data = [...p.bytes.subarray(0, cap)];
    if (p.kind === 'spb') {
      out.push(...block(L, 3, [...w32(L, p.bytes.length), ...data]));
      continue;
    }
    const units = resolutionUnits(p.t, itf.tsresol ?? 6, itf.tsoffset ?? 0);
    const hi = Number(units >> 32n);
    const lo = Number(units & 0xffffffffn);
    if (p.kind === 'pb') out.push(...block(L, 2, [...w16(L, ifc), 0, 0, ...w32(L, hi), ...w32(L, lo), ...w32(L, cap), ...w32(L, p.bytes.length), ...data]));
    else out.push(...block(L, 6, [...w32(L, ifc), ...w32(L, hi), ...w32(L, lo), ...w32(L, cap), ...w32(L, p.bytes.length), ...data]));
  }
  return new Uint8Array(out);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A whole TCP exchange between a (client) and b (server) as IP packets, timed from t0. */
export type Step = [dir: '>' | '<', flags: string, seq: number, ack: number, len?: number, dt?: number, extra?: Partial<TcpSpec>];

export function exchange(a: [string, number], b: [string, number], steps: readonly Step[], t0 = 1_700_000_000, step = 0.001): CraftedPacket[] {
  let t = t0;
  return steps.map(([dir, flags, seq, ack, len = 0, dt, extra = {}]) => {
    t += dt ?? step;
    const [src, sport] = dir === '>' ? a : b;
    const [dst, dport] = dir === '>' ? b : a;
    return { t, bytes: ipPacket({ src, dst, sport, dport, flags, seq, ack, len, ...extra }) };
  });
}
