/**
 * The `"states"` member of a capture record's NDJSON line, and the line of a record that
 * waited for its TIME_WAIT to end: a side whose TIME_WAIT deadline passed by the time the
 * record goes out is CLOSED there, as the capture clock says; and the queue such records
 * wait in. Shared by the single-threaded analyzer and the assembler of shard output.
 */
import { TCP_STATES, type TcpState } from '../core/states.js';
import { asciiBytes, ByteSink } from './bytes-out.js';

/** A state from its index in TCP_STATES (what fits in 4 bits). */
function stateOfCode(code: number): TcpState {
  return TCP_STATES[code] as TcpState;
}

const STATES_ORIG = asciiBytes('{"orig":"');
const STATES_RESP = asciiBytes('","resp":"');
const STATES_END = asciiBytes('"}');
export const NEWLINE = asciiBytes('\n');

export function writeStates(out: ByteSink, o: TcpState, r: TcpState): void {
  out.lit(STATES_ORIG);
  out.ascii(o);
  out.lit(STATES_RESP);
  out.ascii(r);
  out.lit(STATES_END);
}

/**
 * A record's line from its text in two parts (`text[start, headEnd)` before the states,
 * `[headEnd, end)` after), its states at finishing (`codes`: orig × 16 + resp) and the
 * sides' TIME_WAIT deadlines (-1: none), released at capture time `now`.
 */
export function writeWaitingLine(out: ByteSink, text: Uint8Array, start: number, headEnd: number, end: number, o: number, r: number, codes: number, now: number): void {
  const os = o >= 0 && o <= now ? 'CLOSED' : stateOfCode(codes >> 4);
  const rs = r >= 0 && r <= now ? 'CLOSED' : stateOfCode(codes & 15);
  out.copy(text, start, headEnd);
  out.ensure(64);
  writeStates(out, os, rs);
  out.copy(text, headEnd, end);
  out.ensure(1);
  out.lit(NEWLINE);
}

/** Columns of a waiting line's row: chunk, start, end of the part before the states, end, deadlines, state codes. */
const W = 7;

/**
 * Lines waiting for their TIME_WAIT to end, in the order they were finished: their text
 * (split around the final states) in a FIFO of reused chunks, and a row of numbers each.
 * Memory follows what waits.
 */
export class WaitingLines {
  private readonly text = new ByteSink(1 << 20, null);
  private rows = new Float64Array(W * 1024);
  private head = 0;
  private tail = 0;

  /** Starts a line: write its text into the returned sink, then `commit`. */
  begin(): ByteSink {
    this.text.begin();
    return this.text;
  }

  /**
   * The line written since `begin` waits; `headLength` is how much of it comes before
   * the states (`sink.n - sink.mark` when the head was written: the line may move to a
   * new chunk while the rest is written), `o` and `r` the sides' deadlines (-1: none),
   * `codes` orig × 16 + resp.
   */
  commit(headLength: number, o: number, r: number, codes: number): void {
    const q = this.text;
    if (this.tail + W > this.rows.length) {
      const live = this.tail - this.head;
      const next = live * 2 + W > this.rows.length ? new Float64Array(this.rows.length * 2) : this.rows;
      if (next !== this.rows) next.set(this.rows.subarray(this.head, this.tail));
      else next.copyWithin(0, this.head, this.tail);
      this.rows = next;
      this.head = 0;
      this.tail = live;
    }
    const m = this.rows;
    const t = this.tail;
    m[t] = q.chunkSeq;
    m[t + 1] = q.mark;
    m[t + 2] = q.mark + headLength;
    m[t + 3] = q.n;
    m[t + 4] = o;
    m[t + 5] = r;
    m[t + 6] = codes;
    this.tail = t + W;
  }

  /** Writes the lines whose deadlines passed by `now` (all of them when `all`) to `out`, in order. */
  release(out: ByteSink, now: number, all: boolean): void {
    const q = this.text;
    const m = this.rows;
    if (this.head === this.tail) return;
    while (this.head < this.tail) {
      const h = this.head;
      const o = m[h + 4] as number;
      const r = m[h + 5] as number;
      if (!all && Math.max(o, r) > now) break;
      this.head = h + W;
      writeWaitingLine(out, q.chunk(m[h] as number), m[h + 1] as number, m[h + 2] as number, m[h + 3] as number, o, r, m[h + 6] as number, now);
    }
    if (this.head === this.tail) {
      this.head = this.tail = 0;
      q.reset();
    } else {
      q.releaseBefore(m[this.head] as number);
    }
  }
}
