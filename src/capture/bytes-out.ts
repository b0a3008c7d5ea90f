/**
 * ASCII text written straight into a reused byte buffer: the NDJSON output of
 * `capture --ndjson` (flushed to a sink in large chunks) and the queue of records
 * waiting for their TIME_WAIT to end (a FIFO of reused chunks, sized by what waits).
 * No string is built per record except the text of fractional numbers.
 *
 * Callers reserve room with `ensure(n)` before writing at most `n` octets; `ascii` takes
 * strings of code points below 128 only (addresses, state ids, JSON keys, Zeek letters).
 */
import { ipv6WordsToString } from '../wire/ipv6.js';

/** Constant ASCII text as little-endian 32-bit words: written 4 octets per step. */
export interface AsciiText {
  readonly words: Uint32Array;
  readonly length: number;
}

/** An ASCII string made ready for `lit` and `field` (built once). */
export function asciiBytes(s: string): AsciiText {
  const words = new Uint32Array(Math.ceil(s.length / 4));
  const b = new Uint8Array(words.buffer);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    // A big-endian host: the words are read as little-endian.
    const v = new DataView(words.buffer);
    for (let i = 0; i < words.length; i++) words[i] = v.getUint32(i * 4, true);
  }
  return { words, length: s.length };
}

/**
 * Every buffer has this many octets beyond its capacity: `lit` writes whole words, so up
 * to 3 octets past the text (overwritten by what follows).
 */
const SLACK = 8;

/** "00" to "99" as ASCII octets. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[i * 2] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[i * 2 + 1] = 48 + (i % 10);
}

export type FlushTarget = (bytes: Uint8Array, length: number) => void;

export class ByteSink {
  buf: Uint8Array;
  private view: DataView;
  /** Usable octets of `buf` (its length less SLACK). */
  private cap: number;
  /** Octets written into `buf`. */
  n = 0;
  private readonly target: FlushTarget | null;
  // FIFO use: records are written into chunks of CHUNK octets (a record never spans two);
  // chunks whose records were all read are reused. Memory follows what is queued.
  /** Where the record being written starts in `buf`. */
  mark = 0;
  private readonly chunks: Uint8Array[] = [];
  /** Sequence number of chunks[0]; the chunk being written is the last one. */
  private chunkBase = 0;
  private readonly spare: Uint8Array[] = [];
  private readonly chunkSize: number;

  /** With a target: an output buffer flushed when full; without: a FIFO of records in chunks. */
  constructor(size: number, target: FlushTarget | null) {
    this.buf = new Uint8Array(size + SLACK);
    this.view = new DataView(this.buf.buffer);
    this.cap = size;
    this.chunkSize = size;
    this.target = target;
    if (target === null) this.chunks.push(this.buf);
  }

  ensure(k: number): void {
    if (this.n + k > this.cap) this.makeRoom(k);
  }

  private makeRoom(k: number): void {
    if (this.target !== null) {
      this.flush();
      if (k > this.cap) this.use(new Uint8Array(k * 2 + SLACK));
      return;
    }
    // A new chunk; the part of the record written so far moves along.
    const partial = this.n - this.mark;
    const size = this.chunkSize;
    const next = partial + k <= size ? (this.spare.pop() ?? new Uint8Array(size + SLACK)) : new Uint8Array(Math.max(size, (partial + k) * 2) + SLACK);
    next.set(this.buf.subarray(this.mark, this.n));
    this.use(next);
    this.chunks.push(next);
    this.mark = 0;
    this.n = partial;
  }

  private use(b: Uint8Array): void {
    this.buf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.cap = b.length - SLACK;
  }

  /** FIFO: a record starts here. */
  begin(): void {
    this.mark = this.n;
  }

  /** FIFO: sequence number of the chunk being written (where the current record is). */
  get chunkSeq(): number {
    return this.chunkBase + this.chunks.length - 1;
  }

  /** FIFO: the chunk of a sequence number still queued. */
  chunk(seq: number): Uint8Array {
    return this.chunks[seq - this.chunkBase] as Uint8Array;
  }

  /** FIFO: every record before chunk `seq` has been read; their chunks are reused. */
  releaseBefore(seq: number): void {
    while (this.chunkBase < seq && this.chunks.length > 1) {
      const c = this.chunks.shift() as Uint8Array;
      this.chunkBase++;
      if (c.length === this.chunkSize + SLACK) this.spare.push(c);
    }
  }

  /** FIFO: nothing is queued: write from the start of the current chunk again. */
  reset(): void {
    this.releaseBefore(this.chunkSeq);
    this.n = 0;
    this.mark = 0;
  }

  /** Hands the buffered octets to the target (output use). */
  flush(): void {
    if (this.target !== null && this.n > 0) this.target(this.buf, this.n);
    this.n = 0;
  }

  ascii(s: string): void {
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < s.length; i++) b[n++] = s.charCodeAt(i);
    this.n = n;
  }

  /** `length` octets of `from` at `start` (ASCII; short: a loop beats a subarray view). */
  octets(from: Uint8Array, start: number, length: number): void {
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < length; i++) b[n++] = from[start + i] as number;
    this.n = n;
  }

  /** Constant text (from `asciiBytes`), a word at a time. */
  lit(t: AsciiText): void {
    const w = t.words;
    const v = this.view;
    let at = this.n;
    for (let i = 0; i < w.length; i++) {
      v.setUint32(at, w[i] as number, true);
      at += 4;
    }
    this.n += t.length;
  }

  copy(from: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    this.buf.set(from.subarray(start, end), this.n);
    this.n += end - start;
  }

  /** Constant text, then a number (`lit` + `num` in one call: most of a record is that pair). */
  field(t: AsciiText, x: number): void {
    const w = t.words;
    const v = this.view;
    let at = this.n;
    for (let i = 0; i < w.length; i++) {
      v.setUint32(at, w[i] as number, true);
      at += 4;
    }
    const n = this.n + t.length;
    if (x >= 0 && x < 10 && (x | 0) === x) {
      this.buf[n] = 48 + x;
      this.n = n + 1;
      return;
    }
    this.n = n;
    this.num(x);
  }

  /** A finite number as `JSON.stringify` writes it. */
  num(x: number): void {
    if (x >= 0 && x <= 0xffffffff) {
      if ((x >>> 0) === x) {
        this.uint(x);
        return;
      }
      // Capture times and rounded durations: x is the double nearest to k / 10^6. Below
      // 2^32 two such decimals are further apart than a double's precision, so the
      // shortest text that reads back as x (what String(x) gives) is k / 10^6 written out
      // with trailing zeros dropped.
      const k = Math.round(x * 1e6);
      if (k / 1e6 === x) {
        const whole = Math.floor(k / 1e6);
        let frac = k - whole * 1e6;
        this.uint(whole);
        this.buf[this.n++] = 46;
        let width = 6;
        while (frac % 10 === 0) {
          frac /= 10;
          width--;
        }
        // Leading zeros of the fraction, then its significant digits.
        let digits = 1;
        for (let v = frac; v >= 10; v = (v / 10) >>> 0) digits++;
        for (let i = digits; i < width; i++) this.buf[this.n++] = 48;
        this.uint(frac);
        return;
      }
    }
    this.ascii(Number.isFinite(x) ? String(x) : 'null');
  }

  private uint(x: number): void {
    const b = this.buf;
    if (x < 10) {
      b[this.n++] = 48 + x;
      return;
    }
    if (x >= 0x80000000) {
      // Above int32 (rare here): the general digit loop.
      let digits = 1;
      for (let v = x; v >= 10; v = Math.floor(v / 10)) digits++;
      let at = this.n + digits;
      this.n = at;
      for (let v = x; at > this.n - digits; v = Math.floor(v / 10)) b[--at] = 48 + (v % 10);
      return;
    }
    // Two digits per step from a table, with int32 division (a multiplication once compiled).
    let v = x | 0;
    const digits = v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
    let at = this.n + digits;
    this.n = at;
    while (v >= 100) {
      const q = (v / 100) | 0;
      const r = (v - q * 100) << 1;
      b[--at] = DIGIT_PAIRS[r + 1] as number;
      b[--at] = DIGIT_PAIRS[r] as number;
      v = q;
    }
    if (v >= 10) {
      b[--at] = DIGIT_PAIRS[(v << 1) + 1] as number;
      b[--at] = DIGIT_PAIRS[v << 1] as number;
    } else {
      b[--at] = 48 + v;
    }
  }

  address(w0: number, w1: number, w2: number, w3: number, family: 'ipv4' | 'ipv6'): void {
    if (family === 'ipv6') {
      this.ascii(ipv6WordsToString(w0, w1, w2, w3));
      return;
    }
    this.uint(w0 >>> 24);
    this.buf[this.n++] = 46;
    this.uint((w0 >>> 16) & 0xff);
    this.buf[this.n++] = 46;
    this.uint((w0 >>> 8) & 0xff);
    this.buf[this.n++] = 46;
    this.uint(w0 & 0xff);
  }
}
