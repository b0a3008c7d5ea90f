import { describe, expect, it } from 'vitest';
import { TCP_STATES, parseState, type TcpState } from '../../src/core/states.js';
import { displayWidth } from '../../src/explain/render.js';
import { LABELS_EN, TEXTS_EN, WHO_VALUES, type Labels, type StateText } from '../../src/explain/texts-en.js';
import { LABELS_ZH, TEXTS_ZH } from '../../src/explain/texts-zh.js';

const CJK = /[\u3400-\u4dbf\u4e00-\u9fff]/u;

/** Every piece of prose in a record, named for error messages. */
function prose(t: StateText): Array<readonly [string, string]> {
  return [
    ['summary', t.summary],
    ['meaning', t.meaning],
    ['howEntered.how', t.howEntered.how],
    ['howLeft', t.howLeft],
    ['lifetimeBrief', t.lifetimeBrief],
    ['lifetimeOnLinux', t.lifetimeOnLinux],
    ['productionBrief', t.productionBrief],
    ['inProduction', t.inProduction],
    ...t.whatToDo.map((item, i) => [`whatToDo[${i}]`, item] as const),
  ];
}

function allText(t: StateText): string {
  return prose(t)
    .map(([, s]) => s)
    .join('\n');
}

function labelText(l: Labels): string {
  return Object.values(l)
    .map((v) => (typeof v === 'string' ? v : Object.values(v as Record<string, string>).join('\n')))
    .join('\n');
}

const LANGS = [
  ['en', TEXTS_EN],
  ['zh', TEXTS_ZH],
] as const;

describe.each(LANGS)('texts (%s)', (lang, texts) => {
  it('has exactly the 11 canonical states', () => {
    expect(Object.keys(texts).sort()).toEqual([...TCP_STATES].sort());
  });

  it.each(TCP_STATES)('%s: every field is non-empty', (state) => {
    const t = texts[state];
    for (const [name, value] of prose(t)) expect(value.trim(), `${state}.${name}`).not.toBe('');
    expect(t.whatToDo.length, `${state}.whatToDo`).toBeGreaterThanOrEqual(2);
    expect(WHO_VALUES).toContain(t.howEntered.who);
  });

  it.each(TCP_STATES)('%s: summary and briefs are single short lines', (state) => {
    const t = texts[state];
    for (const s of [t.summary, t.lifetimeBrief, t.productionBrief]) {
      expect(s).not.toMatch(/\n/);
    }
    // Indented by 2 in the overview (briefs after a 10-column label), at 100 columns.
    expect(displayWidth(t.summary)).toBeLessThanOrEqual(96);
    expect(displayWidth(t.lifetimeBrief)).toBeLessThanOrEqual(86);
    expect(displayWidth(t.productionBrief)).toBeLessThanOrEqual(86);
  });

  it.each(TCP_STATES)('%s: written in the right script', (state) => {
    for (const [name, value] of prose(texts[state])) {
      if (lang === 'zh') expect(value, `${state}.${name}`).toMatch(CJK);
      else expect(value, `${state}.${name}`).not.toMatch(CJK);
    }
  });

  it('mentions only tcpstate commands that exist or are planned, with valid states', () => {
    const allowed = new Set(['ls', 'doctor', 'lab', 'simulate', 'diagram', 'explain']);
    const labels = lang === 'en' ? LABELS_EN : LABELS_ZH;
    const text = TCP_STATES.map((s) => allText(texts[s])).join('\n') + labelText(labels);
    const commands = [...text.matchAll(/tcpstate ([a-z-]+)(?: ([A-Za-z0-9_-]+))?/g)];
    expect(commands.length).toBeGreaterThan(5);
    for (const [whole, sub, arg] of commands) {
      expect(allowed, whole).toContain(sub);
      if (sub === 'lab' && arg !== undefined) expect(() => parseState(arg), whole).not.toThrow();
    }
  });
});

describe('Linux lifetime facts (both languages)', () => {
  const facts: ReadonlyArray<readonly [TcpState, readonly string[]]> = [
    ['TIME_WAIT', ['60', 'TCP_TIMEWAIT_LEN', 'tcp_fin_timeout']],
    ['FIN_WAIT_2', ['tcp_fin_timeout', '60', 'shutdown(SHUT_WR)']],
    ['SYN_SENT', ['tcp_syn_retries', '6', '127']],
    ['SYN_RECEIVED', ['tcp_synack_retries', '5', '12', 'NEW_SYN_RECV']],
    ['FIN_WAIT_1', ['tcp_orphan_retries', '8', 'tcp_retries2', 'zero']],
    ['CLOSING', ['tcp_orphan_retries', 'tcp_retries2']],
    ['LAST_ACK', ['tcp_orphan_retries', 'tcp_retries2']],
    ['CLOSE_WAIT', ['close()']],
    ['ESTABLISHED', ['tcp_keepalive_time', '7200', 'tcp_retries2']],
    ['LISTEN', ['somaxconn']],
  ];
  it.each(facts)('%s lifetime mentions %j', (state, needles) => {
    for (const [lang, texts] of LANGS) {
      const lifetime = texts[state].lifetimeOnLinux;
      for (const needle of needles) {
        // "zero window" is 零窗口 in Chinese.
        const n = lang === 'zh' && needle === 'zero' ? '零窗口' : needle;
        expect(lifetime, `${lang} ${state}`).toContain(n);
      }
    }
  });

  it('TIME_WAIT is stated as 60 s in the overview line', () => {
    expect(TEXTS_EN.TIME_WAIT.lifetimeBrief).toMatch(/60 s/);
    expect(TEXTS_ZH.TIME_WAIT.lifetimeBrief).toMatch(/60 秒/);
  });

  it('CLOSE_WAIT and ESTABLISHED are unbounded', () => {
    expect(TEXTS_EN.CLOSE_WAIT.lifetimeBrief).toMatch(/unbounded/);
    expect(TEXTS_ZH.CLOSE_WAIT.lifetimeBrief).toMatch(/不限时/);
    expect(TEXTS_EN.ESTABLISHED.lifetimeBrief).toMatch(/unbounded/);
    expect(TEXTS_ZH.ESTABLISHED.lifetimeBrief).toMatch(/不限时/);
  });
});

describe('production advice (both languages)', () => {
  const advice: ReadonlyArray<readonly [TcpState, readonly string[]]> = [
    ['CLOSE_WAIT', ['ss -tanp state close-wait', 'close()']],
    ['TIME_WAIT', ['tcp_tw_reuse', 'ip_local_port_range', 'keep-alive', 'tcp_tw_recycle']],
    ['SYN_RECEIVED', ['tcp_syncookies', 'somaxconn']],
    ['FIN_WAIT_1', ['ss -tno state fin-wait-1', 'tcp_orphan_retries']],
    ['FIN_WAIT_2', ['close-wait']],
    ['SYN_SENT', ['ss -tn state syn-sent', 'tcp_syn_retries']],
    ['LAST_ACK', ['ss -tn state last-ack']],
  ];
  it.each(advice)('%s advice mentions %j', (state, needles) => {
    for (const [lang, texts] of LANGS) {
      const text = texts[state].inProduction + '\n' + texts[state].whatToDo.join('\n');
      for (const needle of needles) expect(text, `${lang} ${state}`).toContain(needle);
    }
  });

  it('the TIME_WAIT pile-up example is the same in both languages', () => {
    expect(TEXTS_EN.TIME_WAIT.inProduction).toContain('40,000');
    expect(TEXTS_ZH.TIME_WAIT.inProduction).toContain('40,000');
  });
});

describe('English and Chinese state the same facts', () => {
  /** Numbers and kernel identifiers: these must not drift between the two languages. */
  function factTokens(s: string): string[] {
    const tokens = s.match(/\b(?:net\.[a-z0-9_.]+|tcp_[a-z0-9_]+|TCP_[A-Z0-9_]+|[A-Z_]{4,}|\d[\d,]*)\b/g) ?? [];
    return [...new Set(tokens)].sort();
  }

  it.each(TCP_STATES)('%s: same numbers and identifiers, field by field', (state) => {
    const en = prose(TEXTS_EN[state]);
    const zh = prose(TEXTS_ZH[state]);
    expect(zh.map(([name]) => name)).toEqual(en.map(([name]) => name));
    for (const [i, [name, enText]] of en.entries()) {
      const zhText = zh[i]?.[1] ?? '';
      expect(factTokens(zhText), `${state}.${name}`).toEqual(factTokens(enText));
    }
  });

  it.each(TCP_STATES)('%s: the same person enters the state', (state) => {
    expect(TEXTS_ZH[state].howEntered.who).toBe(TEXTS_EN[state].howEntered.who);
  });

  it('labels exist in both languages and differ', () => {
    expect(Object.keys(LABELS_ZH).sort()).toEqual(Object.keys(LABELS_EN).sort());
    expect(LABELS_ZH.neighbours).toMatch(CJK);
    expect(LABELS_ZH.neighbours).not.toBe(LABELS_EN.neighbours);
  });
});
