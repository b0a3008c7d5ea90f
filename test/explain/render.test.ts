import { describe, expect, it } from 'vitest';
import { STATE_INFO, TCP_STATES, parseState, tryParseState, type TcpState } from '../../src/core/states.js';
import { TRANSITIONS, type TransitionRule } from '../../src/core/transitions.js';
import {
  displayWidth,
  explainJson,
  inputSpellings,
  neighbours,
  renderOverview,
  renderState,
  wrap,
  type ExplainLang,
} from '../../src/explain/render.js';
import { LABELS_EN, TEXTS_EN } from '../../src/explain/texts-en.js';
import { LABELS_ZH, TEXTS_ZH } from '../../src/explain/texts-zh.js';

const RULES: readonly TransitionRule[] = TRANSITIONS;
const LANGS: readonly ExplainLang[] = ['en', 'zh'];
const CJK = /[\u4e00-\u9fff]/u;

/** Straight from the table: (rule, from, to) triples touching `state`. */
function tableEdges(state: TcpState, mainOnly = false): { incoming: string[]; outgoing: string[] } {
  const incoming: string[] = [];
  const outgoing: string[] = [];
  for (const r of RULES) {
    if (mainOnly && !r.main) continue;
    if (r.to === state) for (const f of r.from) incoming.push(`${r.id}:${f}`);
    if (r.from.includes(state)) outgoing.push(`${r.id}:${r.to}`);
  }
  return { incoming: incoming.sort(), outgoing: outgoing.sort() };
}

/** The lines of a page between the heading `from` and the next blank line. */
function sectionOf(page: string, heading: string): string {
  const lines = page.split('\n');
  const start = lines.indexOf(heading);
  expect(start, `heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

describe('neighbours()', () => {
  it('FIN_WAIT_1: main edges go to FIN_WAIT_2, CLOSING, TIME_WAIT and come from ESTABLISHED, SYN_RECEIVED', () => {
    const n = neighbours('FIN_WAIT_1');
    const mainOut = n.outgoing.filter((e) => e.kind === 'main').map((e) => e.to);
    const mainIn = n.incoming.filter((e) => e.kind === 'main').map((e) => e.from);
    expect([...mainOut].sort()).toEqual(['CLOSING', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect([...mainIn].sort()).toEqual(['ESTABLISHED', 'SYN_RECEIVED']);
    // ... and that is what the table says, so a table change is caught here too.
    const table = tableEdges('FIN_WAIT_1', true);
    expect(table.outgoing.map((e) => e.split(':')[1]).sort()).toEqual([...mainOut].sort());
    expect(table.incoming.map((e) => e.split(':')[1]).sort()).toEqual([...mainIn].sort());
  });

  it.each(TCP_STATES)('%s: exactly the edges of TRANSITIONS, main ones first', (state) => {
    const n = neighbours(state);
    const table = tableEdges(state);
    expect(n.incoming.map((e) => `${e.rule}:${e.from}`).sort()).toEqual(table.incoming);
    expect(n.outgoing.map((e) => `${e.rule}:${e.to}`).sort()).toEqual(table.outgoing);
    for (const e of n.incoming) expect(e.to).toBe(state);
    for (const e of n.outgoing) expect(e.from).toBe(state);
    for (const list of [n.incoming, n.outgoing]) {
      const firstSide = list.findIndex((e) => e.kind !== 'main');
      if (firstSide !== -1) expect(list.slice(firstSide).every((e) => e.kind !== 'main')).toBe(true);
    }
  });

  it('marks the kind and the Linux profile from the rule', () => {
    for (const state of TCP_STATES) {
      for (const e of neighbours(state).outgoing) {
        const rule = RULES.find((r) => r.id === e.rule);
        expect(rule).toBeDefined();
        expect(e.kind === 'main').toBe(rule?.main);
        expect(e.linuxOnly).toBe(rule?.profile === 'linux');
        expect(e.event).toBe(rule?.event);
        expect(e.sends).toBe(rule?.sends);
      }
    }
    const fw2 = neighbours('FIN_WAIT_2').outgoing;
    expect(fw2.find((e) => e.rule === 'fin-wait-2-timeout')).toMatchObject({ kind: 'timeout', linuxOnly: true, to: 'CLOSED' });
    expect(fw2.find((e) => e.rule === 'rst-reset')).toMatchObject({ kind: 'reset', linuxOnly: false });
    expect(neighbours('ESTABLISHED').outgoing.find((e) => e.rule === 'abort')).toMatchObject({ kind: 'abort', sends: 'RST' });
  });

  it('accepts another table (the page follows the table, not a copy of it)', () => {
    const rules: TransitionRule[] = [
      { id: 'x', from: ['LISTEN'], to: 'CLOSING', trigger: 'segment', event: 'rcv X', sends: 'Y', source: 'test', main: true },
    ];
    expect(neighbours('CLOSING', rules).incoming.map((e) => e.from)).toEqual(['LISTEN']);
    expect(neighbours('LISTEN', rules).outgoing.map((e) => e.to)).toEqual(['CLOSING']);
    expect(neighbours('TIME_WAIT', rules)).toEqual({ incoming: [], outgoing: [] });
  });
});

describe('texts agree with the transition table', () => {
  /** Display names (SYN-RECEIVED, CLOSED, ...) mentioned in a text, as canonical ids. */
  function statesNamed(text: string): TcpState[] {
    return TCP_STATES.filter((s) => new RegExp(`(?<![A-Z-])${STATE_INFO[s].display}(?![A-Z-])`).test(text));
  }

  it.each(TCP_STATES.flatMap((s) => LANGS.map((l) => [s, l] as const)))(
    '%s (%s): states named in "how entered" / "how left" are neighbours in the table',
    (state, lang) => {
      const t = (lang === 'en' ? TEXTS_EN : TEXTS_ZH)[state];
      const n = neighbours(state);
      const from = new Set<TcpState>([state, ...n.incoming.map((e) => e.from)]);
      const to = new Set<TcpState>([state, ...n.outgoing.map((e) => e.to)]);
      for (const s of statesNamed(t.howEntered.how)) expect(from, `${s} named in howEntered`).toContain(s);
      for (const s of statesNamed(t.howLeft)) expect(to, `${s} named in howLeft`).toContain(s);
    },
  );
});

describe('renderState()', () => {
  it('FIN_WAIT_1 lists its neighbours under the right headings', () => {
    const page = renderState('FIN_WAIT_1', 'en');
    const section = sectionOf(page, LABELS_EN.neighbours);
    const [incoming, outgoing] = section.split(`  ${LABELS_EN.outgoing}`);
    expect(incoming).toContain(LABELS_EN.incoming);
    for (const name of ['ESTABLISHED', 'SYN-RECEIVED']) expect(incoming).toMatch(new RegExp(`^ {4}${name} `, 'm'));
    for (const name of ['CLOSING', 'FIN-WAIT-2', 'TIME-WAIT', 'CLOSED']) {
      expect(outgoing).toMatch(new RegExp(`^ {4}${name} `, 'm'));
    }
    expect(outgoing).toContain('rcv FIN,ACK of FIN; sends ACK');
    expect(outgoing).toMatch(/rcv data after close\(\); sends RST \[reset\] \[Linux\] \(data-after-close\)/);
    expect(outgoing).toMatch(/rcv ACK of FIN \(rcv-ack-of-fin\)/);
  });

  it.each(TCP_STATES.flatMap((s) => LANGS.map((l) => [s, l] as const)))('%s (%s): every neighbour rule appears', (state, lang) => {
    const page = renderState(state, lang);
    const l = lang === 'en' ? LABELS_EN : LABELS_ZH;
    const section = page.slice(page.indexOf(l.neighbours));
    const n = neighbours(state);
    for (const e of [...n.incoming, ...n.outgoing]) expect(section).toContain(e.rule);
    for (const e of n.incoming) expect(section).toContain(STATE_INFO[e.from].display);
    for (const e of n.outgoing) expect(section).toContain(STATE_INFO[e.to].display);
  });

  it.each(TCP_STATES.flatMap((s) => LANGS.map((l) => [s, l] as const)))('%s (%s): all sections and names', (state, lang) => {
    const page = renderState(state, lang);
    const l = lang === 'en' ? LABELS_EN : LABELS_ZH;
    const t = (lang === 'en' ? TEXTS_EN : TEXTS_ZH)[state];
    const info = STATE_INFO[state];
    const lines = page.split('\n');
    expect(lines[0]).toBe(info.display);
    for (const h of [l.knownAs, l.meaning, l.howLeft, l.lifetimeOnLinux, l.inProduction, l.whatToDo, l.neighbours, l.tryIt]) {
      expect(lines, h).toContain(h);
    }
    expect(lines.some((x) => x.startsWith(l.howEntered) && x.includes(l.who[t.howEntered.who]))).toBe(true);
    const known = sectionOf(page, l.knownAs);
    for (const name of [info.ss, info.netstat, String(info.linux), info.id]) expect(known).toContain(name);
    // Unwrapped, the page carries every text field.
    const flat = page.replace(/\n {2,}(- )?/g, ' ');
    const flatNoSpace = flat.replace(/\s+/g, '');
    for (const s of [t.summary, t.meaning, t.howLeft, t.lifetimeOnLinux, t.inProduction, ...t.whatToDo]) {
      expect(flatNoSpace).toContain(s.replace(/\s+/g, ''));
    }
    expect(page).toContain(`tcpstate lab ${state}`);
    expect(page).toContain(`tcpstate diagram --highlight ${state}`);
  });

  it('names the extra Linux numbers', () => {
    expect(sectionOf(renderState('SYN_RECEIVED', 'en'), LABELS_EN.knownAs)).toMatch(/3; 12 \(NEW_SYN_RECV\)/);
    expect(sectionOf(renderState('CLOSED', 'en'), LABELS_EN.knownAs)).toMatch(/7; 13 \(BOUND_INACTIVE\)/);
    expect(sectionOf(renderState('SYN_RECEIVED', 'zh'), LABELS_ZH.knownAs)).toContain('NEW_SYN_RECV');
  });

  it.each([
    ['estab', 'ESTABLISHED'],
    ['syn-recv', 'SYN_RECEIVED'],
    ['time-wait', 'TIME_WAIT'],
    ['Fin_Wait_1', 'FIN_WAIT_1'],
    ['CLOSE-WAIT', 'CLOSE_WAIT'],
    ['fin_wait2', 'FIN_WAIT_2'],
  ] as const)('alias %s opens the page of %s', (alias, state) => {
    const page = renderState(parseState(alias), 'en');
    expect(page.split('\n')[0]).toBe(STATE_INFO[state].display);
    expect(page).toContain(TEXTS_EN[state].summary);
  });

  it.each(TCP_STATES)('%s: the spellings shown are accepted as input', (state) => {
    const spellings = inputSpellings(state);
    expect(spellings.length).toBeGreaterThanOrEqual(1);
    for (const s of spellings) expect(tryParseState(s), s).toBe(state);
    expect(spellings).toContain(STATE_INFO[state].ss.toLowerCase());
  });

  it('Chinese pages have Chinese headings and full-width punctuation around values', () => {
    const page = renderState('CLOSE_WAIT', 'zh');
    expect(page).toContain('状态图中的相邻状态');
    expect(page).toContain('如何进入（谁会进入：任意一方）');
    expect(page).not.toContain(LABELS_EN.neighbours);
  });
});

describe('layout', () => {
  it('fits every page and the overview into the width, in both languages', () => {
    for (const width of [100, 72]) {
      for (const lang of LANGS) {
        const pages = [renderOverview(lang, { width }), ...TCP_STATES.map((s) => renderState(s, lang, { width }))];
        for (const page of pages) {
          for (const line of page.split('\n')) expect(displayWidth(line), `${lang}@${width}: ${line}`).toBeLessThanOrEqual(width);
        }
      }
    }
  });

  it('counts CJK characters as two columns', () => {
    expect(displayWidth('ab')).toBe(2);
    expect(displayWidth('中文')).toBe(4);
    expect(displayWidth('状态 7（CLOSE）')).toBe(2 + 2 + 1 + 1 + 2 + 5 + 2);
  });

  it('breaks Chinese between characters but never before closing punctuation', () => {
    const text = '这是一段没有空格的中文，用来检查折行，逗号和句号不能出现在行首。'.repeat(4);
    const lines = wrap(text, 21, '  ');
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) {
      expect(displayWidth(line)).toBeLessThanOrEqual(21);
      expect(line.trimStart()).not.toMatch(/^[，。]/u);
    }
    expect(lines.map((x) => x.trim()).join('')).toBe(text);
  });

  it('keeps `code spans` whole and joins English words with single spaces', () => {
    const lines = wrap('run `ss -tanp state close-wait` now to find it', 20);
    expect(lines).toContain('`ss -tanp state close-wait`');
    expect(lines.join(' ')).toBe('run `ss -tanp state close-wait` now to find it');
  });

  it('applies the heading style to headings only', () => {
    const mark = (s: string): string => `<${s}>`;
    const page = renderState('TIME_WAIT', 'en', { heading: mark });
    expect(page).toContain(`<${LABELS_EN.meaning}>`);
    expect(page).toContain(`<${LABELS_EN.neighbours}>`);
    expect(page.split('\n')[0]).toBe('<TIME-WAIT>');
    expect(page).not.toMatch(/<[^>]*60 s/);
    const overview = renderOverview('en', { heading: mark });
    expect(overview).toContain('<TIME-WAIT> (ss TIME-WAIT');
    expect(renderOverview('zh')).not.toContain('\u001b');
    expect(renderState('CLOSE_WAIT', 'zh')).not.toContain('\u001b');
  });
});

describe('renderOverview()', () => {
  it.each(LANGS)('(%s) lists the 11 states in diagram order with summary, lifetime and advice', (lang) => {
    const overview = renderOverview(lang);
    const texts = lang === 'en' ? TEXTS_EN : TEXTS_ZH;
    const flat = overview.replace(/\s+/g, '');
    let last = -1;
    for (const state of TCP_STATES) {
      const at = overview.search(new RegExp(`^${STATE_INFO[state].display}[ （]`, 'm'));
      expect(at, state).toBeGreaterThan(last);
      last = at;
      for (const s of [texts[state].summary, texts[state].lifetimeBrief, texts[state].productionBrief]) {
        expect(flat).toContain(s.replace(/\s+/g, ''));
      }
      expect(overview).toContain(STATE_INFO[state].ss);
    }
  });

  it('is compact: a handful of lines per state', () => {
    const lines = renderOverview('en').split('\n');
    expect(lines.length).toBeLessThanOrEqual(4 + TCP_STATES.length * 6);
    expect(renderOverview('en')).toMatch(/TIME-WAIT.*\n.*\n.*fixed 60 s/);
  });
});

describe('explainJson()', () => {
  it('one state: plain data with names, texts and neighbours', () => {
    const doc = explainJson('FIN_WAIT_1', 'en');
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(doc).toMatchObject({
      lang: 'en',
      state: 'FIN_WAIT_1',
      display: 'FIN-WAIT-1',
      ss: 'FIN-WAIT-1',
      netstat: 'FIN_WAIT1',
      linux: 4,
      linuxAlso: [],
      summary: TEXTS_EN.FIN_WAIT_1.summary,
      lifetimeOnLinux: TEXTS_EN.FIN_WAIT_1.lifetimeOnLinux,
      howEntered: { who: 'either', how: TEXTS_EN.FIN_WAIT_1.howEntered.how },
      whatToDo: [...TEXTS_EN.FIN_WAIT_1.whatToDo],
    });
    for (const key of ['meaning', 'howLeft', 'inProduction', 'lifetimeBrief', 'productionBrief']) {
      expect(typeof (doc as unknown as Record<string, unknown>)[key]).toBe('string');
    }
    for (const e of doc.neighbours.incoming) {
      expect(Object.keys(e).sort()).toEqual(['event', 'from', 'kind', 'linuxOnly', 'main', 'rule', 'sends']);
    }
    for (const e of doc.neighbours.outgoing) {
      expect(Object.keys(e).sort()).toEqual(['event', 'kind', 'linuxOnly', 'main', 'rule', 'sends', 'to']);
    }
    const table = tableEdges('FIN_WAIT_1');
    expect(doc.neighbours.incoming.map((e) => `${e.rule}:${e.from}`).sort()).toEqual(table.incoming);
    expect(doc.neighbours.outgoing.map((e) => `${e.rule}:${e.to}`).sort()).toEqual(table.outgoing);
    expect(doc.neighbours.outgoing.find((e) => e.to === 'CLOSING')).toEqual({
      rule: 'simultaneous-close',
      to: 'CLOSING',
      event: 'rcv FIN',
      sends: 'ACK',
      kind: 'main',
      main: true,
      linuxOnly: false,
    });
  });

  it('all states, in Chinese', () => {
    const doc = explainJson(undefined, 'zh');
    expect(doc.lang).toBe('zh');
    expect(doc.states.map((s) => s.state)).toEqual([...TCP_STATES]);
    for (const s of doc.states) {
      expect(s.summary).toMatch(CJK);
      expect(s.neighbours.incoming.length + s.neighbours.outgoing.length).toBeGreaterThan(0);
    }
    expect(doc.states.find((s) => s.state === 'SYN_RECEIVED')?.linuxAlso).toEqual([12]);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});
