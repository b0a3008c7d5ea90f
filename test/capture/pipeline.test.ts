/**
 * `capture FILE --ndjson --threads 2` (src/capture/pipeline.ts): the analysis on a worker
 * thread, the lines written here; the output, errors and exit codes are those of one
 * thread, byte for byte.
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

describe('capture --ndjson --threads 2', () => {
  const many = join(tmp, 'many.pcap');
  writeFileSync(many, manyConnections());
  const files = [...readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => dir + f), many];

  for (const file of files) {
    it(`${file.split('/').at(-1) as string}: the lines of one thread`, () => {
      const one = runCli(['capture', file, '--ndjson', '--threads', '1']);
      const two = runCli(['capture', file, '--ndjson', '--threads', '2']);
      expect(one.code).toBe(0);
      expect(one.stdout.length).toBeGreaterThan(0);
      expect(two.stderr).toBe('');
      expect(two.code).toBe(0);
      expect(two.stdout).toBe(one.stdout);
    });
  }

  it('many connections: TIME_WAIT records released by sweeps and at the end, in order', () => {
    const two = runCli(['capture', many, '--ndjson', '--threads', '2', '--idle-timeout', '1']);
    const one = runCli(['capture', many, '--ndjson', '--threads', '1', '--idle-timeout', '1']);
    expect(two.stdout.split('\n')).toHaveLength(401);
    expect(two.stdout).toContain('"states":{"orig":"TIME_WAIT"');
    expect(two.stdout).toBe(one.stdout);
  });

  it('a damaged file: the same lines, then the same error naming the offset (exit 1)', () => {
    const cut = join(tmp, 'cut.pcap');
    const bytes = readFileSync(many);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2) + 5));
    const one = runCli(['capture', cut, '--ndjson', '--threads', '1']);
    const two = runCli(['capture', cut, '--ndjson', '--threads', '2']);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/byte offset \d+ \(pcap record \d+\).*the \d+ packets before it were analysed/);
    expect(two.code).toBe(1);
    expect(two.stderr).toBe(one.stderr);
    expect(two.stdout).toBe(one.stdout);
  });

  it('rejects another thread count and a missing file (exit 2)', () => {
    const bad = runCli(['capture', many, '--ndjson', '--threads', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--threads');
    const missing = runCli(['capture', join(tmp, 'nosuch.pcap'), '--ndjson', '--threads', '2']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nosuch.pcap');
  });
});
