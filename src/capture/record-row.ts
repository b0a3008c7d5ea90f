/**
 * A finished connection's NDJSON record as numbers: one row of a Float64Array per
 * record (its letters and resets in two side areas), and rows marking the expiry sweeps
 * and the end of the capture, in the order the analyzer produced them. Rows are what
 * the formatter (./row-json.ts) turns into lines, on the analysing thread or, for a
 * file, on the other end of a pipeline (./pipeline.ts): typed arrays cross threads
 * without copying and without building a record object.
 */
import { settleMutableFields } from '../core/object-layout.js';

export const ROW_RECORD = 1;
/** An expiry sweep ran at capture time `R_START`: records whose TIME_WAIT ended by then go out. */
export const ROW_SWEEP = 2;
/** The capture is over at capture time `R_START`: every waiting record goes out. */
export const ROW_END = 3;
/** A connection was created (shards: the assembler numbers connections in creation order). */
export const ROW_CREATE = 4;

export const R_KIND = 0;
export const R_ID = 1;
/** 4 or 6. */
export const R_FAMILY = 2;
/** Start of the connection (records) or the capture time (sweep, end), seconds. */
export const R_START = 3;
export const R_DURATION = 4;
/** Originator address words (IPv4: the first only), then the responder's. */
export const R_O0 = 5;
export const R_R0 = 9;
export const R_OPORT = 13;
export const R_RPORT = 14;
export const R_INFERRED = 15;
/** Packets, payload octets, frame octets, IP octets: orig then resp each. */
export const R_PACKETS = 16;
export const R_BYTES = 18;
export const R_WIRE = 20;
export const R_IP = 22;
/** Final states as indexes in TCP_STATES, and TIME_WAIT deadlines (seconds, -1: none). */
export const R_ORIG_STATE = 24;
export const R_RESP_STATE = 25;
export const R_ORIG_DEADLINE = 26;
export const R_RESP_DEADLINE = 27;
/** Zeek: conn_state as an index in ZEEK_CONN_STATES, history (offset and length in the letter area), sizes, duration. */
export const R_CONN_STATE = 28;
export const R_HISTORY_AT = 29;
export const R_HISTORY_LENGTH = 30;
export const R_ZEEK_ORIG_BYTES = 31;
export const R_ZEEK_RESP_BYTES = 32;
export const R_ZEEK_DURATION = 33;
export const R_COMPLETENESS = 34;
/** Resets: offset and count of (time s, 0 orig / 1 resp, state index) triples in the reset area. */
export const R_RESETS_AT = 35;
export const R_RESETS = 36;
/** Eight anomaly counters per side (SIDE_KEYS order in ./row-json.ts): orig, then resp. */
export const R_ORIG_SIDE = 37;
export const R_RESP_SIDE = 45;
/** unansweredSyn 1, simultaneousOpen 2, simultaneousClose 4, halfClose 8, midStream 16. */
export const R_FLAGS = 53;
export const R_TRUNCATED = 54;
/** Handshake RTT in ms, -1: none (null). */
export const R_RTT = 55;
/**
 * When, for the assembler of shards (./shard-merge.ts): the packet number at which the
 * row was made (packets + 1 at the end of the capture) and the phase within that packet.
 */
export const R_PACKET = 56;
export const R_PHASE = 57;
export const ROW = 58;

/** Rows a batch holds before it is handed on (./pipeline-worker.ts): big enough to amortise a message, small enough to keep both threads busy. */
export const BATCH_ROWS = 2048;

/**
 * Phases within one packet, in the order the analyzer goes through them: the sweep's
 * finished connections (in creation order), the sweep's release of TIME_WAIT records, a
 * connection finished by port reuse, a connection created.
 */
export const PHASE_SWEEP_FINISH = 0;
export const PHASE_SWEEP_RELEASE = 1;
export const PHASE_REUSE_FINISH = 2;
export const PHASE_CREATE = 3;

/** A batch of rows as the formatter reads it (a live `RecordRows` or one handed over from another thread). */
export interface RowBatch {
  readonly rows: Float64Array;
  /** Numbers in use in `rows` (count × ROW). */
  readonly used: number;
  readonly letters: Uint8Array;
  readonly resets: Float64Array;
}

/**
 * Shared memory for the batches of rows in flight from a worker to the thread that
 * formats them (./pipeline.ts): batch n is written in place into slot n % slots, and only
 * its slot number and size cross threads, with no copy and no new memory per batch. The
 * worker reuses a slot once the batch that used it before has been written out. A batch
 * too big for its slot (a long history or thousands of resets in it) goes as a copy.
 */
export interface RowPool {
  readonly rows: readonly SharedArrayBuffer[];
  readonly letters: readonly SharedArrayBuffer[];
  readonly resets: readonly SharedArrayBuffer[];
}

/** Rows a pool slot holds: a full batch and the few rows a packet can add after it fills up. */
const POOL_ROWS = BATCH_ROWS + 64;
const POOL_LETTERS = 1 << 17;
const POOL_RESETS = 3 * 4096;

/** Batches a worker may have posted that are not yet written out; it waits for the thread that writes them beyond that (memory stays bounded). */
export const BATCHES_AHEAD = 8;

/** The pool slot of batch number `n`: one more slot than batches ahead, for the batch being filled. */
export function poolSlot(n: number): number {
  return n % (BATCHES_AHEAD + 1);
}

export function newRowPool(): RowPool {
  const make = (octets: number): SharedArrayBuffer[] => Array.from({ length: BATCHES_AHEAD + 1 }, () => new SharedArrayBuffer(octets));
  return { rows: make(POOL_ROWS * ROW * 8), letters: make(POOL_LETTERS), resets: make(POOL_RESETS * 8) };
}

/** Slot `slot` of the pool holding `used` numbers of rows, as the formatter reads it. */
export function poolBatch(pool: RowPool, slot: number, used: number): RowBatch {
  return {
    rows: new Float64Array(pool.rows[slot] as SharedArrayBuffer),
    used,
    letters: new Uint8Array(pool.letters[slot] as SharedArrayBuffer),
    resets: new Float64Array(pool.resets[slot] as SharedArrayBuffer),
  };
}

/** Rows being written (reused: `clear` after the formatter has read them). */
export class RecordRows implements RowBatch {
  /** Private arrays, or a pool slot's shared ones (`writeInto`). */
  rows: Float64Array<ArrayBufferLike> = new Float64Array(ROW * 256);
  used = 0;
  letters: Uint8Array<ArrayBufferLike> = new Uint8Array(4096);
  private lettersUsed = 0;
  resets: Float64Array<ArrayBufferLike> = new Float64Array(96);
  private resetsUsed = 0;

  constructor() {
    // Its fields are written again later: mutable from now on (src/core/object-layout.ts).
    settleMutableFields(this);
  }

  /** Cleared, written from now on into slot `slot` of `pool` (until a batch outgrows it). */
  writeInto(pool: RowPool, slot: number): void {
    this.clear();
    this.rows = new Float64Array(pool.rows[slot] as SharedArrayBuffer);
    this.letters = new Uint8Array(pool.letters[slot] as SharedArrayBuffer);
    this.resets = new Float64Array(pool.resets[slot] as SharedArrayBuffer);
  }

  /** Whether every row so far is in slot `slot` of `pool` (none outgrew it). */
  isIn(pool: RowPool, slot: number): boolean {
    return this.rows.buffer === pool.rows[slot] && this.letters.buffer === pool.letters[slot] && this.resets.buffer === pool.resets[slot];
  }

  get count(): number {
    return this.used / ROW;
  }

  /**
   * A new row of `kind` made at packet `packet` in `phase` (its other columns hold old
   * values: the writer sets every one it uses); returns its offset.
   */
  add(kind: number, packet = 0, phase = 0): number {
    if (this.used + ROW > this.rows.length) {
      const next = new Float64Array(this.rows.length * 2);
      next.set(this.rows.subarray(0, this.used));
      this.rows = next;
    }
    const at = this.used;
    this.rows[at + R_KIND] = kind;
    this.rows[at + R_PACKET] = packet;
    this.rows[at + R_PHASE] = phase;
    this.used = at + ROW;
    return at;
  }

  /** Copies `length` letters; returns their offset in the letter area. */
  addLetters(from: Uint8Array, length: number): number {
    if (this.lettersUsed + length > this.letters.length) {
      const next = new Uint8Array(Math.max(this.letters.length * 2, this.lettersUsed + length));
      next.set(this.letters.subarray(0, this.lettersUsed));
      this.letters = next;
    }
    const at = this.lettersUsed;
    for (let i = 0; i < length; i++) this.letters[at + i] = from[i] as number;
    this.lettersUsed = at + length;
    return at;
  }

  /** Appends a reset triple; returns its offset in the reset area. */
  addReset(at: number, byResp: boolean, state: number): number {
    if (this.resetsUsed + 3 > this.resets.length) {
      const next = new Float64Array(this.resets.length * 2);
      next.set(this.resets.subarray(0, this.resetsUsed));
      this.resets = next;
    }
    const o = this.resetsUsed;
    this.resets[o] = at;
    this.resets[o + 1] = byResp ? 1 : 0;
    this.resets[o + 2] = state;
    this.resetsUsed = o + 3;
    return o;
  }

  /** The rows so far as a batch of its own (copies: for handing to another thread). */
  copy(): RowBatch {
    return {
      rows: this.rows.slice(0, this.used),
      used: this.used,
      letters: this.letters.slice(0, this.lettersUsed),
      resets: this.resets.slice(0, this.resetsUsed),
    };
  }

  clear(): void {
    this.used = 0;
    this.lettersUsed = 0;
    this.resetsUsed = 0;
  }
}
