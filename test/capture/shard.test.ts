/**
 * Connections split over shards (`CaptureAnalyzer` with `shard`, src/capture/shard-merge.ts):
 * the assembled NDJSON is byte for byte what one analyzer writes, whatever the number of
 * shards, wherever the shards cut their batches and in whatever order the batches arrive,
 * damaged files included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureAnalyzer } from '../../src/capture/analyzer.js';
import { ByteSink } from '../../src/capture/bytes-out.js';
import { CaptureReader, type PacketVisitor } from '../../src/capture/reader.js';
import { RecordRows, type RowBatch } from '../../src/capture/record-row.js';
import { RowFormatter } from '../../src/capture/row-json.js';
import { ShardMerger } from '../../src/capture/shard-merge.js';
import { rng } from '../helpers/rng.js';
import { manyConnections } from './helpers.js';

const dir = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));

function sink(): { out: ByteSink; text: () => string } {
  const parts: string[] = [];
  const out = new ByteSink(4096, (b, n) => parts.push(Buffer.from(b.subarray(0, n)).toString('latin1')));
  return { out, text: () => (out.flush(), parts.join('')) };
}

function feed(bytes: Uint8Array, visit: PacketVisitor): void {
  const reader = new CaptureReader(visit);
  try {
    reader.push(bytes);
    reader.finish();
  } catch {
    // damaged input: what was read counts, as on the command line
  }
}

function oneAnalyzer(bytes: Uint8Array, idle?: number): string {
  const s = sink();
  const a = new CaptureAnalyzer({ ndjson: s.out, ...(idle !== undefined ? { idleTimeoutSec: idle } : {}) });
  feed(bytes, (p) => a.packet(p));
  a.end();
  return s.text();
}

/**
 * `count` shards in this thread, batches cut at random packets (each packet with chance
 * `cut`: rarely, and the row arrays grow), reaching the merger in a random interleaving.
 */
function sharded(bytes: Uint8Array, count: number, seed: number, idle?: number, cut = 0.05): string {
  const s = sink();
  const rnd = rng(seed); // reproducible cut points
  const rows = Array.from({ length: count }, () => new RecordRows());
  const analyzers = rows.map((r, index) => new CaptureAnalyzer({ rows: r, shard: { index, count }, ...(idle !== undefined ? { idleTimeoutSec: idle } : {}) }));
  const queues: { batch: RowBatch; complete: number }[][] = rows.map(() => []);
  const take = (i: number, complete: number): void => {
    const r = rows[i] as RecordRows;
    queues[i]?.push({ batch: r.copy(), complete });
    r.clear();
  };
  feed(bytes, (p) => {
    for (let i = 0; i < count; i++) {
      const a = analyzers[i] as CaptureAnalyzer;
      a.packet(p);
      if (rnd() < cut) take(i, a.counters.packets + 1);
    }
  });
  for (let i = 0; i < count; i++) {
    (analyzers[i] as CaptureAnalyzer).end();
    take(i, Infinity);
  }
  const merger = new ShardMerger(count, new RowFormatter(s.out));
  for (;;) {
    const ready = queues.map((q, i) => (q.length > 0 ? i : -1)).filter((i) => i >= 0);
    if (ready.length === 0) break;
    const i = ready[Math.floor(rnd() * ready.length)] as number;
    const next = (queues[i] as { batch: RowBatch; complete: number }[]).shift() as { batch: RowBatch; complete: number };
    merger.push(i, next.batch, next.complete);
  }
  expect(merger.done).toBe(true);
  return s.text();
}

describe('shards assembled', () => {
  const files = readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f));
  for (const f of files) {
    it(`${f}: 2, 3 and 5 shards give one analyzer's lines`, () => {
      const bytes = readFileSync(dir + f);
      const want = oneAnalyzer(bytes);
      expect(want.length).toBeGreaterThan(0);
      for (const count of [2, 3, 5]) expect(sharded(bytes, count, count * 7919)).toBe(want);
    });
  }

  it('many connections, TIME_WAIT waiting across sweeps, port reuse, idle expiry: the same lines in the same order', () => {
    const bytes = manyConnections();
    for (const idle of [undefined, 1]) {
      const want = oneAnalyzer(bytes, idle);
      expect(want.split('\n')).toHaveLength(401);
      for (let seed = 1; seed <= 6; seed++) expect(sharded(bytes, 2 + (seed % 3), seed, idle, seed % 2 === 0 ? 0.05 : 0.0005)).toBe(want);
    }
  });

  it('a file cut short: the lines of what was read', () => {
    const bytes = manyConnections();
    const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6) + 3);
    const want = oneAnalyzer(cut);
    expect(want.split('\n').length).toBeGreaterThan(100);
    expect(sharded(cut, 3, 42)).toBe(want);
  });
});
