/**
 * `capture FILE --ndjson` starts its worker thread before the command line has loaded
 * (src/cli/capture-early.ts): which command lines it guesses will run the pipeline, and
 * that a worker started for a run that then fails does not keep it alive.
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { pipelineFileOf, WITH_VALUE } from '../../src/cli/capture-early.js';
import { register } from '../../src/cli/capture.js';
import { PIPELINE_MIN_OCTETS } from '../../src/cli/capture-threads.js';
import { manyConnections } from '../capture/helpers.js';
import { runCli } from './run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tcpstate-early-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const small = join(tmp, 'small.pcap');
writeFileSync(small, manyConnections());
// A sparse file: only its size matters to the guess.
const big = join(tmp, 'big.pcap');
writeFileSync(big, '');
truncateSync(big, PIPELINE_MIN_OCTETS);

const guess = (...words: string[]): string | null => pipelineFileOf(['node', 'main.js', ...words]);

describe('capture: the worker started ahead', () => {
  it('is guessed for --ndjson on a file that gets a worker thread', () => {
    expect(guess('capture', small, '--ndjson', '--threads', '2')).toBe(small);
    expect(guess('capture', '--threads=3', '--ndjson', small)).toBe(small);
    expect(guess('capture', small, '--ndjson', '--idle-timeout', '30', '--profile', 'rfc9293', '--threads', '2')).toBe(small);
    // The default: a worker for files of 64 MiB and more, on a machine with more than one CPU.
    expect(guess('capture', big, '--ndjson')).toBe(availableParallelism() > 1 ? big : null);
  });

  it("knows every option of capture that takes a value (else it would take the value for the file)", () => {
    const program = new Command();
    register(program);
    const capture = program.commands.find((c) => c.name() === 'capture');
    const taking = (capture?.options ?? []).filter((o) => o.required || o.optional).map((o) => o.long);
    expect(taking.length).toBeGreaterThan(3);
    expect(new Set(taking)).toEqual(WITH_VALUE);
  });

  it('is not guessed where the lines are not written by the pipeline', () => {
    expect(guess('capture', small, '--ndjson')).toBeNull(); // small: one thread
    expect(guess('capture', small, '--ndjson', '--threads', '1')).toBeNull();
    expect(guess('capture', big, '--json')).toBeNull();
    expect(guess('capture', big, '--ndjson', '--timeline')).toBeNull();
    expect(guess('capture', big, '--ndjson', '--conn', '3')).toBeNull();
    expect(guess('capture', big, '--ndjson', 'state', 'established')).toBeNull(); // a filter
    expect(guess('capture', '-', '--ndjson', '--threads', '2')).toBeNull();
    expect(guess('capture', join(tmp, 'missing.pcap'), '--ndjson', '--threads', '2')).toBeNull();
    expect(guess('capture', big, '--ndjson', '--threads', 'two')).toBeNull();
    expect(guess('ls', big, '--ndjson')).toBeNull();
    expect(guess('capture', big, '--ndjson', '--help')).toBeNull();
  });

  it('a run that fails on its options after the worker started exits at once with the usage error', () => {
    // A worker waiting for a job would keep the process alive: runCli's time limit fails the test then.
    const r = runCli(['capture', small, '--ndjson', '--threads', '2', '--profile', 'bsd']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad value "bsd" for --profile');
    expect(r.stdout).toBe('');
  });

});
