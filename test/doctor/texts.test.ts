/** The Chinese texts: complete, in Chinese, and the same number of advice items per rule. */
import { describe, expect, it } from 'vitest';
import { DOCTOR_TEXTS_EN } from '../../src/doctor/texts-en.js';
import { DOCTOR_TEXTS_ZH } from '../../src/doctor/texts-zh.js';
import { RULE_IDS } from '../../src/doctor/thresholds.js';
import { diagnoseOnce, textsFor } from '../../src/doctor/engine.js';
import { loadDoctorConfig } from '../../src/doctor/config.js';
import { many, observation, sock } from './factory.js';

const CJK = /[\u4e00-\u9fff]/u;

describe('doctor texts', () => {
  it.each(RULE_IDS)('%s: Chinese advice exists, is Chinese, and matches the English item count', (id) => {
    expect(DOCTOR_TEXTS_ZH.advice[id].length).toBe(DOCTOR_TEXTS_EN.advice[id].length);
    for (const a of DOCTOR_TEXTS_ZH.advice[id]) expect(a).toMatch(CJK);
    for (const a of DOCTOR_TEXTS_EN.advice[id]) expect(a).not.toMatch(CJK);
  });

  it('findings in zh carry Chinese titles and advice, with the same figures', () => {
    const recs = [
      sock({ state: 'LISTEN', lport: 80, sendQueue: 2, recvQueue: 3 }),
      ...many(60, { state: 'CLOSE_WAIT' }),
      ...many(120, (i) => ({ state: 'FIN_WAIT_2', lport: 40000 + i, inode: 0 })),
    ];
    const now = observation(recs, { tcpExt: { ListenOverflows: 2 } });
    const en = diagnoseOnce(now, loadDoctorConfig(), textsFor('en'));
    const zh = diagnoseOnce(now, loadDoctorConfig(), textsFor('zh'));
    expect(zh.findings.map((f) => f.rule)).toEqual(en.findings.map((f) => f.rule));
    for (const f of zh.findings) {
      expect(f.title).toMatch(CJK);
      expect(f.advice.every((a) => CJK.test(a))).toBe(true);
    }
    expect(zh.findings.find((f) => f.rule === 'close-wait-leak')?.title).toContain('60 个 CLOSE_WAIT');
    expect(zh.findings.map((f) => f.evidence)).toEqual(en.findings.map((f) => f.evidence));
  });
});
