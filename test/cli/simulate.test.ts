import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TCP_STATES } from '../../src/core/states.js';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tcpstate-sim-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

interface SimJson {
  transitions: { at: number; endpoint: string; from: string; to: string; cause: string }[];
  segments: { at: number; from: string; to: string; flags: string; seq: number; ack: number; len: number; window: number; dropped: boolean; injected: boolean }[];
  final: { a: string; b: string };
}

describe('tcpstate simulate (built CLI)', () => {
  it('--json has the documented shape with canonical states and relative numbers', () => {
    const r = runCli(['simulate', 'lost-final-ack', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as SimJson;
    expect(doc.final).toEqual({ a: 'CLOSED', b: 'CLOSED' });
    for (const t of doc.transitions) {
      expect(TCP_STATES).toContain(t.from);
      expect(TCP_STATES).toContain(t.to);
      expect(Object.keys(t).sort()).toEqual(['at', 'cause', 'endpoint', 'from', 'to']);
    }
    expect(Object.keys(doc.segments[0] ?? {}).sort()).toEqual(
      ['ack', 'at', 'dropped', 'flags', 'from', 'injected', 'len', 'seq', 'to', 'window'].sort(),
    );
    expect(doc.segments[0]).toMatchObject({ from: 'a', to: 'b', flags: 'S', seq: 0 });
    expect(doc.segments.filter((s) => s.dropped)).toHaveLength(1);
  });

  it('prints a two-column sequence diagram with both states', () => {
    const r = runCli(['simulate', 'simultaneous-close']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ a\s+│\s+│ b/);
    expect(r.stdout).toContain('→ CLOSING');
    expect(r.stdout).toMatch(/F\. seq 1 ack 1 win 65535 ─+▶/);
    expect(r.stdout).toMatch(/final: a CLOSED, b CLOSED/);
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('--profile linux overrides the scenario: TIME_WAIT lasts 60 s', () => {
    const doc = JSON.parse(runCli(['simulate', 'active-close', '--json', '--profile', 'linux']).stdout) as SimJson;
    const tw = doc.transitions.find((t) => t.endpoint === 'a' && t.to === 'TIME_WAIT');
    const end = doc.transitions.find((t) => t.endpoint === 'a' && t.from === 'TIME_WAIT');
    expect((end?.at ?? 0) - (tw?.at ?? 0)).toBe(60_000);
  });

  it('runs a scenario file', () => {
    const p = file(
      'ok.json',
      JSON.stringify({
        name: 'mine',
        steps: [
          { at: 0, endpoint: 'b', call: 'listen' },
          { at: 5, endpoint: 'a', call: 'connect' },
          { at: 50, endpoint: 'a', call: 'abort' },
        ],
      }),
    );
    const r = runCli(['simulate', p, '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as SimJson).final).toEqual({ a: 'CLOSED', b: 'CLOSED' });
  });

  it('--list names every built-in', () => {
    const r = runCli(['simulate', '--list']);
    for (const n of ['handshake', 'simultaneous-open', 'lost-final-ack', 'zero-window', 'rst-in-window']) {
      expect(r.stdout).toContain(n);
    }
  });

  it('malformed scenarios exit 2 naming the field or step', () => {
    const bad = runCli(['simulate', file('bad.json', '{"name": "x", "steps": [')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.json: \(JSON\): not valid JSON/);

    const call = runCli(['simulate', file('call.json', JSON.stringify({ name: 'x', steps: [{ at: 0, endpoint: 'a', call: 'fly' }] }))]);
    expect(call.code).toBe(2);
    expect(call.stderr).toContain('steps[0].call');

    const cannot = runCli([
      'simulate',
      file('cannot.json', JSON.stringify({ name: 'x', steps: [{ at: 3, endpoint: 'a', call: 'close' }] })),
    ]);
    expect(cannot.code).toBe(2);
    expect(cannot.stderr).toContain('steps[0] (at 3 ms, a close)');
    expect(cannot.stderr).toContain('connection does not exist');
  });

  it('unknown scenario name and bad --profile exit 2', () => {
    const r = runCli(['simulate', 'no-such-thing']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no-such-thing');
    expect(r.stderr).toContain('handshake');
    const p = runCli(['simulate', 'handshake', '--profile', 'bsd']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('--profile');
  });
});
