/**
 * `capture FILE --ndjson --threads N` (src/capture/pipeline.ts): the analysis on worker
 * threads (with 3 or more, the connections split over them), the lines written by the
 * main thread; the output, errors and exit codes are those of one thread, byte for byte.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { exchange, type CraftedPacket, type Step } from './craft.js';
import { manyConnections, rawPcap } from './helpers.js';

const dir = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'tcpstate-pipeline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('capture --ndjson --threads 2 and 3', () => {
  const many = join(tmp, 'many.pcap');
  writeFileSync(many, manyConnections());
  const files = [...readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => dir + f), many];

  for (const file of files) {
    it(`${file.split('/').at(-1) as string}: the lines of one thread`, () => {
      const one = runCli(['capture', file, '--ndjson', '--threads', '1']);
      expect(one.code).toBe(0);
      expect(one.stdout.length).toBeGreaterThan(0);
      for (const t of ['2', '3']) {
        const r = runCli(['capture', file, '--ndjson', '--threads', t]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(one.stdout);
      }
    });
  }

  it('many connections: TIME_WAIT records released by sweeps and at the end, in order', () => {
    const one = runCli(['capture', many, '--ndjson', '--threads', '1', '--idle-timeout', '1']);
    expect(one.stdout.split('\n')).toHaveLength(401);
    expect(one.stdout).toContain('"states":{"orig":"TIME_WAIT"');
    for (const t of ['2', '4']) expect(runCli(['capture', many, '--ndjson', '--threads', t, '--idle-timeout', '1']).stdout).toBe(one.stdout);
  });

  it('more batches of rows than the shared pool has slots: each slot reused only once its batch is written', () => {
    // 25,000 refused connections (SYN, RST) over 25 s: at least 13 batches of 2,048 rows
    // through a pool of 9 slots, and more as the worker posts what it has whenever it waits.
    const packets: CraftedPacket[] = [];
    for (let i = 0; i < 25_000; i++) {
      const client: [string, number] = [`10.3.${(i >> 8) & 255}.${i & 255}`, 30_000 + (i % 7)];
      const steps: Step[] = [
        ['>', 'S', i * 1000, 0],
        ['<', 'R.', 0, i * 1000 + 1],
      ];
      packets.push(...exchange(client, ['10.9.0.2', 80], steps, 1_700_000_000 + i * 0.001));
    }
    const file = join(tmp, 'refused.pcap');
    writeFileSync(file, rawPcap(packets));
    const one = runCli(['capture', file, '--ndjson', '--threads', '1']);
    expect(one.stdout.split('\n')).toHaveLength(25_001);
    const two = runCli(['capture', file, '--ndjson', '--threads', '2']);
    expect(two.stderr).toBe('');
    expect(two.stdout).toBe(one.stdout);
  });

  it('a batch too big for its pool slot (5,000 resets in one connection) comes as a copy', () => {
    const steps: Step[] = [
      ['>', 'S', 100, 0],
      ['<', 'S.', 900, 101],
      ['>', '.', 101, 901],
    ];
    for (let i = 0; i < 5000; i++) steps.push(['<', 'R', 901, 0]);
    const file = join(tmp, 'resets.pcap');
    writeFileSync(file, rawPcap(exchange(['10.4.0.1', 40_000], ['10.9.0.3', 443], steps)));
    const one = runCli(['capture', file, '--ndjson', '--threads', '1']);
    const record = JSON.parse(one.stdout) as { anomalies: { resets: unknown[] } };
    expect(record.anomalies.resets).toHaveLength(5000);
    const two = runCli(['capture', file, '--ndjson', '--threads', '2']);
    expect(two.stderr).toBe('');
    expect(two.stdout).toBe(one.stdout);
  });

  it('a damaged file: the same lines, then the same error naming the offset (exit 1)', () => {
    const cut = join(tmp, 'cut.pcap');
    const bytes = readFileSync(many);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2) + 5));
    const one = runCli(['capture', cut, '--ndjson', '--threads', '1']);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/byte offset \d+ \(pcap record \d+\).*the \d+ packets before it were analysed/);
    for (const t of ['2', '3']) {
      const r = runCli(['capture', cut, '--ndjson', '--threads', t]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(one.stderr);
      expect(r.stdout).toBe(one.stdout);
    }
  });

  it('rejects another thread count, a missing file and a directory (exit 2)', () => {
    for (const t of ['0', '10', 'two']) {
      const bad = runCli(['capture', many, '--ndjson', '--threads', t]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--threads');
    }
    const missing = runCli(['capture', join(tmp, 'nosuch.pcap'), '--ndjson', '--threads', '2']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nosuch.pcap');
    for (const t of ['1', '2']) {
      const directory = runCli(['capture', tmp, '--ndjson', '--threads', t]);
      expect(directory.code).toBe(2);
      expect(directory.stderr).toContain(`"${tmp}" for FILE: expected a pcap or pcapng file, not a directory`);
    }
  });
});
