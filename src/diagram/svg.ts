/**
 * The state diagram as a self-contained SVG drawn from the layout grid (no Graphviz
 * needed): a rounded box per layout node (RFC 9293 Figure 5's arrangement), a curve per
 * arrow from `diagramEdges()` with an arrowhead, and its labels ("event / snd sends")
 * on a white plate next to the curve. Arrows outside the classic figure are dashed;
 * `highlight` paints one state's boxes and the arrows entering or leaving it.
 *
 * Routing is a small search, not hand-drawn: each arrow is a quadratic curve whose bend
 * is the smallest one (trying both sides) that keeps it clear of every other box and
 * apart from arrows between the same two boxes; each label takes the first spot along
 * its curve that overlaps no box and no earlier label.
 *
 * Limitations: arrows may still cross each other, and with `--all` (many arrows into
 * CLOSED) a label that finds no free spot is drawn where it overlaps least;
 * `--format dot | dot -Tsvg` gives Graphviz's routing instead.
 */
import type { TcpState } from '../core/states.js';
import { HIGHLIGHT_COLOUR } from './dot.js';
import {
  displayName,
  edgeNodes,
  ruleDisplayLabel,
  LAYOUT_COLUMNS,
  LAYOUT_NODES,
  LAYOUT_ROWS,
  type DiagramEdge,
  type LayoutNode,
} from './layout.js';

export interface SvgOptions {
  readonly highlight?: TcpState | undefined;
}

interface Pt {
  readonly x: number;
  readonly y: number;
}

interface Rect {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

const BOX_W = 150;
const BOX_H = 38;
const MARGIN = 40;
const TITLE_H = 30;
const LINE_H = 12;
const CHAR_W = 5.6;
const INK = '#333333';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function n1(v: number): string {
  return v.toFixed(1);
}

function quad(a: Pt, c: Pt, b: Pt, t: number): Pt {
  const u = 1 - t;
  return { x: u * u * a.x + 2 * u * t * c.x + t * t * b.x, y: u * u * a.y + 2 * u * t * c.y + t * t * b.y };
}

function inside(p: Pt, r: Rect, pad = 0): boolean {
  return p.x > r.x0 - pad && p.x < r.x1 + pad && p.y > r.y0 - pad && p.y < r.y1 + pad;
}

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

/** The parameter where the curve crosses the border of `box`, searching from `tIn` (inside) to `tOut`. */
function crossing(a: Pt, c: Pt, b: Pt, box: Rect, tIn: number, tOut: number): number {
  let lo = tIn;
  let hi = tOut;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (inside(quad(a, c, b, mid), box)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The sub-curve of a quadratic between t0 and t1: B(t0), B(t0) + (t1 - t0)·B'(t0)/2, B(t1). */
function subCurve(a: Pt, c: Pt, b: Pt, t0: number, t1: number): { a: Pt; c: Pt; b: Pt } {
  const p0 = quad(a, c, b, t0);
  const k = t1 - t0;
  const half: Pt = {
    x: (1 - t0) * (c.x - a.x) + t0 * (b.x - c.x),
    y: (1 - t0) * (c.y - a.y) + t0 * (b.y - c.y),
  };
  return { a: p0, c: { x: p0.x + k * half.x, y: p0.y + k * half.y }, b: quad(a, c, b, t1) };
}

export function renderSvg(edges: readonly DiagramEdge[], options: SvgOptions = {}): string {
  const hl = options.highlight;
  const dense = edges.some((e) => !e.main);
  const cellW = dense ? 360 : 300;
  const cellH = dense ? 150 : 110;
  const width = MARGIN * 2 + LAYOUT_COLUMNS * cellW;
  const height = MARGIN * 2 + TITLE_H + LAYOUT_ROWS * cellH;

  const centre = (n: LayoutNode): Pt => ({
    x: MARGIN + n.col * cellW + cellW / 2,
    y: MARGIN + TITLE_H + n.row * cellH + cellH / 2,
  });
  const boxOf = (n: LayoutNode): Rect => {
    const c = centre(n);
    return { x0: c.x - BOX_W / 2, y0: c.y - BOX_H / 2, x1: c.x + BOX_W / 2, y1: c.y + BOX_H / 2 };
  };
  const boxes = new Map(LAYOUT_NODES.map((n) => [n.key, boxOf(n)] as const));
  const canvas: Rect = { x0: 2, y0: MARGIN + TITLE_H / 2, x1: width - 2, y1: height - 2 };

  // Route the arrows: for each, the smallest bend clear of other boxes and of its twins.
  const OFFSETS = [0, 30, -30, 60, -60, 90, -90, 130, -130, 170, -170, 220, -220];
  /** Bends already used between two boxes, measured in the pair's canonical orientation. */
  const usedBends = new Map<string, number[]>();
  interface Routed {
    readonly edge: DiagramEdge;
    readonly a: Pt;
    readonly c: Pt;
    readonly b: Pt;
  }
  const routed: Routed[] = [];
  for (const edge of edges) {
    const { from, to } = edgeNodes(edge);
    const pa = centre(from);
    const pb = centre(to);
    const len = Math.hypot(pb.x - pa.x, pb.y - pa.y) || 1;
    const normal: Pt = { x: -(pb.y - pa.y) / len, y: (pb.x - pa.x) / len };
    const canonical = from.key < to.key;
    const pairKey = canonical ? `${from.key}|${to.key}` : `${to.key}|${from.key}`;
    const used = usedBends.get(pairKey) ?? [];
    const others = LAYOUT_NODES.filter((n) => n !== from && n !== to).map((n) => boxes.get(n.key) ?? boxOf(n));
    let best: { off: number; cost: number } | undefined;
    for (const off of OFFSETS) {
      const signed = canonical ? off : -off;
      if (used.some((u) => Math.abs(u - signed) < 30)) continue;
      const c: Pt = { x: (pa.x + pb.x) / 2 + normal.x * off * 2, y: (pa.y + pb.y) / 2 + normal.y * off * 2 };
      let hits = 0;
      for (let t = 0.02; t < 0.99; t += 0.02) {
        const p = quad(pa, c, pb, t);
        if (!inside(p, canvas)) hits += 1;
        for (const r of others) if (inside(p, r, 8)) hits += 1;
      }
      const cost = hits * 1000 + Math.abs(off);
      if (best === undefined || cost < best.cost) best = { off, cost };
      if (hits === 0) break;
    }
    const off = best?.off ?? 0;
    used.push(canonical ? off : -off);
    usedBends.set(pairKey, used);
    const c: Pt = { x: (pa.x + pb.x) / 2 + normal.x * off * 2, y: (pa.y + pb.y) / 2 + normal.y * off * 2 };
    const fromBox = boxes.get(from.key) ?? boxOf(from);
    const toBox = boxes.get(to.key) ?? boxOf(to);
    const t0 = crossing(pa, c, pb, fromBox, 0, 1);
    const t1 = 1 - crossing(pb, c, pa, toBox, 0, 1);
    const sub = subCurve(pa, c, pb, t0, t1);
    routed.push({ edge, ...sub });
  }

  // Place the labels: the first spot along the curve that is free, else the least crowded.
  const taken: Rect[] = [...boxes.values()].map((r) => ({ x0: r.x0 - 4, y0: r.y0 - 4, x1: r.x1 + 4, y1: r.y1 + 4 }));
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
  );
  out.push('  <title>TCP connection states (RFC 9293 Figure 5), generated by tcpstate diagram from the transition table</title>');
  out.push('  <defs>');
  for (const [id, colour] of [
    ['arrow', INK],
    ['arrow-hl', HIGHLIGHT_COLOUR],
  ] as const) {
    out.push(
      `    <marker id="${id}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="${colour}"/></marker>`,
    );
  }
  out.push('  </defs>');
  out.push(`  <rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `  <text x="${width / 2}" y="${MARGIN}" text-anchor="middle" font-size="16" font-weight="bold">TCP connection states (RFC 9293 Figure 5)${dense ? ' with resets, aborts and timeouts (dashed)' : ''}</text>`,
  );

  out.push('  <g class="edges" fill="none">');
  const labelOut: string[] = [];
  for (const r of routed) {
    const { edge } = r;
    const touches = hl !== undefined && (edge.from === hl || edge.to === hl);
    const colour = touches ? HIGHLIGHT_COLOUR : INK;
    const dash = edge.main ? '' : ' stroke-dasharray="6 4"';
    const ids = edge.rules.map((rule) => rule.id).join(' ');
    out.push(
      `    <path class="edge${touches ? ' highlight' : ''}" data-from="${edge.from}" data-to="${edge.to}" data-rules="${esc(ids)}" d="M ${n1(r.a.x)} ${n1(r.a.y)} Q ${n1(r.c.x)} ${n1(r.c.y)} ${n1(r.b.x)} ${n1(r.b.y)}" stroke="${colour}" stroke-width="${touches ? 2.5 : 1.2}"${dash} marker-end="url(#${touches ? 'arrow-hl' : 'arrow'})"/>`,
    );

    const lines = edge.rules.map((rule) => ruleDisplayLabel(rule));
    const w = Math.max(...lines.map((l) => l.length)) * CHAR_W + 8;
    const h = lines.length * LINE_H + 4;
    let spot: { rect: Rect; cost: number } | undefined;
    for (const t of [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.2, 0.8]) {
      const p = quad(r.a, r.c, r.b, t);
      for (const [dx, dy] of [
        [0, 0],
        [w / 2 + 4, 0],
        [-w / 2 - 4, 0],
        [0, h / 2 + 4],
        [0, -h / 2 - 4],
      ] as const) {
        const rect: Rect = { x0: p.x + dx - w / 2, y0: p.y + dy - h / 2, x1: p.x + dx + w / 2, y1: p.y + dy + h / 2 };
        let cost = taken.reduce((sum, q) => sum + overlap(rect, q), 0);
        if (rect.x0 < 0 || rect.x1 > width || rect.y1 > height) cost += 1e6;
        // Prefer the curve's middle and labels sitting on their own curve.
        cost += Math.abs(t - 0.5) * 20 + (dx !== 0 || dy !== 0 ? 15 : 0);
        if (spot === undefined || cost < spot.cost) spot = { rect, cost };
      }
      if (spot !== undefined && spot.cost < 40) break;
    }
    if (spot === undefined) continue;
    const rect = spot.rect;
    taken.push(rect);
    const cx = (rect.x0 + rect.x1) / 2;
    const textColour = touches ? HIGHLIGHT_COLOUR : '#222222';
    labelOut.push(
      `    <g class="label${touches ? ' highlight' : ''}" data-rules="${esc(ids)}"><rect x="${n1(rect.x0)}" y="${n1(rect.y0)}" width="${n1(w)}" height="${n1(h)}" rx="3" fill="#ffffff" fill-opacity="0.88"${edge.main ? '' : ' stroke="#bbbbbb" stroke-dasharray="3 2"'}/>` +
        lines
          .map(
            (line, i) =>
              `<text x="${n1(cx)}" y="${n1(rect.y0 + 2 + (i + 1) * LINE_H - 2.5)}" text-anchor="middle" font-size="10" fill="${textColour}">${esc(line)}</text>`,
          )
          .join('') +
        '</g>',
    );
  }
  out.push('  </g>');

  out.push('  <g class="states">');
  for (const node of LAYOUT_NODES) {
    const c = centre(node);
    const on = node.state === hl;
    out.push(
      `    <g class="state${on ? ' highlight' : ''}" data-state="${node.state}"><rect x="${c.x - BOX_W / 2}" y="${c.y - BOX_H / 2}" width="${BOX_W}" height="${BOX_H}" rx="8" fill="${on ? '#fde8e8' : '#f4f6fb'}" stroke="${on ? HIGHLIGHT_COLOUR : '#334466'}" stroke-width="${on ? 3 : 1.5}"/><text x="${c.x}" y="${c.y + 5}" text-anchor="middle" font-size="14" font-weight="bold" fill="${on ? HIGHLIGHT_COLOUR : '#1a2233'}">${esc(displayName(node.state))}</text></g>`,
    );
  }
  out.push('  </g>');
  out.push('  <g class="labels">');
  out.push(...labelOut);
  out.push('  </g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
