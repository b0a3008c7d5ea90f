/**
 * Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html): a
 * 24-octet file header, then records of a 16-octet header and the captured bytes.
 * Both magics (microsecond 0xa1b2c3d4, nanosecond 0xa1b23c4d) in both byte orders.
 *
 * Incremental and allocation-free per packet: `next` parses one record from a window of
 * a caller-owned buffer into a caller-owned `PacketRecord`, or says it needs more bytes.
 * Damage throws a `CaptureFormatError` naming the byte offset and the record.
 */
import { TcpstateError } from '../core/errors.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
/** Larger than any snap length tools write (262144) with room; beyond it a length is damage. */
export const MAX_PACKET_LENGTH = 1 << 24;

/** A packet as the capture readers hand it over: a view into the reader's buffer, valid during the callback. */
export interface PacketRecord {
  data: Uint8Array;
  /** Where the packet's first (link-layer) octet is in `data`. */
  offset: number;
  /** Octets captured (present in `data`). */
  caplen: number;
  /** Octets the packet had on the wire. */
  wireLen: number;
  /** Capture time in seconds since the epoch (fractional). */
  time: number;
  /** LINKTYPE_ value of the interface. */
  linkType: number;
  /** Byte offset of the record (or block) in the file. */
  fileOffset: number;
}

export function newPacketRecord(): PacketRecord {
  return { data: new Uint8Array(0), offset: 0, caplen: 0, wireLen: 0, time: 0, linkType: 0, fileOffset: 0 };
}

/** A capture file that cannot be read on: where, which record or block, and why. */
export class CaptureFormatError extends TcpstateError {
  readonly offset: number;
  readonly block: string;

  constructor(offset: number, block: string, reason: string) {
    super('E_CAPTURE_FORMAT', `damaged capture at byte offset ${offset} (${block}): ${reason}`);
    this.offset = offset;
    this.block = block;
  }
}

export function readU32(buf: Uint8Array, at: number, little: boolean): number {
  const a = buf[at] as number;
  const b = buf[at + 1] as number;
  const c = buf[at + 2] as number;
  const d = buf[at + 3] as number;
  return little ? ((d << 24) | (c << 16) | (b << 8) | a) >>> 0 : ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function readU16(buf: Uint8Array, at: number, little: boolean): number {
  const a = buf[at] as number;
  const b = buf[at + 1] as number;
  return little ? (b << 8) | a : (a << 8) | b;
}

/** Parser state of one pcap file. */
export class PcapParser {
  little = false;
  nanos = false;
  linkType = 0;
  snaplen = 0;
  headerDone = false;
  /** Records parsed so far (1-based number of the next one is this + 1). */
  records = 0;
  /** From the file header: the largest plausible captured length, and the timestamp fraction's units per second. */
  private maxCaplen = 0;
  private fracPerSecond = 1e6;

  /** True when these four octets open a pcap file in either byte order. */
  static sniff(buf: Uint8Array, at: number): boolean {
    const be = readU32(buf, at, false);
    const le = readU32(buf, at, true);
    return be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS;
  }

  /**
   * Parses the next unit at `pos` (`end` exclusive; `base` = file offset of buf[0]).
   * Returns octets consumed (0: need more bytes); fills `out` and sets `produced` when a packet came out.
   */
  next(buf: Uint8Array, pos: number, end: number, base: number, out: PacketRecord): number {
    this.produced = false;
    if (!this.headerDone) {
      if (end - pos < PCAP_HEADER_LENGTH) return 0;
      const be = readU32(buf, pos, false);
      if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) this.little = false;
      else this.little = true;
      const magic = readU32(buf, pos, this.little);
      if (magic !== PCAP_MAGIC_US && magic !== PCAP_MAGIC_NS) {
        throw new CaptureFormatError(base + pos, 'pcap file header', 'not a pcap magic number');
      }
      this.nanos = magic === PCAP_MAGIC_NS;
      this.snaplen = readU32(buf, pos + 16, this.little);
      // The top bits of the link type field may carry an FCS length (pcap-savefile(5)).
      this.linkType = readU32(buf, pos + 20, this.little) & 0x0fffffff;
      this.maxCaplen = Math.min(MAX_PACKET_LENGTH, Math.max(this.snaplen, 262144) * 4);
      this.fracPerSecond = this.nanos ? 1e9 : 1e6;
      this.headerDone = true;
      return PCAP_HEADER_LENGTH;
    }
    if (end - pos < PCAP_RECORD_HEADER_LENGTH) return 0;
    const little = this.little;
    const sec = readU32(buf, pos, little);
    const frac = readU32(buf, pos + 4, little);
    const caplen = readU32(buf, pos + 8, little);
    const wireLen = readU32(buf, pos + 12, little);
    if (caplen > this.maxCaplen) {
      throw new CaptureFormatError(base + pos, `pcap record ${this.records + 1}`, `captured length ${caplen} is impossible (snap length ${this.snaplen})`);
    }
    const perSecond = this.fracPerSecond;
    if (frac >= perSecond * 16) {
      throw new CaptureFormatError(base + pos, `pcap record ${this.records + 1}`, `timestamp fraction ${frac} is out of range`);
    }
    const total = PCAP_RECORD_HEADER_LENGTH + caplen;
    if (end - pos < total) return 0;
    out.data = buf;
    out.offset = pos + PCAP_RECORD_HEADER_LENGTH;
    out.caplen = caplen;
    out.wireLen = wireLen > caplen ? wireLen : caplen;
    out.time = sec + frac / perSecond;
    out.linkType = this.linkType;
    out.fileOffset = base + pos;
    this.records++;
    this.produced = true;
    return total;
  }

  produced = false;

  /** What is missing when the input ends with `left` unparsed octets at `offset`. */
  describeTruncation(buf: Uint8Array, pos: number, left: number, offset: number): CaptureFormatError {
    if (!this.headerDone) return new CaptureFormatError(offset, 'pcap file header', `file ends after ${left} of 24 header octets`);
    const where = `pcap record ${this.records + 1}`;
    if (left < PCAP_RECORD_HEADER_LENGTH) {
      return new CaptureFormatError(offset, where, `file ends after ${left} of 16 record header octets`);
    }
    const caplen = readU32(buf, pos + 8, this.little);
    return new CaptureFormatError(offset, where, `file ends after ${left - PCAP_RECORD_HEADER_LENGTH} of ${caplen} packet octets`);
  }
}
