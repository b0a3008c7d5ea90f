/**
 * Each output format, parsed back, shows exactly the transition table: one arrow per
 * (rule, from-state) with the rule's label, dashed iff the rule is outside the classic
 * figure, and nothing else. The expectations iterate TRANSITIONS, so a rule added to
 * the table that a renderer fails to draw makes these tests fail.
 */
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { parseState, STATE_INFO, type TcpState } from '../../src/core/states.js';
import { TRANSITIONS, type TransitionRule } from '../../src/core/transitions.js';
import { renderDot } from '../../src/diagram/dot.js';
import { diagramEdges, nodesOf, ruleDisplayLabel } from '../../src/diagram/layout.js';
import { renderSvg } from '../../src/diagram/svg.js';
import { HIGHLIGHT_MARK, renderText } from '../../src/diagram/text.js';

const RULES: readonly TransitionRule[] = TRANSITIONS;

/** `from>to>rule-id>dashed` for every rule the diagram should draw. */
function expected(all: boolean): Set<string> {
  const s = new Set<string>();
  for (const r of RULES) {
    if (!all && !r.main) continue;
    for (const f of r.from) s.add(`${f}>${r.to}>${r.id}>${r.main ? 'solid' : 'dashed'}`);
  }
  return s;
}

/** Same, keyed by label instead of id (the text output has no ids). */
function expectedLabels(all: boolean): Set<string> {
  const s = new Set<string>();
  for (const r of RULES) {
    if (!all && !r.main) continue;
    for (const f of r.from) s.add(`${f}>${r.to}>${ruleDisplayLabel(r)}>${r.main ? 'solid' : 'dashed'}`);
  }
  return s;
}

/** Reads the text rendering back: box lines open a state, arrow lines give label + target. */
function parseText(text: string): { arrows: Set<string>; marked: string[] } {
  const arrows = new Set<string>();
  const marked: string[] = [];
  let state: TcpState | undefined;
  let pending: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(HIGHLIGHT_MARK)) marked.push(line);
    const box = /^.{3}│\s+([A-Z0-9-]+)\s+│/.exec(line);
    if (box?.[1] !== undefined) {
      state = parseState(box[1]);
      continue;
    }
    const arrow = /^.{3}  [├└│ ][─ ] (.*?) ([─╌]+)(?:[┐┤]|┴[─╌]▶ (\S+)|▶ (\S+))$/.exec(line);
    if (arrow === null || state === undefined) continue;
    const fill = arrow[2] ?? '';
    pending.push(`${arrow[1] ?? ''}>${fill.startsWith('╌') ? 'dashed' : 'solid'}`);
    const target = arrow[3] ?? arrow[4];
    if (target !== undefined) {
      const to = parseState(target);
      for (const p of pending) {
        const [label, dash] = p.split('>');
        arrows.add(`${state}>${to}>${label ?? ''}>${dash ?? ''}`);
      }
      pending = [];
    }
  }
  expect(pending, 'labels without a target').toEqual([]);
  return { arrows, marked };
}

interface DotEdge {
  readonly from: TcpState;
  readonly to: TcpState;
  readonly attrs: string;
}

/** Reads the DOT rendering back: node ids → states through their labels, then every edge. */
function parseDot(dot: string): { edges: DotEdge[]; nodes: Map<string, { state: TcpState; attrs: string }> } {
  const nodes = new Map<string, { state: TcpState; attrs: string }>();
  for (const m of dot.matchAll(/^ {2}([A-Za-z_][A-Za-z_0-9]*) \[label="([^"]+)"(.*)\];$/gm)) {
    if (m[1] === 'graph' || m[1] === 'node' || m[1] === 'edge') continue;
    nodes.set(m[1] ?? '', { state: parseState(m[2] ?? ''), attrs: m[3] ?? '' });
  }
  const edges: DotEdge[] = [];
  for (const m of dot.matchAll(/^ {2}([A-Za-z_0-9]+) -> ([A-Za-z_0-9]+) \[(.*)\];$/gm)) {
    const from = nodes.get(m[1] ?? '');
    const to = nodes.get(m[2] ?? '');
    expect(from, `edge from undeclared node ${m[1]}`).toBeDefined();
    expect(to, `edge to undeclared node ${m[2]}`).toBeDefined();
    if (from !== undefined && to !== undefined) edges.push({ from: from.state, to: to.state, attrs: m[3] ?? '' });
  }
  return { edges, nodes };
}

/** A small XML well-formedness check: balanced tags, quoted attributes, known entities. */
function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let roots = 0;
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    if (between.includes('<') || between.includes('>')) problems.push(`stray markup near offset ${last}: ${between.slice(0, 40)}`);
    for (const e of between.matchAll(/&([^;\s]*);?/g)) {
      if (!/^(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+)$/.test(e[1] ?? '') || !e[0].endsWith(';')) problems.push(`bad entity ${e[0]}`);
    }
    const [, close, name, , selfClose] = m;
    if (close === '/') {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
    } else if (selfClose !== '/') {
      if (stack.length === 0) roots += 1;
      stack.push(name ?? '');
    } else if (stack.length === 0) roots += 1;
    last = tag.lastIndex;
  }
  if (body.slice(last).trim() !== '') problems.push('text after the root element');
  if (stack.length > 0) problems.push(`unclosed ${stack.join(', ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

describe('every format shows exactly the transition table', () => {
  for (const all of [false, true]) {
    const mode = all ? '--all' : 'default';
    const edges = diagramEdges({ all });

    it(`${mode}: text arrows = table rules (labels, targets, dashed iff not main)`, () => {
      const { arrows } = parseText(renderText(edges));
      expect(arrows).toEqual(expectedLabels(all));
    });

    it(`${mode}: dot edges = table rules (tooltips name the rules, dashed iff not main)`, () => {
      const { edges: dotEdges } = parseDot(renderDot(edges));
      const seen = new Set<string>();
      for (const e of dotEdges) {
        const ids = /tooltip="rules: ([^"]+)"/.exec(e.attrs)?.[1]?.split(', ') ?? [];
        expect(ids.length, e.attrs).toBeGreaterThan(0);
        const dashed = e.attrs.includes('style="dashed"');
        for (const id of ids) {
          const rule = RULES.find((r) => r.id === id);
          expect(rule, id).toBeDefined();
          expect(e.attrs).toContain(ruleDisplayLabel(rule ?? RULES[0]!).replace(/"/g, '\\"'));
          seen.add(`${e.from}>${e.to}>${id}>${dashed ? 'dashed' : 'solid'}`);
        }
      }
      expect(seen).toEqual(expected(all));
    });

    it(`${mode}: svg paths = table rules, each with its label`, () => {
      const svg = renderSvg(edges);
      const seen = new Set<string>();
      for (const m of svg.matchAll(/<path class="edge[^"]*" data-from="([A-Z_0-9]+)" data-to="([A-Z_0-9]+)" data-rules="([^"]+)"([^>]*)>/g)) {
        const dashed = (m[4] ?? '').includes('stroke-dasharray');
        for (const id of (m[3] ?? '').split(' ')) seen.add(`${m[1]}>${m[2]}>${id}>${dashed ? 'dashed' : 'solid'}`);
      }
      expect(seen).toEqual(expected(all));
      for (const r of RULES.filter((x) => all || x.main)) {
        const group = [...svg.matchAll(/<g class="label[^"]*" data-rules="([^"]+)">(.*?)<\/g>/g)].filter((g) =>
          (g[1] ?? '').split(' ').includes(r.id),
        );
        expect(group.length, r.id).toBe(r.from.length);
        for (const g of group) expect(g[2]).toContain(`>${ruleDisplayLabel(r).replace(/&/g, '&amp;').replace(/</g, '&lt;')}<`);
      }
    });

    it(`${mode}: svg is well-formed XML`, () => {
      expect(xmlProblems(renderSvg(edges, { highlight: 'ESTABLISHED' }))).toEqual([]);
    });

    it(`${mode}: text fits 100 columns and has a box per state`, () => {
      const text = renderText(edges, { highlight: 'CLOSED' });
      for (const line of text.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(100);
      for (const s of Object.values(STATE_INFO)) expect(text).toMatch(new RegExp(`│\\s+${s.display}\\s+│`));
    });
  }

  it('the well-formedness check itself catches broken XML', () => {
    expect(xmlProblems('<svg><g></svg>')).not.toEqual([]);
    expect(xmlProblems('<svg><text>a & b</text></svg>')).not.toEqual([]);
    expect(xmlProblems('<svg><text>a &amp; b</text></svg>')).toEqual([]);
  });

  it('the profile option leaves out Linux-only rules', () => {
    const rfc = diagramEdges({ all: true, profile: 'rfc' });
    expect(rfc.flatMap((e) => e.rules).some((r) => r.profile === 'linux')).toBe(false);
    const linux = diagramEdges({ all: true });
    const linuxRules = RULES.filter((r) => r.profile === 'linux');
    expect(linuxRules.length).toBeGreaterThan(0);
    for (const r of linuxRules) expect(linux.some((e) => e.rules.includes(r)), r.id).toBe(true);
  });
});

describe('--highlight marks one state and only its arrows', () => {
  const states = Object.keys(STATE_INFO) as TcpState[];
  for (const hl of states) {
    it(`${hl}: text, dot and svg`, () => {
      const edges = diagramEdges({ all: true });
      const touching = edges.filter((e) => e.from === hl || e.to === hl);

      // Text: the marked lines are the state's box and the arrow lines touching it.
      const text = renderText(edges, { highlight: hl });
      const { marked } = parseText(text);
      const boxes = marked.filter((l) => /│\s+[A-Z0-9-]+\s+│/.test(l));
      expect(boxes.length).toBe(1);
      expect(boxes[0]).toContain(STATE_INFO[hl].display);
      const markedTargets = marked.map((l) => /▶ (\S+)$/.exec(l)?.[1]).filter((t) => t !== undefined);
      expect(markedTargets.length).toBe(touching.length);
      const unmarked = text.split('\n').filter((l) => !l.startsWith(HIGHLIGHT_MARK) && / (\S+)$/.test(l) && l.includes('▶'));
      for (const l of unmarked) expect(l.endsWith(`▶ ${STATE_INFO[hl].display}`), l).toBe(false);

      // DOT: only the state's nodes are bold, only touching edges are coloured.
      const { edges: dotEdges, nodes } = parseDot(renderDot(edges, { highlight: hl }));
      for (const [key, n] of nodes) expect(n.attrs.includes('penwidth'), key).toBe(n.state === hl);
      expect(nodes.size).toBeGreaterThan(0);
      expect([...nodes.values()].filter((n) => n.state === hl).length).toBe(nodesOf(hl).length);
      for (const e of dotEdges) expect(e.attrs.includes('penwidth'), `${e.from}->${e.to}`).toBe(e.from === hl || e.to === hl);

      // SVG: same rule.
      const svg = renderSvg(edges, { highlight: hl });
      const hlStates = [...svg.matchAll(/<g class="state highlight" data-state="([A-Z_0-9]+)"/g)].map((m) => m[1]);
      expect(hlStates.length).toBe(nodesOf(hl).length);
      for (const s of hlStates) expect(s).toBe(hl);
      const paths = [...svg.matchAll(/<path class="(edge[^"]*)" data-from="([A-Z_0-9]+)" data-to="([A-Z_0-9]+)"/g)];
      expect(paths.length).toBe(edges.length);
      for (const p of paths) expect(p[1] === 'edge highlight', `${p[2]}->${p[3]}`).toBe(p[2] === hl || p[3] === hl);
    });
  }

  it('colour only when asked: ESC bytes with a colour style, none without', () => {
    const edges = diagramEdges();
    expect(renderText(edges, { highlight: 'LISTEN', style: pc.createColors(true) })).toContain('\u001b[');
    expect(renderText(edges, { highlight: 'LISTEN', style: pc.createColors(false) })).not.toContain('\u001b[');
    expect(renderText(edges, { highlight: 'LISTEN' })).not.toContain('\u001b[');
  });
});
