/**
 * The `"states"` member of a capture record's NDJSON line, and the lines that wait for a
 * TIME_WAIT to end: a side in TIME_WAIT at finishing is CLOSED once the capture clock
 * passes its deadline, but the capture may end first. Such a line is written at once, as
 * it will read when its deadlines have passed, into output that is kept (./bytes-out.ts).
 * A sweep past the deadlines sends it on as written; the end of the capture puts back the
 * TIME_WAIT of a side whose deadline is still ahead.
 */
import { TCP_STATES } from '../core/states.js';
import { settleMutableFields } from '../core/object-layout.js';
import { asciiBytes, ByteSink, type AsciiText } from './bytes-out.js';

/** A state's code: its index in TCP_STATES (what fits in 4 bits). */
const CLOSED_CODE = TCP_STATES.indexOf('CLOSED');

/** `{"orig":"…","resp":"…"}` per pair of state codes (orig × 16 + resp), built when first used. */
const STATES_TEXT: (AsciiText | undefined)[] = new Array<AsciiText | undefined>(256);

/** The states member's text for state codes `o` and `r`. */
export function statesText(o: number, r: number): AsciiText {
  return STATES_TEXT[o * 16 + r] ?? newStatesText(o, r);
}

/** Made when first needed, by a function of its own that V8 does not compile into the formatter (see src/capture/row-json.ts). */
function newStatesText(o: number, r: number): AsciiText {
  const t = asciiBytes(`{"orig":"${TCP_STATES[o] as string}","resp":"${TCP_STATES[r] as string}"}`);
  STATES_TEXT[o * 16 + r] = t;
  return t;
}

/** Columns of a waiting line's row: chunk, start of the line, start and end of its states within it, deadlines, state codes. */
const W = 7;

/** A side's state code at capture time `now`, from its code at finishing and its TIME_WAIT deadline (-1: none). */
function codeAt(code: number, deadline: number, now: number): number {
  return deadline >= 0 && deadline <= now ? CLOSED_CODE : code;
}

/**
 * Lines with a TIME_WAIT deadline, in the order they were finished: their text in kept
 * chunks, and per line where it is and what its states are. They go on to `out` when a
 * sweep passes their deadlines, after what `out` holds by then. Memory follows what waits.
 */
export class WaitingLines {
  /** The lines' text. */
  private readonly text: ByteSink;
  /** Where they go. */
  private readonly out: ByteSink;
  private rows = new Float64Array(W * 1024);
  private head = 0;
  private tail = 0;

  constructor(out: ByteSink) {
    this.out = out;
    this.text = new ByteSink(1 << 20, (b, n) => out.pass(b, n), true);
    // Its fields are written again later: mutable from now on (src/core/object-layout.ts).
    settleMutableFields(this);
  }

  /** A line starts: write it into `text`, with `writeStates` for its states, then `commit`. */
  begin(): ByteSink {
    this.text.begin();
    return this.text;
  }

  /**
   * Writes the states of the line begun with `begin`, after its text before the states: a
   * side with a deadline (≥ 0) as CLOSED, the other in its state (codes `o`, `r`).
   */
  writeStates(o: number, r: number, oDeadline: number, rDeadline: number): void {
    const out = this.text;
    const m = this.reserve();
    const t = this.tail;
    // Offsets within the line: it may still move to a new chunk while the rest is written.
    m[t + 2] = out.n - out.mark;
    out.lit(statesText(oDeadline >= 0 ? CLOSED_CODE : o, rDeadline >= 0 ? CLOSED_CODE : r));
    m[t + 3] = out.n - out.mark;
    m[t + 4] = oDeadline;
    m[t + 5] = rDeadline;
    m[t + 6] = o * 16 + r;
  }

  /** The line is whole: it waits where it ended up. */
  commit(): void {
    const out = this.text;
    const m = this.rows;
    const t = this.tail;
    m[t] = out.chunkSeq;
    m[t + 1] = out.mark;
    this.tail = t + W;
  }

  private reserve(): Float64Array {
    if (this.tail + W > this.rows.length) {
      const live = this.tail - this.head;
      const next = live * 2 + W > this.rows.length ? new Float64Array(this.rows.length * 2) : this.rows;
      if (next !== this.rows) next.set(this.rows.subarray(this.head, this.tail));
      else next.copyWithin(0, this.head, this.tail);
      this.rows = next;
      this.head = 0;
      this.tail = live;
    }
    return this.rows;
  }

  /**
   * The capture clock reached `now` in a sweep: the lines whose deadlines have passed go on
   * as written, up to the first one still waiting. At the end (`all`) every line goes, and
   * a side whose deadline is still ahead is put back in the TIME_WAIT it is in at that time.
   */
  release(now: number, all: boolean): void {
    if (all) {
      this.releaseAll(now);
      return;
    }
    const text = this.text;
    const m = this.rows;
    while (this.head < this.tail) {
      const h = this.head;
      if (Math.max(m[h + 4] as number, m[h + 5] as number) > now) {
        // Offsets as small integers (`| 0`): a number read from a Float64Array stored in the
        // sink's fields would change their representation, and V8 would throw away the
        // compiled code of every method that uses the sink.
        text.sendTo((m[h] as number) | 0, (m[h + 1] as number) | 0);
        return;
      }
      this.head = h + W;
    }
    this.head = this.tail = 0;
    text.sendTo(text.chunkSeq, text.n);
  }

  /**
   * The end of the capture: every line goes to `out`, copied from where it waits, with
   * the states of a line whose deadline is still ahead written anew. (Nothing before the
   * first waiting line is left to send: each sweep sent up to it.) On the bench file that
   * is 61,000 lines, the last work of a run: a median of 69 ms this way, against 86 ms
   * through `sendTo` and a replacing method (6 runs each, interleaved).
   */
  private releaseAll(now: number): void {
    const text = this.text;
    const out = this.out;
    const m = this.rows;
    const tail = this.tail;
    for (let h = this.head; h < tail; h += W) {
      const seq = (m[h] as number) | 0;
      const line = (m[h + 1] as number) | 0;
      const chunk = text.chunkOf(seq);
      // Lines follow one another in a chunk: this one ends where the next begins, or with what the chunk holds.
      const end = h + W < tail && ((m[h + W] as number) | 0) === seq ? (m[h + W + 1] as number) | 0 : text.chunkLength(seq);
      const o = m[h + 4] as number;
      const r = m[h + 5] as number;
      if (o > now || r > now) {
        const a = (line + (m[h + 2] as number)) | 0;
        const b = (line + (m[h + 3] as number)) | 0;
        const codes = (m[h + 6] as number) | 0;
        const states = statesText(codeAt(codes >> 4, o, now), codeAt(codes & 15, r, now));
        out.pass(chunk.subarray(line, a), a - line);
        out.pass(states.bytes, states.length);
        out.pass(chunk.subarray(b, end), end - b);
      } else {
        out.pass(chunk.subarray(line, end), end - line);
      }
    }
    this.head = this.tail = 0;
    text.dropKept();
  }
}
