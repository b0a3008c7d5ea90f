/**
 * Decoded packets in shared memory, from the thread that reads and decodes a capture to
 * the thread that analyses it (./pipeline.ts with one worker). The reading thread also
 * writes the lines and would otherwise wait half the time; the analysing thread, the
 * slower of the two, is spared reading and decoding, about a quarter of its work.
 *
 * What the decoder hands its sink (`tick` for every packet, `segment` for a TCP one) is
 * written as records of fixed-size slots of 12 32-bit words: one slot for a tick or an
 * IPv4 segment, two for an IPv6 segment (the second holds the other 96 bits of each
 * address), the capture time as a float64 in the slot's last two words: 48 octets for
 * the common packet, against 80 when one 20-word record served both families (less
 * memory passed from one core to the other; the ring's memory went from 5 to 3 MB, the
 * analysing thread's time down slightly at most). A ring of slots with two indices in
 * shared memory, each written by one side only (Atomics): the writer publishes what it
 * wrote after each block of the file, the reader what it consumed; a side that has
 * nothing to do waits on the other's index.
 *
 * Slot words: 0 kind | truncated << 2 | IPv6 << 3 | flags << 8 | (window scale + 1) << 16;
 * 1 ports (source | destination << 16); 2 seq; 3 ack; 4 window; 5 payload length;
 * 6 wire length; 7 IP length; 8 source address (its first word for IPv6); 9 destination
 * address (likewise); 10–11 time. An IPv6 segment's second slot: 0–2 the source's words
 * 1–3, 3–5 the destination's.
 */
import { SYN } from '../core/segment.js';
import { settleMutableFields } from '../core/object-layout.js';
import { i32 } from '../wire/bytes.js';
import { IPPROTO_TCP, IPV4_MIN_HEADER } from '../wire/ipv4.js';
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_RAW } from '../wire/link.js';
import type { PacketRecord } from '../wire/pcap.js';
import { newTcpHeader, parseOptions, TCP_MIN_HEADER } from '../wire/tcp.js';
import type { DecodedSegment, DecodedSink } from './decoder.js';

/** Words per slot (even: the time is a float64 at words 10–11). */
const WORDS = 12;
const TIME_WORD = 10;
const KIND_TICK = 1;
const KIND_SEGMENT = 2;
const TRUNCATED = 1 << 2;
const IPV6 = 1 << 3;
/** Header words: slots published by the writer, slots consumed by the reader, the writer has finished. */
const WRITTEN = 0;
const CONSUMED = 1;
const DONE = 2;

/** Atomics.waitAsync: in Node since 16, in the ES2024 library types (this project compiles against ES2022). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string } }).waitAsync.bind(Atomics);

export interface PacketRingMemory {
  readonly slots: SharedArrayBuffer;
  readonly header: SharedArrayBuffer;
}

/** Shared memory for a ring of at least `slots` slots (a power of two: indices wrap with 32-bit integers). */
export function newPacketRing(slots: number): PacketRingMemory {
  let capacity = 1024;
  while (capacity < slots) capacity *= 2;
  return { slots: new SharedArrayBuffer(capacity * WORDS * 4), header: new SharedArrayBuffer(3 * 4) };
}

/**
 * Slots reading a block of `octets` file octets can fill at most: one per packet, a
 * packet takes at least 16 octets (a pcap record header, a pcapng simple packet block),
 * and what the block before left unparsed is the start of at most one more. (An IPv6
 * segment's two slots come from a packet of over 60 octets.)
 */
export function slotsPerBlock(octets: number): number {
  return Math.floor(octets / 16) + 1;
}

/** A segment's words 0–9 of the slot at word `at` (the layout above; an IPv6 segment's second slot is the writer's). */
function putSegment(
  w: Uint32Array,
  at: number,
  flags: number,
  wscale: number,
  truncated: boolean,
  v6: boolean,
  sp: number,
  dp: number,
  seq: number,
  ack: number,
  win: number,
  len: number,
  wireLen: number,
  ipLen: number,
  src0: number,
  dst0: number,
): void {
  w[at] = KIND_SEGMENT | (truncated ? TRUNCATED : 0) | (v6 ? IPV6 : 0) | (flags << 8) | ((wscale + 1) << 16);
  w[at + 1] = (sp | (dp << 16)) >>> 0;
  w[at + 2] = seq;
  w[at + 3] = ack;
  w[at + 4] = win;
  w[at + 5] = len;
  w[at + 6] = wireLen;
  w[at + 7] = ipLen;
  w[at + 8] = src0;
  w[at + 9] = dst0;
}

/** One side's views of the ring's shared memory. */
class RingSide {
  protected readonly words: Uint32Array;
  /** The same slots as float64s (the time of slot i is at (i * WORDS + TIME_WORD) / 2). */
  protected readonly times: Float64Array;
  protected readonly header: Int32Array;
  /** Slots the ring holds. */
  protected readonly capacity: number;

  constructor(memory: PacketRingMemory) {
    this.words = new Uint32Array(memory.slots);
    this.times = new Float64Array(memory.slots);
    this.header = new Int32Array(memory.header);
    this.capacity = this.words.length / WORDS;
  }
}

/** The decoding side: a DecodedSink writing slots; `publish` makes them visible. */
export class PacketRingWriter extends RingSide implements DecodedSink {
  /** Where `writeCommon` reads a SYN's options. */
  private readonly options = newTcpHeader();
  /** Slots written (published or not): from where the ring's header says (0 for a new ring). */
  private written = Atomics.load(this.header, WRITTEN);

  constructor(memory: PacketRingMemory) {
    super(memory);
    // Its fields are written again later: mutable from now on (src/core/object-layout.ts).
    settleMutableFields(this);
  }

  /** Resolves once there is room for `slots` more (the reader consumes meanwhile: only wait while it has published slots to consume). */
  async room(slots: number): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.header, CONSUMED);
      if (this.capacity - ((this.written - seen) | 0) >= slots) return;
      const w = waitAsync(this.header, CONSUMED, seen);
      if (w.async) await w.value;
    }
  }

  tick(time: number): void {
    const at = (this.written & (this.capacity - 1)) * WORDS;
    this.words[at] = KIND_TICK;
    this.times[(at + TIME_WORD) / 2] = time;
    this.written = (this.written + 1) | 0;
  }

  /** The segment of the packet whose `tick` came just before (its slot becomes a segment's; IPv6 takes the next slot too). */
  segment(s: DecodedSegment): void {
    const w = this.words;
    const at = ((this.written - 1) & (this.capacity - 1)) * WORDS;
    const v6 = s.family === 'ipv6';
    const src = s.src;
    const dst = s.dst;
    putSegment(w, at, s.flags, s.wscale, s.truncated, v6, s.sp, s.dp, s.seq, s.ack, s.win, s.len, s.wireLen, s.ipLen, src[0] as number, dst[0] as number);
    if (v6) {
      const more = (this.written & (this.capacity - 1)) * WORDS;
      w[more] = src[1] as number;
      w[more + 1] = src[2] as number;
      w[more + 2] = src[3] as number;
      w[more + 3] = dst[1] as number;
      w[more + 4] = dst[2] as number;
      w[more + 5] = dst[3] as number;
      this.written = (this.written + 1) | 0;
    }
  }

  /**
   * The common packet written straight from its octets, as `tick` and `segment` would
   * after PacketDecoder.decode: Ethernet without VLAN tags or raw IP, IPv4 with its whole
   * header, not a fragment, carrying TCP with its whole header (the rest may be cut by
   * the snap length: the segment is then marked truncated, as the decoder marks it).
   * Any other packet: false, nothing written, and the caller decodes it. Skipping the
   * decoder's general path and its segment object saves the reading thread a third to a
   * half of its cost of reading, decoding and writing a packet. (The decoder's own counts
   * of TCP packets and truncated ones miss the packets taken here: the thread that feeds
   * the ring has no use for them, the analyzer counts again.)
   */
  writeCommon(p: PacketRecord): boolean {
    const time = p.time;
    if (time !== time) return false; // NaN: a simple packet block, timed by the decoder
    const buf = p.data;
    const end = Math.min(p.offset + p.caplen, buf.length);
    let ip = p.offset;
    const link = p.linkType;
    if (link === LINKTYPE_ETHERNET) {
      if (end - ip < 14 || buf[ip + 12] !== 0x08 || buf[ip + 13] !== 0x00) return false; // not EtherType IPv4
      ip += 14;
    } else if (link !== LINKTYPE_RAW && link !== LINKTYPE_IPV4) return false;
    if (end - ip < IPV4_MIN_HEADER) return false;
    const b0 = buf[ip] as number;
    const hl = (b0 & 0x0f) * 4;
    const total = ((buf[ip + 2] as number) << 8) | (buf[ip + 3] as number);
    // Version 4, a sane header length, the whole header captured; no fragment offset, no more-fragments flag.
    if (b0 >> 4 !== 4 || hl < IPV4_MIN_HEADER || total < hl || end - ip < hl) return false;
    if (((((buf[ip + 6] as number) << 8) | (buf[ip + 7] as number)) & 0x3fff) !== 0 || buf[ip + 9] !== IPPROTO_TCP) return false;
    const tcp = ip + hl;
    const tcpLen = total - hl;
    // The TCP header as far as it was captured and as long as the IP packet says.
    const tcpAvail = Math.min(end - tcp, tcpLen);
    if (tcpAvail < TCP_MIN_HEADER) return false;
    const thl = ((buf[tcp + 12] as number) >> 4) * 4;
    if (thl < TCP_MIN_HEADER || thl > tcpAvail) return false;
    const flags = (buf[tcp + 13] as number) & 0x3f;
    // Options matter only on a SYN: its window scale (-1: none).
    let wscale = -1;
    if (flags & SYN && thl > TCP_MIN_HEADER) {
      const options = this.options;
      options.wscale = -1;
      parseOptions(buf, tcp + TCP_MIN_HEADER, tcp + thl, options);
      wscale = options.wscale;
    }
    const at = (this.written & (this.capacity - 1)) * WORDS;
    // IPv4; truncated when the snap length cut the packet.
    putSegment(
      this.words,
      at,
      flags,
      wscale,
      end - ip < total,
      false,
      ((buf[tcp] as number) << 8) | (buf[tcp + 1] as number),
      ((buf[tcp + 2] as number) << 8) | (buf[tcp + 3] as number),
      i32(buf, tcp + 4),
      i32(buf, tcp + 8),
      ((buf[tcp + 14] as number) << 8) | (buf[tcp + 15] as number),
      tcpLen - thl,
      p.wireLen,
      total,
      i32(buf, ip + 12),
      i32(buf, ip + 16),
    );
    this.times[(at + TIME_WORD) / 2] = time;
    this.written = (this.written + 1) | 0;
    return true;
  }

  /** Makes every slot written so far visible to the reader. */
  publish(): void {
    Atomics.store(this.header, WRITTEN, this.written);
    Atomics.notify(this.header, WRITTEN);
  }

  /** No more slots: the reader ends once it has consumed the published ones. */
  finish(): void {
    this.publish();
    Atomics.store(this.header, DONE, 1);
    Atomics.notify(this.header, WRITTEN);
  }
}

/** Packets the reader analyses between two reports of how far it got. */
const STEP = 1024;

/** The analysing side: replays the slots into a sink, in order, blocking while there are none. */
export class PacketRingReader extends RingSide {
  /** Slots consumed: from where the ring's header says (0 for a new ring). */
  private consumed = Atomics.load(this.header, CONSUMED);

  constructor(memory: PacketRingMemory) {
    super(memory);
    // Its fields are written again later: mutable from now on (src/core/object-layout.ts).
    settleMutableFields(this);
  }

  /**
   * Replays every packet into `sink` (filling `seg` for segments) until the writer has
   * finished and all is consumed; `afterPacket` runs after each packet, `beforeWait`
   * before blocking for more.
   */
  run(sink: DecodedSink, seg: DecodedSegment, afterPacket: () => void, beforeWait: () => void): void {
    const header = this.header;
    for (;;) {
      const written = Atomics.load(header, WRITTEN);
      if (written === this.consumed) {
        if (Atomics.load(header, DONE) === 1 && Atomics.load(header, WRITTEN) === this.consumed) return;
        beforeWait();
        Atomics.wait(header, WRITTEN, written, 1000);
        continue;
      }
      this.replay(written, sink, seg, afterPacket);
      Atomics.store(header, CONSUMED, this.consumed);
      Atomics.notify(header, CONSUMED);
    }
  }

  /**
   * Replays the packets before `written`, at most STEP of them. The hot loop is a function
   * of its own, entered again and again, so V8 compiles it on its own: when the code
   * around it first meets something new (the ring empty for the first time), only that
   * small loop is compiled again, not the replay with everything it inlines.
   */
  private replay(written: number, sink: DecodedSink, seg: DecodedSegment, afterPacket: () => void): void {
    const w = this.words;
    const times = this.times;
    const src = seg.src;
    const dst = seg.dst;
    for (let left = STEP; this.consumed !== written && left > 0; left--) {
      const mask = this.capacity - 1;
      const at = (this.consumed & mask) * WORDS;
      const head = w[at] as number;
      const time = times[(at + TIME_WORD) / 2] as number;
      sink.tick(time);
      if ((head & 3) === KIND_SEGMENT) {
        seg.flags = (head >>> 8) & 0xff;
        seg.truncated = (head & TRUNCATED) !== 0;
        seg.wscale = (head >>> 16) - 1;
        const ports = w[at + 1] as number;
        seg.sp = ports & 0xffff;
        seg.dp = ports >>> 16;
        seg.seq = w[at + 2] as number;
        seg.ack = w[at + 3] as number;
        seg.win = w[at + 4] as number;
        seg.len = w[at + 5] as number;
        seg.wireLen = w[at + 6] as number;
        seg.ipLen = w[at + 7] as number;
        src[0] = w[at + 8] as number;
        dst[0] = w[at + 9] as number;
        if ((head & IPV6) === 0) {
          seg.family = 'ipv4';
          src[1] = 0;
          src[2] = 0;
          src[3] = 0;
          dst[1] = 0;
          dst[2] = 0;
          dst[3] = 0;
        } else {
          seg.family = 'ipv6';
          this.consumed = (this.consumed + 1) | 0;
          const more = (this.consumed & mask) * WORDS;
          src[1] = w[more] as number;
          src[2] = w[more + 1] as number;
          src[3] = w[more + 2] as number;
          dst[1] = w[more + 3] as number;
          dst[2] = w[more + 4] as number;
          dst[3] = w[more + 5] as number;
        }
        seg.time = time;
        sink.segment(seg);
      }
      this.consumed = (this.consumed + 1) | 0;
      afterPacket();
    }
  }
}
