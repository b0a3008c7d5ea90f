/**
 * The doctor command line without root: usage errors are "unknown" (exit 3) and name
 * the key; --thresholds lists the defaults; --json has the documented shape.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { DEFAULT_THRESHOLDS } from '../../src/doctor/thresholds.js';
import { RULE_IDS } from '../../src/doctor/thresholds.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('tcpstate doctor (CLI)', () => {
  it.each([
    [['--set', 'close-wait-leak.warnin=3'], /unknown threshold "close-wait-leak.warnin"/],
    [['--set', 'bogus.warning=3'], /unknown rule "bogus"/],
    [['--sample', '0'], /bad value "0" for --sample/],
    [['--sample', 'soon'], /bad value "soon" for --sample/],
    [['--config', '/nonexistent.json'], /--config \/nonexistent.json: cannot read it/],
    [['--lang', 'fr'], /unknown language "fr"/],
    [['--no-such-flag'], /unknown option '--no-such-flag'/],
  ])('%j → exit 3 (unknown) with a message', (args, message) => {
    const r = runCli(['doctor', ...args]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('--thresholds --json lists every threshold with its default', () => {
    const r = runCli(['doctor', '--thresholds', '--json', '--set', 'close-wait-leak.warning=7']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { key: string; value: number }[];
    expect(rows.find((x) => x.key === 'close-wait-leak.warning')?.value).toBe(7);
    expect(rows.find((x) => x.key === 'time-wait-pileup.warning')?.value).toBe(DEFAULT_THRESHOLDS['time-wait-pileup'].warning);
  });

  it('--json shape; with every rule disabled nothing is found and the exit code is 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
    const cfg = join(dir, 'off.json');
    writeFileSync(cfg, JSON.stringify({ disable: RULE_IDS }));
    let r: ReturnType<typeof runCli>;
    try {
      r = runCli(['doctor', '--json', '--config', cfg]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ findings: [], checked: [], sampledSeconds: 0, severity: 'ok' });
    expect(typeof doc['sockets']).toBe('number');
  });

  it('--help exits 0 and documents the exit codes', () => {
    const r = runCli(['doctor', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3 unknown');
  });
});
