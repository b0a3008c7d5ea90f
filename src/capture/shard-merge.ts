/**
 * The assembler of shard output (see ./shard.ts): replays the event rows of all shards in
 * the order the single-threaded analyzer produces them — by packet number, then phase,
 * then (for connections finished in the same sweep) by connection number — numbers the
 * connections in the order they were created across all shards, writes each record's
 * line (id, text, states), and keeps records with a side in TIME_WAIT waiting until a
 * sweep's capture time passes their deadline, as the single-threaded analyzer does.
 *
 * A row is replayed only once every shard has handed over all events of the packets
 * before it (`complete`): the order never depends on which thread ran ahead.
 */
import { asciiBytes, type ByteSink } from './bytes-out.js';
import { NEWLINE, stateOfCode, WaitingLines, writeStates } from './record-states.js';
import {
  EV_CREATE, EV_END, EV_RECORD, EV_SWEEP, PHASE_SWEEP_FINISH, R_CODES, R_END, R_HEAD_END, R_KIND, R_LOCAL, R_NOW, R_ORIG_DEADLINE,
  R_PACKET, R_PHASE, R_RESP_DEADLINE, R_START, ROW, type ShardBatch,
} from './shard.js';

const J_ID = asciiBytes('{"id":');

interface ShardQueue {
  readonly batches: ShardBatch[];
  /** Row offset in batches[0]. */
  at: number;
  /** Every event of packets before this number has arrived. */
  complete: number;
  /** Shard-local connection number → global id, for connections created and not yet finished. */
  readonly ids: Map<number, number>;
}

export class ShardMerger {
  private readonly shards: ShardQueue[] = [];
  private readonly out: ByteSink;
  private nextId = 1;
  /** Lines waiting for TIME_WAIT to end (copied out of their batch, so batches are let go once replayed). */
  private readonly waiting = new WaitingLines();

  constructor(shardCount: number, out: ByteSink) {
    for (let i = 0; i < shardCount; i++) this.shards.push({ batches: [], at: 0, complete: 0, ids: new Map() });
    this.out = out;
  }

  /** A batch from shard `index`; replays whatever can be replayed now. */
  push(index: number, batch: ShardBatch): void {
    const s = this.shards[index] as ShardQueue;
    if (batch.count > 0) s.batches.push(batch);
    s.complete = batch.complete;
    this.drain();
  }

  /** True when every shard's events have all arrived and been replayed. */
  get done(): boolean {
    return this.shards.every((s) => s.complete === Infinity && s.batches.length === 0);
  }

  private drain(): void {
    let horizon = Infinity;
    for (const s of this.shards) if (s.complete < horizon) horizon = s.complete;
    for (;;) {
      // The shard whose next row comes first (shards hold different connections, so ties
      // in packet and phase happen only among one sweep's finished connections).
      let best: ShardQueue | null = null;
      let bestPacket = 0;
      let bestPhase = 0;
      let bestOrder = 0;
      for (const s of this.shards) {
        const b = s.batches[0];
        if (b === undefined) continue;
        const r = b.rows;
        const packet = r[s.at + R_PACKET] as number;
        if (packet >= horizon) continue;
        const phase = r[s.at + R_PHASE] as number;
        const order = phase === PHASE_SWEEP_FINISH && r[s.at + R_KIND] === EV_RECORD ? (s.ids.get(r[s.at + R_LOCAL] as number) ?? 0) : 0;
        if (best === null || packet < bestPacket || (packet === bestPacket && (phase < bestPhase || (phase === bestPhase && order < bestOrder)))) {
          best = s;
          bestPacket = packet;
          bestPhase = phase;
          bestOrder = order;
        }
      }
      if (best === null) return;
      const b = best.batches[0] as ShardBatch;
      this.replay(best, b, best.at);
      best.at += ROW;
      if (best.at >= b.count * ROW) {
        best.batches.shift();
        best.at = 0;
      }
    }
  }

  private replay(s: ShardQueue, b: ShardBatch, at: number): void {
    const r = b.rows;
    switch (r[at + R_KIND]) {
      case EV_CREATE:
        s.ids.set(r[at + R_LOCAL] as number, this.nextId++);
        break;
      case EV_RECORD: {
        const local = r[at + R_LOCAL] as number;
        const id = s.ids.get(local) ?? 0;
        s.ids.delete(local);
        const o = r[at + R_ORIG_DEADLINE] as number;
        const rd = r[at + R_RESP_DEADLINE] as number;
        const codes = r[at + R_CODES] as number;
        const start = r[at + R_START] as number;
        const headEnd = r[at + R_HEAD_END] as number;
        const end = r[at + R_END] as number;
        if (o < 0 && rd < 0) {
          const out = this.out;
          out.ensure(32);
          out.field(J_ID, id);
          out.copy(b.text, start, headEnd);
          out.ensure(64);
          writeStates(out, stateOfCode(codes >> 4), stateOfCode(codes & 15));
          out.copy(b.text, headEnd, end);
          out.ensure(1);
          out.lit(NEWLINE);
        } else {
          const q = this.waiting.begin();
          q.ensure(32);
          q.field(J_ID, id);
          q.copy(b.text, start, headEnd);
          const headLength = q.n - q.mark;
          q.copy(b.text, headEnd, end);
          this.waiting.commit(headLength, o, rd, codes);
        }
        break;
      }
      case EV_SWEEP:
        this.waiting.release(this.out, r[at + R_NOW] as number, false);
        break;
      case EV_END:
        this.waiting.release(this.out, r[at + R_NOW] as number, true);
        break;
      default:
        throw new Error(`shard event of unknown kind ${String(r[at + R_KIND])}`);
    }
  }
}
