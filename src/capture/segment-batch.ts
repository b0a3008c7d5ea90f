/**
 * Decoded packets as numbers, to hand from the thread that reads and decodes a capture
 * to the one that analyses it (./pipeline.ts): one row per packet — its time, and for a
 * TCP segment what `DecodedSink.segment` takes — in a Float64Array that crosses threads
 * without copying.
 */
import type { DecodedSink } from './decoder.js';

const K_TICK = 0;
const K_SEGMENT = 1;

/** Columns: kind, time, family (4/6), ports, flags, seq, ack, window, length, wscale, frame and IP octets, truncated, 8 address words. */
const S_KIND = 0;
const S_TIME = 1;
const S_FAMILY = 2;
const S_SPORT = 3;
const S_DPORT = 4;
const S_FLAGS = 5;
const S_SEQ = 6;
const S_ACK = 7;
const S_WINDOW = 8;
const S_LEN = 9;
const S_WSCALE = 10;
const S_WIRE = 11;
const S_IP = 12;
const S_TRUNCATED = 13;
const S_SRC = 14;
const S_DST = 18;
export const SEGMENT_ROW = 22;

/** Collects decoded packets into rows (a `DecodedSink` for the decoder). */
export class SegmentRows implements DecodedSink {
  rows: Float64Array;
  used = 0;

  constructor(packets: number) {
    this.rows = new Float64Array(packets * SEGMENT_ROW);
  }

  get full(): boolean {
    return this.used + SEGMENT_ROW > this.rows.length;
  }

  tick(time: number): void {
    const r = this.rows;
    const at = this.used;
    r[at + S_KIND] = K_TICK;
    r[at + S_TIME] = time;
    this.used = at + SEGMENT_ROW;
  }

  segment(
    family: 'ipv4' | 'ipv6', src: Uint32Array, dst: Uint32Array, sp: number, dp: number, flags: number, seq: number, ack: number, win: number,
    len: number, wscale: number, wireLen: number, ipLen: number, time: number, truncated: boolean,
  ): void {
    // The tick of this packet is the row just written: it becomes the segment's row.
    const r = this.rows;
    const at = this.used - SEGMENT_ROW;
    r[at + S_KIND] = K_SEGMENT;
    r[at + S_TIME] = time;
    r[at + S_FAMILY] = family === 'ipv4' ? 4 : 6;
    r[at + S_SPORT] = sp;
    r[at + S_DPORT] = dp;
    r[at + S_FLAGS] = flags;
    r[at + S_SEQ] = seq;
    r[at + S_ACK] = ack;
    r[at + S_WINDOW] = win;
    r[at + S_LEN] = len;
    r[at + S_WSCALE] = wscale;
    r[at + S_WIRE] = wireLen;
    r[at + S_IP] = ipLen;
    r[at + S_TRUNCATED] = truncated ? 1 : 0;
    for (let i = 0; i < 4; i++) {
      r[at + S_SRC + i] = src[i] as number;
      r[at + S_DST + i] = dst[i] as number;
    }
  }

  /** Arrays handed back by the other thread, to fill again. */
  private readonly spare: Float64Array[] = [];

  /** The rows so far (the array itself, to transfer); a spare or new array takes their place. */
  take(): { rows: Float64Array; used: number } {
    const taken = { rows: this.rows, used: this.used };
    this.rows = this.spare.pop() ?? new Float64Array(this.rows.length);
    this.used = 0;
    return taken;
  }

  /** An array taken earlier, back from the other thread. */
  recycle(rows: Float64Array): void {
    if (rows.length === this.rows.length) this.spare.push(rows);
  }
}

const SRC = new Uint32Array(4);
const DST = new Uint32Array(4);

/** Feeds rows written by `SegmentRows` to a sink, in order. */
export function replaySegments(rows: Float64Array, used: number, sink: DecodedSink): void {
  for (let at = 0; at < used; at += SEGMENT_ROW) {
    const time = rows[at + S_TIME] as number;
    sink.tick(time);
    if (rows[at + S_KIND] !== K_SEGMENT) continue;
    for (let i = 0; i < 4; i++) {
      SRC[i] = rows[at + S_SRC + i] as number;
      DST[i] = rows[at + S_DST + i] as number;
    }
    sink.segment(
      rows[at + S_FAMILY] === 4 ? 'ipv4' : 'ipv6', SRC, DST, rows[at + S_SPORT] as number, rows[at + S_DPORT] as number, rows[at + S_FLAGS] as number,
      rows[at + S_SEQ] as number, rows[at + S_ACK] as number, rows[at + S_WINDOW] as number, rows[at + S_LEN] as number, rows[at + S_WSCALE] as number,
      rows[at + S_WIRE] as number, rows[at + S_IP] as number, time, rows[at + S_TRUNCATED] === 1,
    );
  }
}
