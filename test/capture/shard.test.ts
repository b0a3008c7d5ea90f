/**
 * Capture analysis split over shards (src/capture/shard.ts, shard-merge.ts, parallel.ts):
 * the assembled NDJSON is byte for byte what one thread writes, whatever the number of
 * shards and wherever the shards cut their batches, including damaged files; and the
 * CLI's worker threads (`--threads`) give the same output, errors and exit codes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureAnalyzer } from '../../src/capture/analyzer.js';
import { ByteSink } from '../../src/capture/bytes-out.js';
import { CaptureReader, type PacketVisitor } from '../../src/capture/reader.js';
import { ShardOutput, type ShardBatch } from '../../src/capture/shard.js';
import { ShardMerger } from '../../src/capture/shard-merge.js';
import { runCli } from '../cli/run-cli.js';
import { manyConnections } from './helpers.js';

const dir = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'tcpstate-shard-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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

function oneThread(bytes: Uint8Array, idle?: number): string {
  const s = sink();
  const a = new CaptureAnalyzer({ ndjson: s.out, ...(idle !== undefined ? { idleTimeoutSec: idle } : {}) });
  feed(bytes, (p) => a.packet(p));
  a.end();
  return s.text();
}

/** A small deterministic generator (the cut points must be reproducible). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * `count` shards in this thread: each takes a batch at random packets, and the batches
 * reach the merger in a random interleaving (each shard's in its own order).
 */
function sharded(bytes: Uint8Array, count: number, seed: number, idle?: number): string {
  const s = sink();
  const rnd = random(seed);
  const outs = Array.from({ length: count }, (_, i) => new ShardOutput(i, count));
  const analyzers = outs.map((shard) => new CaptureAnalyzer({ shard, ...(idle !== undefined ? { idleTimeoutSec: idle } : {}) }));
  const queues: ShardBatch[][] = outs.map(() => []);
  feed(bytes, (p) => {
    for (let i = 0; i < count; i++) {
      const a = analyzers[i] as CaptureAnalyzer;
      a.packet(p);
      if (rnd() < 0.05) queues[i]?.push((outs[i] as ShardOutput).take(a.counters.packets + 1));
    }
  });
  for (let i = 0; i < count; i++) {
    (analyzers[i] as CaptureAnalyzer).end();
    queues[i]?.push((outs[i] as ShardOutput).take(Infinity));
  }
  const merger = new ShardMerger(count, s.out);
  for (;;) {
    const ready = queues.map((q, i) => (q.length > 0 ? i : -1)).filter((i) => i >= 0);
    if (ready.length === 0) break;
    const i = ready[Math.floor(rnd() * ready.length)] as number;
    merger.push(i, (queues[i] as ShardBatch[]).shift() as ShardBatch);
  }
  expect(merger.done).toBe(true);
  return s.text();
}

describe('shards assembled', () => {
  const files = readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f));
  for (const f of files) {
    it(`${f}: 1, 2, 3 and 5 shards give the one-thread lines`, () => {
      const bytes = readFileSync(dir + f);
      const want = oneThread(bytes);
      expect(want.length).toBeGreaterThan(0);
      for (const count of [1, 2, 3, 5]) expect(sharded(bytes, count, count * 7919)).toBe(want);
    });
  }

  it('many connections, TIME_WAIT waiting across sweeps, port reuse, idle expiry: the same lines in the same order', () => {
    const bytes = manyConnections();
    for (const idle of [undefined, 1]) {
      const want = oneThread(bytes, idle);
      expect(want.split('\n')).toHaveLength(401);
      for (let seed = 1; seed <= 6; seed++) expect(sharded(bytes, 1 + (seed % 4), seed, idle)).toBe(want);
    }
  });

  it('a file cut short: the lines of what was read', () => {
    const bytes = manyConnections();
    const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6) + 3);
    const want = oneThread(cut);
    expect(want.split('\n').length).toBeGreaterThan(100);
    expect(sharded(cut, 3, 42)).toBe(want);
  });
});

describe('capture --threads (worker threads)', () => {
  const file = join(tmp, 'many.pcap');
  writeFileSync(file, manyConnections());

  it('2 and 3 workers write what one thread writes', () => {
    const one = runCli(['capture', file, '--ndjson', '--threads', '1']);
    expect(one.code).toBe(0);
    expect(one.stdout.split('\n')).toHaveLength(401);
    for (const t of ['2', '3']) {
      const r = runCli(['capture', file, '--ndjson', '--threads', t]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(one.stdout);
    }
  });

  it('a damaged file: the same lines, then the same error naming the offset (exit 1)', () => {
    const bytes = readFileSync(file);
    const cut = join(tmp, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2) + 5));
    const one = runCli(['capture', cut, '--ndjson', '--threads', '1']);
    const two = runCli(['capture', cut, '--ndjson', '--threads', '2']);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/byte offset \d+ \(pcap record \d+\).*packets before it were analysed/);
    expect(two.code).toBe(one.code);
    expect(two.stderr).toBe(one.stderr);
    expect(two.stdout).toBe(one.stdout);
  });

  it('rejects a bad thread count and a missing file (exit 2)', () => {
    const bad = runCli(['capture', file, '--ndjson', '--threads', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--threads');
    const missing = runCli(['capture', join(tmp, 'nosuch.pcap'), '--ndjson', '--threads', '2']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nosuch.pcap');
  });
});
