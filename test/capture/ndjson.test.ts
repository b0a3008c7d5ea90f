/**
 * The direct NDJSON path (`capture --ndjson`: lines written from the connections into a
 * byte buffer, TIME_WAIT records kept as text until they go) gives exactly the lines the record path
 * gives (`recordToJson` of each record, in the same order), and reused connection objects
 * start as fresh ones.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureAnalyzer } from '../../src/capture/analyzer.js';
import { asciiBytes, ByteSink } from '../../src/capture/bytes-out.js';
import { Connection, recordToJson } from '../../src/capture/connection.js';
import { DecodedSegment } from '../../src/capture/decoder.js';
import { CaptureReader } from '../../src/capture/reader.js';
import { LINUX_PROFILE } from '../../src/core/profile.js';
import { exchange, type CraftedPacket, type Step } from './craft.js';
import { closedExchange, manyConnections, rawPcap } from './helpers.js';

const dir = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));

function run(bytes: Uint8Array, direct: boolean, idle?: number): string {
  let text = '';
  const sink = new ByteSink(4096, (b, n) => {
    text += Buffer.from(b.subarray(0, n)).toString('latin1');
  });
  const analyzer = new CaptureAnalyzer({
    ...(idle !== undefined ? { idleTimeoutSec: idle } : {}),
    ...(direct ? { ndjson: sink } : { onConnection: (r) => (text += recordToJson(r) + '\n') }),
  });
  const reader = new CaptureReader((p) => analyzer.packet(p));
  try {
    reader.push(bytes);
    reader.finish();
  } catch {
    // damaged fixtures: what was read is compared
  }
  analyzer.end();
  sink.flush();
  return text;
}

describe('direct NDJSON', () => {
  const files = readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f));
  for (const f of files) {
    it(`${f}: the same lines as recordToJson of the records`, () => {
      const bytes = readFileSync(dir + f);
      const want = run(bytes, false);
      expect(want.length).toBeGreaterThan(0);
      expect(run(bytes, true)).toBe(want);
      expect(run(bytes, true, 1)).toBe(run(bytes, false, 1));
    });
  }

  it('many connections, TIME_WAIT ending before and after the capture, port reuse: the same lines in the same order', () => {
    const bytes = manyConnections();
    const want = run(bytes, false);
    expect(want.split('\n')).toHaveLength(401);
    expect(want).toContain('"states":{"orig":"TIME_WAIT"');
    expect(want).toMatch(/"states":\{"orig":"CLOSED","resp":"CLOSED"\},"zeek":\{"connState":"SF"/);
    expect(run(bytes, true)).toBe(want);
  });

  it('lines that waited for TIME_WAIT go out in a few large writes, not one per line', () => {
    const bytes = manyConnections();
    let writes = 0;
    let text = '';
    const sink = new ByteSink(1 << 20, (b, n) => {
      writes++;
      text += Buffer.from(b.subarray(0, n)).toString('latin1');
    });
    const analyzer = new CaptureAnalyzer({ ndjson: sink });
    const reader = new CaptureReader((p) => analyzer.packet(p));
    reader.push(bytes);
    reader.finish();
    analyzer.end();
    sink.flush();
    expect(text).toBe(run(bytes, false));
    // Hundreds of lines still in TIME_WAIT at the end get their states put back: still one write.
    expect(text.match(/"TIME_WAIT"/g)?.length ?? 0).toBeGreaterThan(100);
    expect(writes).toBeLessThanOrEqual(2);
  });

  it('numbers are written as JSON.stringify writes them', () => {
    let text = '';
    const sink = new ByteSink(64, (b, n) => {
      text += Buffer.from(b.subarray(0, n)).toString('latin1') + '|';
    });
    const xs = [0, 7, 10, 65535, 4294967295, 4294967296, 1700000000.008291, 1700000000.1, 0.000001, 1e-7, 0.1 + 0.2, -1.5, 1 / 3, 99999.999999, 2 ** 31 + 0.25];
    for (const x of xs) {
      text = '';
      sink.ensure(32);
      sink.num(x);
      sink.flush();
      expect(text).toBe(`${JSON.stringify(x)}|`);
    }
  });

  it('kept output keeps lines whole across chunks, sends exactly what sendTo says and shows what it keeps', () => {
    let text = '';
    const q = new ByteSink(100, (b, n) => (text += Buffer.from(b.subarray(0, n)).toString('latin1')), true);
    const pieces = ['a'.repeat(30), 'b'.repeat(90), 'c'.repeat(250), 'd'.repeat(10), 'e'.repeat(70)];
    const at: [number, number][] = [];
    for (const s of pieces) {
      q.begin();
      q.ensure(s.length);
      q.lit(asciiBytes(s.slice(0, 5)));
      q.ensure(s.length);
      q.ascii(s.slice(5));
      at.push([q.chunkSeq, q.mark]);
    }
    // Lines moved to new chunks when they did not fit: none spans two.
    expect(new Set(at.map(([seq]) => seq)).size).toBeGreaterThan(2);
    expect(text).toBe('');
    const [seq2, start2] = at[2] as [number, number];
    q.sendTo(seq2, start2);
    expect(text).toBe(pieces[0]! + pieces[1]!);
    // What is kept, line by line, from each line's chunk: up to the next line in that chunk, or the chunk's end.
    const kept = at.slice(2).map(([seq, start], i, rest) => {
      const next = rest[i + 1];
      const end = next !== undefined && next[0] === seq ? next[1] : q.chunkLength(seq);
      return Buffer.from(q.chunkOf(seq).subarray(start, end)).toString('latin1');
    });
    expect(kept).toEqual(pieces.slice(2));
    const [seq3, start3] = at[3] as [number, number];
    q.sendTo(seq3, start3 + 2);
    expect(text).toBe(pieces[0]! + pieces[1]! + pieces[2]! + 'dd');
    q.sendTo(q.chunkSeq, q.n);
    expect(text).toBe(pieces[0]! + pieces[1]! + pieces[2]! + pieces[3]! + pieces[4]!);
    expect(() => q.flush()).toThrow(/kept/);
    // Everything sent: the next line starts the chunk again.
    q.begin();
    expect(q.mark).toBe(0);
    // Dropped (the caller passed it on itself): nothing more is sent, the next line starts the chunk again.
    const seq = q.chunkSeq;
    q.ensure(10);
    q.ascii('f'.repeat(10));
    q.dropKept();
    q.sendTo(q.chunkSeq, q.n);
    expect(text).toBe(pieces.join(''));
    expect([q.chunkSeq, q.n, q.mark]).toEqual([seq, 0, 0]);
  });

  it('anomalies written in one piece or counter by counter: the same lines as the record path', () => {
    // A half-close with no anomaly counted (one piece, a flag set), a retransmission (the
    // counters one by one), a reset (the resets list), and a clean close (one piece, no flag).
    const steps: Step[][] = [
      [['>', 'S', 100, 0], ['<', 'S.', 900, 101], ['>', '.', 101, 901], ['>', 'F.', 101, 901], ['<', 'P.', 901, 102, 50], ['>', '.', 102, 951], ['<', 'F.', 951, 102], ['>', '.', 102, 952]],
      [['>', 'S', 100, 0], ['<', 'S.', 900, 101], ['>', '.', 101, 901], ['>', 'P.', 101, 901, 10], ['>', 'P.', 101, 901, 10], ['<', '.', 901, 111]],
      [['>', 'S', 100, 0], ['<', 'S.', 900, 101], ['>', '.', 101, 901], ['<', 'R.', 901, 101]],
      [['>', 'S', 100, 0], ['<', 'S.', 900, 101], ['>', '.', 101, 901], ['<', 'F.', 901, 101], ['>', 'F.', 101, 902], ['<', '.', 902, 102]],
    ];
    const packets = steps.flatMap((s, i) => exchange([`10.8.0.${i + 1}`, 40_000 + i], ['10.9.0.6', 80], s, 1_700_000_000 + i));
    const bytes = rawPcap(packets);
    const want = run(bytes, false);
    const lines = want.trim().split('\n').map((l) => JSON.parse(l) as { id: number; anomalies: { halfClose: boolean; resets: unknown[]; orig: { retransmissions: number } } });
    // In the order of the connections (a line that waits for a TIME_WAIT comes later).
    lines.sort((a, b) => a.id - b.id);
    expect(lines.map((l) => [l.anomalies.halfClose, l.anomalies.orig.retransmissions, l.anomalies.resets.length])).toEqual([
      [true, 0, 0],
      [false, 1, 0],
      [false, 0, 1],
      [false, 0, 0],
    ]);
    expect(run(bytes, true)).toBe(want);
  });

  it('thousands of lines still in TIME_WAIT at the end, over several chunks: the same lines as the record path', () => {
    // 3,000 connections closed by the client in the last 30 s of the capture: every line
    // waits (nearly 3 MB: three chunks of 1 MB) and gets its TIME_WAIT back at the end.
    const packets: CraftedPacket[] = [];
    for (let i = 0; i < 3000; i++) {
      const a = 1000 + i * 10_000;
      const b = 900_000_000 + i * 10_000;
      packets.push(...exchange([`10.7.${i >> 8}.${i & 255}`, 30_000 + i], ['10.9.0.5', 443], closedExchange(a, b), 1_700_000_000 + i * 0.01));
    }
    packets.sort((x, y) => x.t - y.t);
    const bytes = rawPcap(packets);
    const want = run(bytes, false);
    expect(want.match(/"states":\{"orig":"TIME_WAIT","resp":"CLOSED"\}/g)).toHaveLength(3000);
    expect(want.length).toBeGreaterThan(2 << 20);
    expect(run(bytes, true)).toBe(want);
  });

  it('pass: a short piece is copied in after what is written, a long one goes to the target after it', () => {
    const parts: string[] = [];
    const out = new ByteSink(64, (b, n) => parts.push(Buffer.from(b.subarray(0, n)).toString('latin1')));
    out.ensure(8);
    out.ascii('first');
    out.pass(asciiBytes('second').bytes, 6);
    const long = 'x'.repeat(1 << 16);
    out.pass(asciiBytes(long).bytes, long.length);
    out.ensure(8);
    out.ascii('third');
    out.flush();
    expect(parts).toEqual(['firstsecond', long, 'third']);
  });
});

/** A decoded segment with these numbers (the decoder's argument order of old). */
function segment(flags: number, seq: number, ack: number, win: number, len: number, wscale: number, wireLen: number, ipLen: number, time: number, truncated: boolean): DecodedSegment {
  return Object.assign(new DecodedSegment(), { flags, seq, ack, win, len, wscale, wireLen, ipLen, time, truncated });
}

describe('connection objects reused', () => {
  it('a reused connection is equal to a new one', () => {
    const o = new Uint32Array([0x0a000001, 0, 0, 0]);
    const r = new Uint32Array([0x0a000002, 0, 0, 0]);
    const opts = { originatorInferred: false, zeekFlipped: false, timeline: true, log: false };
    const used = new Connection(1, 'ipv4', o, 1000, r, 80, 10, LINUX_PROFILE, opts);
    used.packet(true, segment(0x02, 100, 0, 1000, 0, 7, 60, 40, 10, false));
    used.packet(false, segment(0x12, 900, 101, 1000, 0, 7, 60, 40, 10.001, false));
    used.packet(true, segment(0x10, 101, 901, 1000, 0, -1, 54, 40, 10.002, false));
    used.packet(true, segment(0x18, 101, 901, 1000, 50, -1, 104, 90, 10.003, true));
    used.packet(false, segment(0x14, 901, 151, 0, 0, -1, 54, 40, 10.004, false));
    used.advance(11);
    used.finalized = true;
    used.liveIndex = 3;
    used.reuse(2, 'ipv4', r, 80, o, 1000, 20, true, true, true, false);
    const fresh = new Connection(2, 'ipv4', r, 80, o, 1000, 20, LINUX_PROFILE, { originatorInferred: true, zeekFlipped: true, timeline: true, log: false });
    expect(used).toEqual(fresh);
    expect(used.observer).toEqual(fresh.observer);
    expect(used.zeek).toEqual(fresh.zeek);
  });
});
