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
});
