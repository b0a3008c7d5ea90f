/**
 * ASCII text written straight into a reused byte buffer, handed to a target in large
 * chunks: the NDJSON output of `capture --ndjson`, and the lines waiting for a TIME_WAIT
 * to end (./record-states.ts). Those are kept: their chunks go to the target only as far
 * as `sendTo` says, so a line waits where it was written and goes out from there, not
 * copied again. No string is built per record except the text of fractional numbers.
 *
 * Callers reserve room with `ensure(n)` before writing at most `n` octets; `ascii` takes
 * strings of code points below 128 only (addresses, state ids, JSON keys, Zeek letters).
 */
import { ipv6WordsToString } from '../wire/ipv6.js';
import { settleMutableFields } from '../core/object-layout.js';

/** Constant ASCII text as little-endian 32-bit words: written 4 octets per step. */
export interface AsciiText {
  readonly words: Uint32Array;
  /** The same octets: long texts are copied in one step. */
  readonly bytes: Uint8Array;
  readonly length: number;
}

/** Texts at least this long are copied with one `set` (a memory copy); shorter ones a word at a time. */
const LONG_TEXT = 48;

/** An ASCII string made ready for `lit` and `field` (built once). */
export function asciiBytes(s: string): AsciiText {
  const words = new Uint32Array(Math.ceil(s.length / 4));
  const b = new Uint8Array(words.buffer);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  const bytes = b.slice(0, s.length);
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    // A big-endian host: the words are read as little-endian.
    const v = new DataView(words.buffer);
    for (let i = 0; i < words.length; i++) words[i] = v.getUint32(i * 4, true);
  }
  return { words, bytes, length: s.length };
}

/**
 * Every buffer has this many octets beyond its capacity: `lit` writes whole words, so up
 * to 3 octets past the text (overwritten by what follows).
 */
const SLACK = 8;

/** Pieces passed on (`pass`) at least this long go to the target without a copy. */
const PASS_DIRECT = 1 << 16;

/** "00" to "99" as ASCII octets. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[i * 2] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[i * 2 + 1] = 48 + (i % 10);
}

/** Receives `length` octets from the start of `bytes`; the buffer is reused when it returns. */
export type FlushTarget = (bytes: Uint8Array, length: number) => void;

export class ByteSink {
  buf: Uint8Array;
  private view: DataView;
  /** Usable octets of `buf` (its length less SLACK). */
  private cap: number;
  /** Octets written into `buf`. */
  n = 0;
  /** Where the line being written starts in `buf` (`begin`): a kept line moves whole to a new chunk. */
  mark = 0;
  private readonly target: FlushTarget;
  private readonly size: number;
  /** Kept output: full chunks are kept rather than handed to the target, until `sendTo`. */
  private readonly keep: boolean;
  /** Chunks written and kept, oldest first, with the octets written into each; `buf` comes after them. */
  private readonly kept: Uint8Array[] = [];
  private readonly keptLength: number[] = [];
  /** Sequence number of kept[0] (of `buf` when nothing is kept). */
  private keptBase = 0;
  /** Octets of the oldest chunk (kept[0], or `buf`) already handed to the target. */
  private sent = 0;
  private readonly spare: Uint8Array[] = [];

  /** Output flushed when full, or (`keep`) kept in chunks of `size` octets until `sendTo`. */
  constructor(size: number, target: FlushTarget, keep = false) {
    this.buf = new Uint8Array(size + SLACK);
    this.view = new DataView(this.buf.buffer);
    this.cap = size;
    this.size = size;
    this.target = target;
    this.keep = keep;
    // Its fields are written again later: mutable from now on (src/core/object-layout.ts).
    settleMutableFields(this);
  }

  ensure(k: number): void {
    if (this.n + k > this.cap) this.makeRoom(k);
  }

  private makeRoom(k: number): void {
    if (!this.keep) {
      this.send(this.buf, this.sent, this.n);
      this.n = this.sent = this.mark = 0;
      if (k > this.cap) this.use(new Uint8Array(k * 2 + SLACK));
      return;
    }
    // Kept: so is the chunk, and the part of the line written so far moves to a new one.
    const partial = this.n - this.mark;
    const next = partial + k <= this.size ? (this.spare.pop() ?? new Uint8Array(this.size + SLACK)) : new Uint8Array(Math.max(this.size, (partial + k) * 2) + SLACK);
    next.set(this.buf.subarray(this.mark, this.n));
    this.kept.push(this.buf);
    this.keptLength.push(this.mark);
    this.use(next);
    this.mark = 0;
    this.n = partial;
  }

  private use(b: Uint8Array): void {
    this.buf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.cap = b.length - SLACK;
  }

  private send(b: Uint8Array, from: number, to: number): void {
    if (to > from) this.target(from === 0 ? b : b.subarray(from), to - from);
  }

  /** A line starts here. */
  begin(): void {
    this.mark = this.n;
  }

  /** Sequence number of the chunk being written (where the current line is). */
  get chunkSeq(): number {
    return this.keptBase + this.kept.length;
  }

  /** Hands every octet before offset `at` of chunk `seq` to the target (between lines). */
  sendTo(seq: number, at: number): void {
    while (this.keptBase < seq && this.kept.length > 0) {
      const c = this.kept.shift() as Uint8Array;
      this.send(c, this.sent, this.keptLength.shift() as number);
      this.keptBase++;
      this.sent = 0;
      if (c.length === this.size + SLACK) this.spare.push(c);
    }
    const oldest = this.kept.length > 0 ? (this.kept[0] as Uint8Array) : this.buf;
    if (at > this.sent) {
      this.send(oldest, this.sent, at);
      this.sent = at;
    }
    // All of it sent: write from the start again.
    if (this.kept.length === 0 && this.sent === this.n) this.n = this.sent = this.mark = 0;
  }

  /** Kept output: the chunk of sequence number `seq` (kept, or the one being written). */
  chunkOf(seq: number): Uint8Array {
    const i = seq - this.keptBase;
    return i < this.kept.length ? (this.kept[i] as Uint8Array) : this.buf;
  }

  /** Kept output: the octets written into chunk `seq`. */
  chunkLength(seq: number): number {
    const i = seq - this.keptBase;
    return i < this.kept.length ? (this.keptLength[i] as number) : this.n;
  }

  /** Kept output: forgets what is kept and written, which the caller handed on itself. */
  dropKept(): void {
    for (const c of this.kept) if (c.length === this.size + SLACK) this.spare.push(c);
    this.keptBase += this.kept.length;
    this.kept.length = 0;
    this.keptLength.length = 0;
    this.n = this.sent = this.mark = 0;
  }

  /** Hands the written octets to the target (not for kept output: it goes with `sendTo`). */
  flush(): void {
    if (this.keep) throw new Error('ByteSink.flush: this output is kept until sendTo');
    this.send(this.buf, this.sent, this.n);
    this.n = this.sent = this.mark = 0;
  }

  /**
   * Adds `length` octets of `bytes` after what is written: a short piece is copied in (a
   * write to the target per piece would cost more), a long one goes to the target
   * directly after the written octets.
   */
  pass(bytes: Uint8Array, length: number): void {
    if (length < PASS_DIRECT) {
      this.ensure(length);
      this.buf.set(length === bytes.length ? bytes : bytes.subarray(0, length), this.n);
      this.n += length;
      return;
    }
    this.flush();
    this.target(bytes, length);
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

  /** Constant text (from `asciiBytes`): a long one in one copy, a short one a word at a time. */
  lit(t: AsciiText): void {
    if (t.length >= LONG_TEXT) {
      this.buf.set(t.bytes, this.n);
      this.n += t.length;
      return;
    }
    const w = t.words;
    const v = this.view;
    let at = this.n;
    for (let i = 0; i < w.length; i++) {
      v.setUint32(at, w[i] as number, true);
      at += 4;
    }
    this.n += t.length;
  }

  /**
   * Constant text, then a number: most of a record is that pair. `lit`'s body is written
   * out here on purpose: calling `lit` from here made the formatter slower (3.4–3.8
   * against 1.8–2.6 µs a line, measured).
   */
  field(t: AsciiText, x: number): void {
    if (t.length >= LONG_TEXT) {
      this.buf.set(t.bytes, this.n);
    } else {
      const w = t.words;
      const v = this.view;
      let at = this.n;
      for (let i = 0; i < w.length; i++) {
        v.setUint32(at, w[i] as number, true);
        at += 4;
      }
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
