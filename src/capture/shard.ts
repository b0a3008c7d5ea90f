/**
 * Capture analysis split over threads: what one shard (a worker analysing the connections
 * whose 4-tuple hashes to it) hands to the thread that assembles the NDJSON output.
 *
 * Every shard reads and decodes every packet (so all of them see the same capture clock
 * and run their expiry sweeps at the same packets) but keeps only its own connections.
 * It does not write whole lines: for each finished connection it writes the record's
 * text without the id and without the final states, and an event row saying when
 * (packet number and phase), which connection (its shard-local creation number), the
 * TIME_WAIT deadlines and the states. The assembler (./shard-merge.ts) replays the
 * events of all shards in the single-threaded analyzer's order, numbers the connections
 * as that analyzer would, and runs the TIME_WAIT queue: the output is byte for byte
 * the single-threaded output.
 */
import { ByteSink } from './bytes-out.js';

/** Event kinds. */
export const EV_CREATE = 0;
export const EV_RECORD = 1;
/** An expiry sweep ran (shard 0 only): the assembler releases TIME_WAIT records due by then. */
export const EV_SWEEP = 2;
/** The capture is over (shard 0 only): every waiting record goes out. */
export const EV_END = 3;

/**
 * Phases within one packet, in the order the single-threaded analyzer goes through them:
 * the sweep's finished connections (in creation order), the sweep's release of TIME_WAIT
 * records, a connection finished by port reuse, a connection created. At the end of the
 * capture (packet number = packets + 1): every connection finished, then all released.
 */
export const PHASE_SWEEP_FINISH = 0;
export const PHASE_SWEEP_RELEASE = 1;
export const PHASE_REUSE_FINISH = 2;
export const PHASE_CREATE = 3;

/**
 * One event row: kind, packet number, phase, shard-local connection number, then for a
 * record: text start, end of the part before the states, text end, orig and resp
 * TIME_WAIT deadlines (-1: none), both state codes (orig × 16 + resp); for a sweep or the
 * end: the capture time in column 7.
 */
export const ROW = 10;
export const R_KIND = 0;
export const R_PACKET = 1;
export const R_PHASE = 2;
export const R_LOCAL = 3;
export const R_START = 4;
export const R_HEAD_END = 5;
export const R_END = 6;
export const R_ORIG_DEADLINE = 7;
export const R_RESP_DEADLINE = 8;
export const R_CODES = 9;
/** For EV_SWEEP and EV_END: the capture time (seconds). */
export const R_NOW = 7;

/** What a shard has produced since its last hand-over. */
export interface ShardBatch {
  readonly text: Uint8Array;
  readonly rows: Float64Array;
  /** Rows in use. */
  readonly count: number;
  /** Every event of packets before this number is in this batch or an earlier one. */
  readonly complete: number;
}

/** The shard's side: record text in a growing buffer, event rows in a growing array. */
export class ShardOutput {
  readonly index: number;
  readonly count: number;
  text = new ByteSink(1 << 20, 'grow');
  private rows = new Float64Array(ROW * 1024);
  private used = 0;

  constructor(index: number, count: number) {
    this.index = index;
    this.count = count;
  }

  /** Octets of text plus rows waiting: the caller hands a batch over when this grows large. */
  get size(): number {
    return this.text.n + this.used * 8;
  }

  /** Appends a row; returns its index (the caller fills the columns). */
  row(kind: number, packet: number, phase: number, local: number): number {
    if (this.used + ROW > this.rows.length) {
      const next = new Float64Array(this.rows.length * 2);
      next.set(this.rows);
      this.rows = next;
    }
    const at = this.used;
    const r = this.rows;
    r[at + R_KIND] = kind;
    r[at + R_PACKET] = packet;
    r[at + R_PHASE] = phase;
    r[at + R_LOCAL] = local;
    this.used = at + ROW;
    return at;
  }

  set(at: number, column: number, value: number): void {
    this.rows[at + column] = value;
  }

  /** Everything so far as a batch (its buffers are new and can be transferred); starts afresh. */
  take(complete: number): ShardBatch {
    const batch: ShardBatch = { text: this.text.take(), rows: this.rows.slice(0, this.used), count: this.used / ROW, complete };
    this.used = 0;
    return batch;
  }
}
