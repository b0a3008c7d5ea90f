/** Thresholds from a config file and --set flags; every mistake names the key. */
import { describe, expect, it } from 'vitest';
import { DoctorConfigError, loadDoctorConfig } from '../../src/doctor/config.js';
import { diagnoseOnce, exitCodeFor } from '../../src/doctor/engine.js';
import { DEFAULT_THRESHOLDS, RULE_IDS, thresholdRows } from '../../src/doctor/thresholds.js';
import { quickVerdict } from '../../src/analysis/verdict.js';
import { many, observation, sock } from './factory.js';

const file = (doc: unknown): { file: string; read: () => string } => ({ file: 'doctor.json', read: (): string => JSON.stringify(doc) });

describe('config', () => {
  it('defaults when nothing is given; every threshold is documented', () => {
    const c = loadDoctorConfig();
    expect(c.thresholds).toEqual(DEFAULT_THRESHOLDS);
    expect(c.disabled.size).toBe(0);
    const rows = thresholdRows();
    expect(new Set(rows.map((r) => r.key.split('.')[0]))).toEqual(new Set(RULE_IDS));
    for (const r of rows) expect(r.meaning.length, r.key).toBeGreaterThan(10);
  });

  it('a file sets thresholds and disables rules; --set applies after the file', () => {
    const c = loadDoctorConfig({
      ...file({ thresholds: { 'close-wait-leak': { warning: 10, critical: 20 } }, disable: ['syn-sent-stalled'] }),
      sets: ['close-wait-leak.warning=15', 'time-wait-pileup.bucketsCritical=0.95'],
    });
    expect(c.thresholds['close-wait-leak']).toMatchObject({ warning: 15, critical: 20 });
    expect(c.thresholds['time-wait-pileup'].bucketsCritical).toBe(0.95);
    expect([...c.disabled]).toEqual(['syn-sent-stalled']);
    expect(DEFAULT_THRESHOLDS['close-wait-leak'].warning).toBe(50); // defaults untouched
  });

  it.each([
    [{ sets: ['nope.warning=1'] }, /unknown rule "nope"/],
    [{ sets: ['close-wait-leak.warn=1'] }, /unknown threshold "close-wait-leak.warn"; close-wait-leak has info, warning, critical, growthWarning/],
    [{ sets: ['close-wait-leak.warning=lots'] }, /"close-wait-leak.warning" must be a number, got "lots"/],
    [{ sets: ['close-wait-leak.warning'] }, /expected rule.key=value/],
    [{ sets: ['close-wait-leak.warning=2.5'] }, /is a count: a whole number/],
    [{ sets: ['orphan-pressure.warning=50'] }, /"orphan-pressure.warning" is a share: a number above 0 and at most 1/],
    [{ sets: ['close-wait-leak.warning=5000'] }, /"close-wait-leak.warning" \(5000\) must not exceed "close-wait-leak.critical" \(1000\)/],
    [file({ thresholds: { 'close-wait-leak': { warning: '10' } } }), /--config doctor.json: "close-wait-leak.warning" must be a number/],
    [file({ thresholds: { bogus: { warning: 1 } } }), /--config doctor.json: unknown rule "bogus"/],
    [file({ disable: ['bogus'] }), /unknown rule "bogus" in "disable"/],
    [file({ threshold: {} }), /unknown key "threshold"/],
    [file([1, 2]), /expected a JSON object/],
    [{ file: 'x.json', read: (): string => '{oops' }, /--config x.json: not valid JSON/],
    [{ file: '/nonexistent/doctor.json' }, /--config \/nonexistent\/doctor.json: cannot read it/],
  ] as const)('%j → a clear error', (src, message) => {
    expect(() => loadDoctorConfig(src)).toThrow(DoctorConfigError);
    expect(() => loadDoctorConfig(src)).toThrow(message);
  });

  it('a lowered threshold changes the verdict', () => {
    const now = observation(many(3, { state: 'CLOSE_WAIT', lport: 7000 }));
    expect(diagnoseOnce(now).severity).toBe('info');
    expect(diagnoseOnce(now, loadDoctorConfig({ sets: ['close-wait-leak.warning=3'] })).severity).toBe('warning');
    expect(diagnoseOnce(now, loadDoctorConfig({ ...file({ disable: ['close-wait-leak'] }) })).findings).toEqual([]);
  });
});

describe('engine', () => {
  it('orders findings by severity, then rule order; exit codes follow the monitoring convention', () => {
    const now = observation(
      [sock({ state: 'LISTEN', lport: 80, sendQueue: 2, recvQueue: 3 }), ...many(5, { state: 'LAST_ACK', lport: 80 }), ...many(60, { state: 'CLOSE_WAIT', lport: 81 })],
      { tcpExt: { ListenOverflows: 1 } },
    );
    const d = diagnoseOnce(now);
    expect(d.findings.map((f) => [f.rule, f.severity])).toEqual([
      ['close-wait-leak', 'warning'],
      ['accept-queue-overflow', 'warning'],
      ['last-ack-stuck', 'info'],
    ]);
    expect(d.checked).toEqual(RULE_IDS);
    expect(d.sampledSeconds).toBe(0);
    expect(exitCodeFor(d.severity)).toBe(1);
    expect(exitCodeFor('ok')).toBe(0);
    expect(exitCodeFor('info')).toBe(0);
    expect(exitCodeFor('critical')).toBe(2);
  });

  it("summary's verdict comes from the same engine: shape { severity, text, reasons }", () => {
    const ok = quickVerdict(observation([sock({ state: 'LISTEN', lport: 80 })]));
    expect(ok).toEqual({ severity: 'ok', text: 'OK: nothing unusual in this snapshot', reasons: [] });
    const info = quickVerdict(observation([], { tcpExt: { ListenOverflows: 6 } }));
    expect(info.severity).toBe('info');
    expect(info.text).toBe('INFO: ListenOverflows 6 since boot');
    const warn = quickVerdict(observation([...many(60, { state: 'CLOSE_WAIT' }), ...many(5, { state: 'LAST_ACK' })]));
    expect(warn.severity).toBe('warning');
    expect(warn.text).toBe('WARNING: 60 CLOSE_WAIT: an application is not closing sockets (+1 more) — run `tcpstate doctor` for evidence and advice');
    expect(warn.reasons.map((r) => [r.rule, r.severity])).toEqual([
      ['close-wait-leak', 'warning'],
      ['last-ack-stuck', 'info'],
    ]);
  });
});
