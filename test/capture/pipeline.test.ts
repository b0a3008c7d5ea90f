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
import { manyConnections } from './helpers.js';

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
