/**
 * The flow table under load: thousands of connections open at once (the table grows
 * twice), packets interleaved at random, connections closing and leaving the table in
 * random order while others stay, tuples used again after their connection left. Every
 * packet must reach its own connection: the records, counted per 4-tuple, must be the
 * connections and packets that were generated. And the list of live connections that
 * the expiry sweep scans, which keeps creation order and has holes where connections
 * left between sweeps, closed up when they outnumber the live ones.
 */
import { describe, expect, it } from 'vitest';
import { CaptureAnalyzer } from '../../src/capture/analyzer.js';
import type { ConnectionRecord } from '../../src/capture/connection.js';
import { CaptureReader } from '../../src/capture/reader.js';
import { exchange, type CraftedPacket, type Step } from './craft.js';
import { rawPcap } from './helpers.js';
import { rng } from '../helpers/rng.js';

describe('flow table', () => {
  it('keeps 12,000 interleaved connections apart while they come and go, and finds reused tuples again', () => {
    const r = rng(7);
    const packets: CraftedPacket[] = [];
    /** Per tuple key: connections and packets each way that were generated. */
    const want = new Map<string, { conns: number; orig: number; resp: number }>();
    const TUPLES = 9000;
    for (let i = 0; i < 12_000; i++) {
      // Tuples 0..8,999 once; 3,000 of them again, 60 s later (after the first left the table).
      const tuple = i < TUPLES ? i : (i - TUPLES) * 3;
      const client: [string, number] = [`10.${(tuple >> 16) & 255}.${(tuple >> 8) & 255}.${tuple & 255}`, 1024 + (tuple % 50_000)];
      const server: [string, number] = ['192.168.7.1', 443];
      const a = Math.floor(r() * 2 ** 32);
      const b = Math.floor(r() * 2 ** 32);
      const gap = (): number => 0.001 + r() * 2;
      const data = 1 + Math.floor(r() * 900);
      const steps: Step[] = [
        ['>', 'S', a, 0, 0, gap()],
        ['<', 'S.', b, a + 1, 0, gap()],
        ['>', '.', a + 1, b + 1, 0, gap()],
        ['>', 'P.', a + 1, b + 1, data, gap()],
        ...(r() < 0.2
          ? ([['<', 'R.', b + 1, a + 1 + data, 0, gap()]] as Step[])
          : ([
              ['<', 'F.', b + 1, a + 1 + data, 0, gap()],
              ['>', 'F.', a + 1 + data, b + 2, 0, gap()],
              ['<', '.', b + 2, a + 2 + data, 0, gap()],
            ] as Step[])),
      ];
      const t0 = 1_700_000_000 + (i < TUPLES ? r() * 3 : 60 + r() * 20);
      const key = `${client[0]}:${client[1]}`;
      const w = want.get(key) ?? { conns: 0, orig: 0, resp: 0 };
      w.conns++;
      for (const s of steps) {
        if (s[0] === '>') w.orig++;
        else w.resp++;
      }
      want.set(key, w);
      packets.push(...exchange(client, server, steps.map((s) => [s[0], s[1], s[2] >>> 0, s[3] >>> 0, s[4], s[5]] as Step), t0));
    }
    packets.sort((x, y) => x.t - y.t);

    const records: ConnectionRecord[] = [];
    let peak = 0;
    const analyzer = new CaptureAnalyzer({ closedLingerSec: 1, onConnection: (rec) => records.push(rec) });
    const reader = new CaptureReader((p) => {
      analyzer.packet(p);
      peak = Math.max(peak, analyzer.liveConnections);
    });
    reader.push(rawPcap(packets));
    reader.finish();
    analyzer.end();

    expect(peak).toBeGreaterThan(8192); // more than the table's first size: it grew while full of others
    const got = new Map<string, { conns: number; orig: number; resp: number }>();
    for (const rec of records) {
      const key = `${rec.originator.address}:${rec.originator.port}`;
      const g = got.get(key) ?? { conns: 0, orig: 0, resp: 0 };
      g.conns++;
      g.orig += rec.packets.orig;
      g.resp += rec.packets.resp;
      got.set(key, g);
      expect(rec.originatorInferred, key).toBe(false);
    }
    expect(records.length).toBe(12_000);
    expect(got).toEqual(want);
  });

  it('keeps connections alive across a burst of port reuse between sweeps, and finishes them in creation order', () => {
    // 9,000 connections on 3,000 tuples within 3 s (each tuple reset and used again twice):
    // 6,000 leave by port reuse between two sweeps (every 5 s of capture time here), more
    // than the live ones, so the live list is closed up outside a sweep. Meanwhile 300
    // connections send a packet every 0.5 s for 40 s: with an idle timeout of 20 s, a live
    // list entry that lost track of its connection would have it expired and split.
    const r = rng(11);
    const packets: CraftedPacket[] = [];
    const server: [string, number] = ['192.168.7.1', 443];
    const TUPLES = 3000;
    for (let use = 0; use < 3; use++) {
      for (let tuple = 0; tuple < TUPLES; tuple++) {
        const client: [string, number] = [`10.1.${tuple >> 8}.${tuple & 255}`, 2000 + tuple];
        const a = Math.floor(r() * 2 ** 32);
        const b = Math.floor(r() * 2 ** 32);
        const t0 = 1_700_000_000 + use + (tuple / TUPLES) * 0.9;
        const steps: Step[] = [
          ['>', 'S', a, 0, 0, 0.0001],
          ['<', 'S.', b, (a + 1) >>> 0, 0, 0.0001],
          ['>', 'R.', (a + 1) >>> 0, (b + 1) >>> 0, 0, 0.0001],
        ];
        packets.push(...exchange(client, server, steps, t0));
      }
    }
    const LONG = 300;
    const longKeys = new Set<string>();
    for (let k = 0; k < LONG; k++) {
      const client: [string, number] = [`10.2.${k >> 8}.${k & 255}`, 40_000 + k];
      longKeys.add(`${client[0]}:${client[1]}`);
      const a = Math.floor(r() * 2 ** 32);
      const b = Math.floor(r() * 2 ** 32);
      const steps: Step[] = [
        ['>', 'S', a, 0, 0, 0.001],
        ['<', 'S.', b, (a + 1) >>> 0, 0, 0.001],
      ];
      for (let i = 0; i < 80; i++) steps.push(['>', '.', (a + 1) >>> 0, (b + 1) >>> 0, 0, 0.5]);
      packets.push(...exchange(client, server, steps, 1_700_000_000 + k / LONG));
    }
    packets.sort((x, y) => x.t - y.t);

    const records: ConnectionRecord[] = [];
    const analyzer = new CaptureAnalyzer({ idleTimeoutSec: 20, closedLingerSec: 20, onConnection: (rec) => records.push(rec) });
    const reader = new CaptureReader((p) => analyzer.packet(p));
    reader.push(rawPcap(packets));
    reader.finish();
    analyzer.end();

    expect(records.length).toBe(3 * TUPLES + LONG);
    const long = records.filter((rec) => longKeys.has(`${rec.originator.address}:${rec.originator.port}`));
    expect(long.length).toBe(LONG);
    for (const rec of long) expect(rec.packets).toEqual({ orig: 81, resp: 1 });
    // Those finished together at the end come in creation (id) order.
    const ids = long.map((rec) => rec.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    // Each tuple's three connections: the first two finished by reuse, in the order they were made.
    const reused = records.filter((rec) => rec.responder.port === 443 && rec.originator.address.startsWith('10.1.'));
    expect(reused.length).toBe(3 * TUPLES);
  });
});
