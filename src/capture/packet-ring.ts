/**
 * Decoded packets in shared memory, from the thread that reads and decodes a capture to
 * the thread that analyses it (./pipeline.ts with one worker). The reading thread also
 * writes the lines and would otherwise wait half the time; the analysing thread, the
 * slower of the two, is spared reading and decoding, about a quarter of its work.
 *
 * What the decoder hands its sink (`tick` for every packet, `segment` for a TCP one) is
 * written as one fixed-size record per packet: 20 32-bit words, the capture time as a
 * float64 in the last two. A ring of records with two indices in shared memory, each
 * written by one side only (Atomics): the writer publishes what it wrote after each block
 * of the file, the reader what it consumed; a side that has nothing to do waits on the
 * other's index.
 */
import type { DecodedSegment, DecodedSink } from './decoder.js';

/** Words per record (even: the time is a float64 at words 18–19). */
const WORDS = 20;
const KIND_TICK = 1;
const KIND_SEGMENT = 2;
/** Header words: records published by the writer, records consumed by the reader, the writer has finished. */
const WRITTEN = 0;
const CONSUMED = 1;
const DONE = 2;

/** Atomics.waitAsync: in Node since 16, in the ES2024 library types (this project compiles against ES2022). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string } }).waitAsync.bind(Atomics);

export interface PacketRingMemory {
  readonly records: SharedArrayBuffer;
  readonly header: SharedArrayBuffer;
}

/** Shared memory for a ring of at least `records` records (a power of two: indices wrap with 32-bit integers). */
export function newPacketRing(records: number): PacketRingMemory {
  let capacity = 1024;
  while (capacity < records) capacity *= 2;
  return { records: new SharedArrayBuffer(capacity * WORDS * 4), header: new SharedArrayBuffer(3 * 4) };
}

/**
 * Records reading a block of `octets` file octets can make at most: one per packet, a
 * packet takes at least 16 octets (a pcap record header, a pcapng simple packet block),
 * and what the block before left unparsed is the start of at most one more.
 */
export function recordsPerBlock(octets: number): number {
  return Math.floor(octets / 16) + 1;
}

/** One side's views of the ring's shared memory. */
class RingSide {
  protected readonly words: Uint32Array;
  /** The same records as float64s (the time of record i is at i * WORDS / 2 + 9). */
  protected readonly times: Float64Array;
  protected readonly header: Int32Array;
  /** Records the ring holds. */
  protected readonly capacity: number;

  constructor(memory: PacketRingMemory) {
    this.words = new Uint32Array(memory.records);
    this.times = new Float64Array(memory.records);
    this.header = new Int32Array(memory.header);
    this.capacity = this.words.length / WORDS;
  }
}

/** The decoding side: a DecodedSink writing records; `publish` makes them visible. */
export class PacketRingWriter extends RingSide implements DecodedSink {
  /** Records written (published or not). */
  private written = 0;

  /** Resolves once there is room for `records` more (the reader consumes meanwhile: only wait while it has published records to consume). */
  async room(records: number): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.header, CONSUMED);
      if (this.capacity - ((this.written - seen) | 0) >= records) return;
      const w = waitAsync(this.header, CONSUMED, seen);
      if (w.async) await w.value;
    }
  }

  tick(time: number): void {
    const at = (this.written & (this.capacity - 1)) * WORDS;
    this.words[at] = KIND_TICK;
    this.times[at / 2 + 9] = time;
    this.written = (this.written + 1) | 0;
  }

  /** The segment of the packet whose `tick` came just before (its record becomes a segment record). */
  segment(s: DecodedSegment): void {
    const w = this.words;
    const at = ((this.written - 1) & (this.capacity - 1)) * WORDS;
    w[at] = KIND_SEGMENT | (s.flags << 8) | ((s.family === 'ipv4' ? 4 : 6) << 16) | ((s.truncated ? 1 : 0) << 24);
    w[at + 1] = (s.sp | (s.dp << 16)) >>> 0;
    w[at + 2] = s.seq;
    w[at + 3] = s.ack;
    w[at + 4] = s.win;
    w[at + 5] = s.len;
    w[at + 6] = s.wscale + 1;
    w[at + 7] = s.wireLen;
    w[at + 8] = s.ipLen;
    const src = s.src;
    const dst = s.dst;
    w[at + 9] = src[0] as number;
    w[at + 10] = src[1] as number;
    w[at + 11] = src[2] as number;
    w[at + 12] = src[3] as number;
    w[at + 13] = dst[0] as number;
    w[at + 14] = dst[1] as number;
    w[at + 15] = dst[2] as number;
    w[at + 16] = dst[3] as number;
  }

  /** Makes every record written so far visible to the reader. */
  publish(): void {
    Atomics.store(this.header, WRITTEN, this.written);
    Atomics.notify(this.header, WRITTEN);
  }

  /** No more records: the reader ends once it has consumed the published ones. */
  finish(): void {
    this.publish();
    Atomics.store(this.header, DONE, 1);
    Atomics.notify(this.header, WRITTEN);
  }
}

/** The analysing side: replays the records into a sink, in order, blocking while there are none. */
export class PacketRingReader extends RingSide {
  private consumed = 0;

  /**
   * Replays every record into `sink` (filling `seg` for segments) until the writer has
   * finished and all is consumed; `afterPacket` runs after each packet, `beforeWait`
   * before blocking for more.
   */
  run(sink: DecodedSink, seg: DecodedSegment, afterPacket: () => void, beforeWait: () => void): void {
    const w = this.words;
    const times = this.times;
    const header = this.header;
    const src = seg.src;
    const dst = seg.dst;
    for (;;) {
      const written = Atomics.load(header, WRITTEN);
      if (written === this.consumed) {
        if (Atomics.load(header, DONE) === 1 && Atomics.load(header, WRITTEN) === this.consumed) return;
        beforeWait();
        Atomics.wait(header, WRITTEN, written, 1000);
        continue;
      }
      while (this.consumed !== written) {
        const at = (this.consumed & (this.capacity - 1)) * WORDS;
        const head = w[at] as number;
        sink.tick(times[at / 2 + 9] as number);
        if ((head & 0xff) === KIND_SEGMENT) {
          seg.flags = (head >>> 8) & 0xff;
          seg.family = ((head >>> 16) & 0xff) === 4 ? 'ipv4' : 'ipv6';
          seg.truncated = (head >>> 24) === 1;
          const ports = w[at + 1] as number;
          seg.sp = ports & 0xffff;
          seg.dp = ports >>> 16;
          seg.seq = w[at + 2] as number;
          seg.ack = w[at + 3] as number;
          seg.win = w[at + 4] as number;
          seg.len = w[at + 5] as number;
          seg.wscale = (w[at + 6] as number) - 1;
          seg.wireLen = w[at + 7] as number;
          seg.ipLen = w[at + 8] as number;
          src[0] = w[at + 9] as number;
          src[1] = w[at + 10] as number;
          src[2] = w[at + 11] as number;
          src[3] = w[at + 12] as number;
          dst[0] = w[at + 13] as number;
          dst[1] = w[at + 14] as number;
          dst[2] = w[at + 15] as number;
          dst[3] = w[at + 16] as number;
          seg.time = times[at / 2 + 9] as number;
          sink.segment(seg);
        }
        this.consumed = (this.consumed + 1) | 0;
        afterPacket();
      }
      Atomics.store(header, CONSUMED, this.consumed);
      Atomics.notify(header, CONSUMED);
    }
  }
}
