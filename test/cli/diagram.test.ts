import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('tcpstate diagram (built CLI)', () => {
  it('text by default, without escape codes under NO_COLOR', () => {
    const r = runCli(['diagram']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ESTABLISHED');
    expect(r.stdout).toMatch(/CLOSE \/ snd FIN ─+▶ FIN-WAIT-1/);
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('--format dot and --format svg', () => {
    expect(runCli(['diagram', '--format', 'dot']).stdout).toMatch(/^digraph tcp_states \{/m);
    expect(runCli(['diagram', '--format', 'svg']).stdout).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
  });

  it('--highlight accepts aliases and marks the state', () => {
    const r = runCli(['diagram', '--highlight', 'time-wait']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').some((l) => l.startsWith('>>') && l.includes('TIME-WAIT'))).toBe(true);
  });

  it('bad --format and unknown --highlight exit 2 naming the value', () => {
    const f = runCli(['diagram', '--format', 'bogus']);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('bogus');
    const h = runCli(['diagram', '--highlight', 'nosuch']);
    expect(h.code).toBe(2);
    expect(h.stderr).toContain('nosuch');
  });

  it('--all adds dashed reset/abort/timeout arrows and Linux-only rules', () => {
    const plain = runCli(['diagram']).stdout;
    const all = runCli(['diagram', '--all']);
    expect(all.code).toBe(0);
    expect(plain).not.toContain('╌');
    expect(all.stdout).toMatch(/rcv RST \(connection reset\) ╌+┐/);
    expect(all.stdout).toContain('[linux]');
    expect(runCli(['diagram', '--all', '--format', 'dot']).stdout).toContain('style="dashed"');
  });

  it('--highlight in dot and svg marks only that state', () => {
    const dot = runCli(['diagram', '--format', 'dot', '--highlight', 'estab']).stdout;
    const boldNodes = dot.split('\n').filter((l) => /^ {2}[A-Z_0-9]+ \[label=.*penwidth/.test(l));
    expect(boldNodes.map((l) => l.trim().split(' ')[0])).toEqual(['ESTABLISHED']);
    const svg = runCli(['diagram', '--format', 'svg', '--highlight', 'ESTABLISHED']).stdout;
    expect([...svg.matchAll(/class="state highlight" data-state="([A-Z_]+)"/g)].map((m) => m[1])).toEqual(['ESTABLISHED']);
  });

  it('colour only when forced or on a TTY, never under NO_COLOR', () => {
    const forced = runCli(['diagram', '--highlight', 'time-wait'], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(forced.stdout).toContain('\u001b[');
    const both = runCli(['diagram', '--highlight', 'time-wait'], { NO_COLOR: '1', FORCE_COLOR: '1' });
    expect(both.stdout).not.toContain('\u001b[');
    expect(runCli(['diagram', '--format', 'dot'], { NO_COLOR: '', FORCE_COLOR: '1' }).stdout).not.toContain('\u001b[');
  });
});
