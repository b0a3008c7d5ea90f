/**
 * End-to-end: runs the built CLI (dist/cli/main.js, built once by test/global-setup.ts)
 * as a user would.
 */
import { describe, expect, it } from 'vitest';
import { STATE_INFO, TCP_STATES } from '../../src/core/states.js';
import { displayWidth } from '../../src/explain/render.js';
import { LABELS_EN, TEXTS_EN } from '../../src/explain/texts-en.js';
import { LABELS_ZH, TEXTS_ZH } from '../../src/explain/texts-zh.js';
import { runCli } from './run-cli.js';

const ESC = '\u001b';
const CJK = /[\u4e00-\u9fff]/u;

describe('tcpstate explain (built CLI)', () => {
  it('explain time-wait --lang zh: the Chinese page of TIME_WAIT', () => {
    const r = runCli(['explain', 'time-wait', '--lang', 'zh']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('TIME-WAIT');
    expect(r.stdout).toContain(TEXTS_ZH.TIME_WAIT.summary);
    expect(r.stdout).toContain('60 秒');
    expect(r.stdout).toContain('TCP_TIMEWAIT_LEN');
    expect(lines).toContain(LABELS_ZH.neighbours);
    expect(lines).toContain(LABELS_ZH.lifetimeOnLinux);
    expect(r.stdout).toContain('time-wait-timeout');
    expect(r.stdout).not.toContain(LABELS_EN.neighbours);
  });

  it('explain bogus: exits 2 and names the bad input', () => {
    for (const args of [['explain', 'bogus'], ['explain', 'bogus', '--json']]) {
      const r = runCli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('"bogus"');
      expect(r.stderr).toContain('TIME_WAIT');
    }
  });

  it('a bad --lang is a usage error', () => {
    const r = runCli(['explain', 'estab', '--lang', 'fr']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--lang');
    expect(r.stderr).toContain('"fr"');
  });

  it('LANG=zh_CN.UTF-8 selects Chinese without --lang; --lang en wins over it', () => {
    const zh = runCli(['explain', 'close-wait'], { LANG: 'zh_CN.UTF-8' });
    expect(zh.code).toBe(0);
    expect(zh.stdout).toContain(LABELS_ZH.whatToDo);
    expect(zh.stdout).toContain(TEXTS_ZH.CLOSE_WAIT.summary);
    const en = runCli(['explain', 'close-wait', '--lang', 'en'], { LANG: 'zh_CN.UTF-8' });
    expect(en.code).toBe(0);
    expect(en.stdout).toContain(TEXTS_EN.CLOSE_WAIT.summary);
    expect(en.stdout).not.toMatch(CJK);
    const c = runCli(['explain', 'close-wait'], { LANG: 'C.UTF-8' });
    expect(c.stdout).toContain(LABELS_EN.whatToDo);
    expect(c.stdout).not.toMatch(CJK);
  });

  it('NO_COLOR output has no escape characters; forced colour only touches headings', () => {
    const plain = runCli(['explain', 'fin-wait-1'], { NO_COLOR: '1', FORCE_COLOR: '1' });
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toContain(ESC);
    const plainOverview = runCli(['explain', '--lang', 'zh'], { NO_COLOR: '1', FORCE_COLOR: '1' });
    expect(plainOverview.stdout).not.toContain(ESC);

    // The control: the same command with colour forced does colour, so the test above can fail.
    const coloured = runCli(['explain', 'fin-wait-1'], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(coloured.code).toBe(0);
    const lines = coloured.stdout.split('\n');
    expect(lines[0]).toContain(ESC);
    expect(lines[0]).toContain('FIN-WAIT-1');
    const withEsc = lines.filter((l) => l.includes(ESC));
    expect(withEsc.length).toBeGreaterThan(5);
    for (const l of withEsc) expect(l.startsWith(ESC), JSON.stringify(l)).toBe(true);
    expect(lines.find((l) => l.includes(TEXTS_EN.FIN_WAIT_1.summary))).not.toContain(ESC);
  });

  it('explain with no state: all 11 states in diagram order within 100 columns', () => {
    const r = runCli(['explain']);
    expect(r.code).toBe(0);
    let last = -1;
    for (const s of TCP_STATES) {
      const at = r.stdout.indexOf(`\n${STATE_INFO[s].display} (`);
      expect(at, s).toBeGreaterThan(last);
      last = at;
    }
    for (const line of r.stdout.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(100);
  });

  it('--json: one state', () => {
    const r = runCli(['explain', 'estab', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown> & {
      neighbours: { incoming: Array<Record<string, unknown>>; outgoing: Array<Record<string, unknown>> };
    };
    expect(doc).toMatchObject({ lang: 'en', state: 'ESTABLISHED', display: 'ESTABLISHED', ss: 'ESTAB', linux: 1 });
    expect(doc['summary']).toBe(TEXTS_EN.ESTABLISHED.summary);
    expect(doc.neighbours.incoming.map((e) => e['from'])).toEqual(expect.arrayContaining(['SYN_SENT', 'SYN_RECEIVED']));
    expect(doc.neighbours.outgoing.map((e) => e['to'])).toEqual(expect.arrayContaining(['FIN_WAIT_1', 'CLOSE_WAIT', 'CLOSED']));
  });

  it('--json --lang zh: every state', () => {
    const r = runCli(['explain', '--json', '--lang', 'zh']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { lang: string; states: Array<{ state: string; meaning: string }> };
    expect(doc.lang).toBe('zh');
    expect(doc.states.map((s) => s.state)).toEqual([...TCP_STATES]);
    for (const s of doc.states) expect(s.meaning).toMatch(CJK);
  });
});
