/**
 * pcapng files (draft-ietf-opsawg-pcapng): a sequence of sections, each opened by a
 * Section Header Block with its own byte order; Interface Description Blocks give each
 * interface its link type, `if_tsresol` (option 9) and `if_tsoffset` (option 14);
 * packets come in Enhanced (6), Simple (3) and the obsolete Packet (2) blocks. Every
 * other block type is skipped by its length.
 *
 * Incremental and allocation-free per packet, like ./pcap.ts: `next` consumes one block
 * from a window of a caller-owned buffer. Damage throws a `CaptureFormatError` with the
 * block's byte offset and type.
 */
import { CaptureFormatError, MAX_PACKET_LENGTH, readU16, readU32, type PacketRecord } from './pcap.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_IDB = 0x00000001;
export const PCAPNG_PB = 0x00000002;
export const PCAPNG_SPB = 0x00000003;
export const PCAPNG_EPB = 0x00000006;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const MAX_BLOCK_LENGTH = MAX_PACKET_LENGTH + 4096;

interface Interface {
  linkType: number;
  snaplen: number;
  /** Seconds per timestamp unit. */
  unit: number;
  /** Units per second when the resolution is a power of ten (exact division), else 0. */
  perSecond: number;
  offsetSeconds: number;
}

function blockName(type: number): string {
  switch (type) {
    case PCAPNG_SHB:
      return 'section header block';
    case PCAPNG_IDB:
      return 'interface description block';
    case PCAPNG_EPB:
      return 'enhanced packet block';
    case PCAPNG_SPB:
      return 'simple packet block';
    case PCAPNG_PB:
      return 'packet block';
    default:
      return `block type 0x${type.toString(16).padStart(8, '0')}`;
  }
}

export class PcapngParser {
  little = false;
  /** A section header has been read (the file starts with one). */
  inSection = false;
  sections = 0;
  blocks = 0;
  readonly interfaces: Interface[] = [];
  produced = false;

  static sniff(buf: Uint8Array, at: number): boolean {
    return readU32(buf, at, false) === PCAPNG_SHB;
  }

  next(buf: Uint8Array, pos: number, end: number, base: number, out: PacketRecord): number {
    this.produced = false;
    if (end - pos < 12) return 0;
    const rawType = readU32(buf, pos, false);
    if (rawType === PCAPNG_SHB) {
      const magic = readU32(buf, pos + 8, false);
      if (magic === PCAPNG_BYTE_ORDER_MAGIC) this.little = false;
      else if (readU32(buf, pos + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) this.little = true;
      else throw new CaptureFormatError(base + pos, `block ${this.blocks + 1}, section header block`, 'bad byte-order magic');
    } else if (!this.inSection) {
      throw new CaptureFormatError(base + pos, `block ${this.blocks + 1}`, 'pcapng file does not start with a section header block');
    }
    const type = rawType === PCAPNG_SHB ? rawType : readU32(buf, pos, this.little);
    const length = readU32(buf, pos + 4, this.little);
    const where = `block ${this.blocks + 1}, ${blockName(type)}`;
    if (length < 12 || length % 4 !== 0 || length > MAX_BLOCK_LENGTH) {
      throw new CaptureFormatError(base + pos, where, `impossible block length ${length}`);
    }
    if (end - pos < length) return 0;
    const trailer = readU32(buf, pos + length - 4, this.little);
    if (trailer !== length) {
      throw new CaptureFormatError(base + pos, where, `block length ${length} and trailing length ${trailer} disagree`);
    }
    this.blocks++;
    const body = pos + 8;
    const bodyEnd = pos + length - 4;
    switch (type) {
      case PCAPNG_SHB:
        if (bodyEnd - body < 16) throw new CaptureFormatError(base + pos, where, 'section header too short');
        this.inSection = true;
        this.sections++;
        this.interfaces.length = 0; // interface ids are per section
        break;
      case PCAPNG_IDB:
        this.readInterface(buf, body, bodyEnd, base + pos, where);
        break;
      case PCAPNG_EPB:
      case PCAPNG_PB: {
        if (bodyEnd - body < 20) throw new CaptureFormatError(base + pos, where, 'packet block too short');
        const ifId = type === PCAPNG_EPB ? readU32(buf, body, this.little) : readU16(buf, body, this.little);
        const itf = this.interfaces[ifId];
        if (itf === undefined) throw new CaptureFormatError(base + pos, where, `interface ${ifId} was not described in this section`);
        const hi = readU32(buf, body + 4, this.little);
        const lo = readU32(buf, body + 8, this.little);
        const caplen = readU32(buf, body + 12, this.little);
        const wireLen = readU32(buf, body + 16, this.little);
        if (body + 20 + caplen > bodyEnd) {
          throw new CaptureFormatError(base + pos, where, `captured length ${caplen} exceeds the block`);
        }
        out.data = buf;
        out.offset = body + 20;
        out.caplen = caplen;
        out.wireLen = Math.max(wireLen, caplen);
        out.time = timestamp(itf, hi, lo);
        out.linkType = itf.linkType;
        out.fileOffset = base + pos;
        this.produced = true;
        break;
      }
      case PCAPNG_SPB: {
        const itf = this.interfaces[0];
        if (itf === undefined) throw new CaptureFormatError(base + pos, where, 'simple packet block before any interface description');
        if (bodyEnd - body < 4) throw new CaptureFormatError(base + pos, where, 'packet block too short');
        const wireLen = readU32(buf, body, this.little);
        const room = bodyEnd - body - 4;
        const caplen = Math.min(wireLen, room, itf.snaplen === 0 ? room : itf.snaplen);
        out.data = buf;
        out.offset = body + 4;
        out.caplen = caplen;
        out.wireLen = Math.max(wireLen, caplen);
        out.time = Number.NaN; // simple packet blocks carry no timestamp
        out.linkType = itf.linkType;
        out.fileOffset = base + pos;
        this.produced = true;
        break;
      }
      default:
        break; // name resolution, statistics, custom, decryption secrets ...: not needed
    }
    return length;
  }

  private readInterface(buf: Uint8Array, body: number, bodyEnd: number, offset: number, where: string): void {
    if (bodyEnd - body < 8) throw new CaptureFormatError(offset, where, 'interface description too short');
    const itf: Interface = {
      linkType: readU16(buf, body, this.little),
      snaplen: readU32(buf, body + 4, this.little),
      unit: 1e-6,
      perSecond: 1e6,
      offsetSeconds: 0,
    };
    let o = body + 8;
    while (o + 4 <= bodyEnd) {
      const code = readU16(buf, o, this.little);
      const len = readU16(buf, o + 2, this.little);
      if (code === 0) break; // opt_endofopt
      if (o + 4 + len > bodyEnd) throw new CaptureFormatError(offset, where, `option ${code} overruns the block`);
      if (code === 9 && len >= 1) {
        const r = buf[o + 4] as number;
        if (r & 0x80) {
          itf.unit = 2 ** -(r & 0x7f);
          itf.perSecond = 0;
        } else {
          itf.unit = 10 ** -r;
          itf.perSecond = r <= 15 ? 10 ** r : 0;
        }
      } else if (code === 14 && len >= 8) {
        // if_tsoffset: a signed 64-bit number of seconds.
        const a = readU32(buf, o + 4, this.little);
        const b = readU32(buf, o + 8, this.little);
        const hi = this.little ? b : a;
        const lo = this.little ? a : b;
        itf.offsetSeconds = (hi | 0) * 4294967296 + lo;
      }
      o += 4 + ((len + 3) & ~3);
    }
    this.interfaces.push(itf);
  }

  describeTruncation(buf: Uint8Array, pos: number, left: number, offset: number): CaptureFormatError {
    const where = `block ${this.blocks + 1}`;
    if (left < 12) return new CaptureFormatError(offset, where, `file ends after ${left} octets of a block header`);
    const type = readU32(buf, pos, this.little);
    const length = readU32(buf, pos + 4, this.little);
    return new CaptureFormatError(offset, `${where}, ${blockName(type)}`, `file ends after ${left} of ${length} block octets`);
  }
}

function timestamp(itf: Interface, hi: number, lo: number): number {
  if (itf.perSecond > 0) return hi * (4294967296 / itf.perSecond) + lo / itf.perSecond + itf.offsetSeconds;
  return (hi * 4294967296 + lo) * itf.unit + itf.offsetSeconds;
}
