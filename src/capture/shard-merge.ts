/**
 * The assembler of shards' rows (`CaptureAnalyzer` with `shard`): replays the rows of all
 * shards in the order one analyzer makes them — by packet number, then phase, then (for
 * connections finished in the same sweep) by connection number — numbers the connections
 * in the order they were created across all shards, and hands each row to the formatter.
 *
 * A row is replayed only once every shard has handed over all rows of the packets before
 * it (`complete`): the order never depends on which thread ran ahead. The slowest shard's
 * rows are always below that horizon, so a shard waiting for its rows to be replayed
 * never waits on another one.
 */
import { PHASE_SWEEP_FINISH, R_ID, R_KIND, R_PACKET, R_PHASE, ROW, ROW_CREATE, ROW_RECORD, type RowBatch } from './record-row.js';
import type { RowFormatter } from './row-json.js';

interface ShardQueue {
  readonly batches: RowBatch[];
  /** Row offset in batches[0]. */
  at: number;
  /** Every row of packets before this number has arrived. */
  complete: number;
  /** Batches wholly replayed. */
  replayed: number;
  /** Shard-local connection number → global number, for connections created and not yet finished. */
  readonly ids: Map<number, number>;
}

export class ShardMerger {
  private readonly shards: ShardQueue[] = [];
  private readonly formatter: RowFormatter;
  private nextId = 1;

  constructor(shardCount: number, formatter: RowFormatter) {
    for (let i = 0; i < shardCount; i++) this.shards.push({ batches: [], at: 0, complete: 0, replayed: 0, ids: new Map() });
    this.formatter = formatter;
  }

  /** A batch from shard `index` with its horizon; replays whatever can be replayed now. */
  push(index: number, batch: RowBatch, complete: number): void {
    const s = this.shards[index] as ShardQueue;
    s.batches.push(batch);
    s.complete = complete;
    this.drain();
  }

  /** Batches of shard `index` wholly replayed so far. */
  replayed(index: number): number {
    return (this.shards[index] as ShardQueue).replayed;
  }

  /** True when every shard's rows have all arrived and been replayed. */
  get done(): boolean {
    return this.shards.every((s) => s.complete === Infinity && s.batches.length === 0);
  }

  private drain(): void {
    let horizon = Infinity;
    for (const s of this.shards) if (s.complete < horizon) horizon = s.complete;
    for (;;) {
      let best: ShardQueue | null = null;
      let bestPacket = 0;
      let bestPhase = 0;
      let bestOrder = 0;
      for (const s of this.shards) {
        while (s.batches.length > 0 && s.at >= (s.batches[0] as RowBatch).used) {
          s.batches.shift();
          s.at = 0;
          s.replayed++;
        }
        const b = s.batches[0];
        if (b === undefined) continue;
        const r = b.rows;
        const packet = r[s.at + R_PACKET] as number;
        if (packet >= horizon) continue;
        const phase = r[s.at + R_PHASE] as number;
        // Shards hold different connections: ties in packet and phase happen only among one sweep's finished connections.
        const order = phase === PHASE_SWEEP_FINISH && r[s.at + R_KIND] === ROW_RECORD ? (s.ids.get(r[s.at + R_ID] as number) ?? 0) : 0;
        if (best === null || packet < bestPacket || (packet === bestPacket && (phase < bestPhase || (phase === bestPhase && order < bestOrder)))) {
          best = s;
          bestPacket = packet;
          bestPhase = phase;
          bestOrder = order;
        }
      }
      if (best === null) return;
      const b = best.batches[0] as RowBatch;
      const at = best.at;
      best.at += ROW;
      const kind = b.rows[at + R_KIND];
      if (kind === ROW_CREATE) {
        best.ids.set(b.rows[at + R_ID] as number, this.nextId++);
        continue;
      }
      if (kind === ROW_RECORD) {
        const local = b.rows[at + R_ID] as number;
        b.rows[at + R_ID] = best.ids.get(local) ?? 0;
        best.ids.delete(local);
      }
      this.formatter.row(b, at);
    }
  }
}
