/**
 * The diagram is the transition table: every main rule appears in every format, --all
 * adds the rest, and no arrow exists that the table lacks.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TRANSITIONS, type TransitionRule } from '../../src/core/transitions.js';
import { renderDot } from '../../src/diagram/dot.js';
import { diagramEdges, edgeNodes, layoutProblems, ruleLabel } from '../../src/diagram/layout.js';
import { renderSvg } from '../../src/diagram/svg.js';
import { HIGHLIGHT_MARK, renderText } from '../../src/diagram/text.js';

const RULES: readonly TransitionRule[] = TRANSITIONS;

const IN_CI = process.env['CI'] === 'true';

/**
 * Whether a system tool is installed. Missing on a laptop: the test is skipped with a
 * loud warning. Missing under CI=true: the test runs and fails (see requireTool).
 */
function hasTool(tool: string, pkg: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
  if (!found && !IN_CI) {
    console.warn(`\n*** SKIPPING: \`${tool}\` is not installed (Debian package ${pkg}); the check against the real tool did not run ***\n`);
  }
  return found;
}

function requireTool(found: boolean, tool: string, pkg: string): void {
  if (!found) throw new Error(`${tool} is required when CI=true: apt-get install -y ${pkg}`);
}

const HAS_DOT = hasTool('dot', 'graphviz');
const HAS_XMLLINT = hasTool('xmllint', 'libxml2-utils');

/** `A -> B` pairs of a DOT document, mapped back to state ids (CLOSED_END is CLOSED). */
function dotPairs(dot: string): Set<string> {
  const pairs = new Set<string>();
  for (const m of dot.matchAll(/^\s+([A-Z_0-9]+) -> ([A-Z_0-9]+) /gm)) {
    pairs.add(`${m[1]}>${(m[2] ?? '').replace('CLOSED_END', 'CLOSED')}`);
  }
  return pairs;
}

describe('diagram from the transition table', () => {
  it('the layout has one box per state, no two in a cell', () => {
    expect(layoutProblems()).toEqual([]);
  });

  for (const all of [false, true]) {
    const edges = diagramEdges({ all });
    const wanted = RULES.filter((r) => all || r.main);

    it(`${all ? '--all' : 'default'}: every rule is on an arrow from each of its states`, () => {
      for (const r of wanted) {
        for (const from of r.from) {
          expect(edges.some((e) => e.from === from && e.to === r.to && e.rules.includes(r)), `${r.id} from ${from}`).toBe(true);
        }
      }
      const count = edges.reduce((n, e) => n + e.rules.length, 0);
      expect(count).toBe(wanted.reduce((n, r) => n + r.from.length, 0));
    });

    it(`${all ? '--all' : 'default'}: text, dot and svg show every rule's label`, () => {
      const text = renderText(edges, { width: 200 });
      const dot = renderDot(edges);
      const svg = renderSvg(edges);
      for (const r of wanted) {
        expect(text).toContain(r.event);
        expect(dot).toContain(r.event.replace(/"/g, '\\"'));
        expect(svg).toContain(ruleLabel(r).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
      }
    });

    it(`${all ? '--all' : 'default'}: dot has no arrow the table lacks`, () => {
      const tablePairs = new Set(wanted.flatMap((r) => r.from.map((f) => `${f}>${r.to}`)));
      const pairs = dotPairs(renderDot(edges));
      expect(pairs.size).toBeGreaterThan(0);
      for (const p of pairs) expect(tablePairs.has(p), p).toBe(true);
      expect(pairs).toEqual(tablePairs);
    });
  }

  it('default hides resets and Linux-only rules; --all draws them dashed', () => {
    expect(renderDot(diagramEdges())).not.toContain('dashed');
    const all = renderDot(diagramEdges({ all: true }));
    expect(all).toContain('dashed');
    expect(all).toContain('[linux]');
    expect(renderDot(diagramEdges({ all: true, profile: 'rfc' }))).not.toContain('[linux]');
  });

  it('highlight marks only the requested state in text and svg', () => {
    const edges = diagramEdges();
    const text = renderText(edges, { highlight: 'TIME_WAIT', width: 200 });
    const marked = text.split('\n').filter((l) => l.startsWith(HIGHLIGHT_MARK));
    expect(marked.some((l) => l.includes('TIME-WAIT'))).toBe(true);
    for (const l of marked) expect(l.includes('TIME-WAIT') || l.includes('─')).toBe(true);
    expect(text.split('\n').filter((l) => l.includes('│   LISTEN') && l.startsWith(HIGHLIGHT_MARK))).toEqual([]);
    const svg = renderSvg(edges, { highlight: 'TIME_WAIT' });
    const states = [...svg.matchAll(/class="state highlight" data-state="([A-Z_]+)"/g)].map((m) => m[1]);
    expect(new Set(states)).toEqual(new Set(['TIME_WAIT']));
    const hlEdges = [...svg.matchAll(/class="edge highlight" data-from="([A-Z_0-9]+)" data-to="([A-Z_0-9]+)"/g)];
    expect(hlEdges.length).toBeGreaterThan(0);
    for (const m of hlEdges) expect(m[1] === 'TIME_WAIT' || m[2] === 'TIME_WAIT').toBe(true);
  });

  it('every arrow connects two boxes of the layout', () => {
    for (const e of diagramEdges({ all: true })) {
      const { from, to } = edgeNodes(e);
      expect(from.state).toBe(e.from);
      expect(to.state).toBe(e.to);
    }
  });

  it.skipIf(!HAS_DOT && !IN_CI)('Graphviz accepts the DOT output', () => {
    requireTool(HAS_DOT, 'dot', 'graphviz');
    for (const all of [false, true]) {
      const r = spawnSync('dot', ['-Tsvg'], { input: renderDot(diagramEdges({ all }), { highlight: 'CLOSE_WAIT' }), encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('<svg');
    }
  });

  it.skipIf(!HAS_XMLLINT && !IN_CI)('the SVG is well-formed XML (xmllint)', () => {
    requireTool(HAS_XMLLINT, 'xmllint', 'libxml2-utils');
    for (const all of [false, true]) {
      const r = spawnSync('xmllint', ['--noout', '-'], { input: renderSvg(diagramEdges({ all }), { highlight: 'ESTABLISHED' }), encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});
