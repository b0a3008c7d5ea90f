/**
 * The state diagram's data: where each state sits (RFC 9293 §3.3.2 Figure 5) and which
 * arrows join them.
 *
 * Only the positions are written by hand. The arrows are computed from `TRANSITIONS`
 * (src/core/transitions.ts), the same table the endpoint model moves along, so the
 * diagram cannot show an edge the model cannot take, nor miss one it can.
 *
 * Like the RFC figure, CLOSED is drawn twice: once at the top (where connections begin,
 * and where unsynchronized states return) and once at the bottom (where synchronized
 * connections end). Both boxes are the one state CLOSED.
 */
import { STATE_INFO, TCP_STATES, type TcpState } from '../core/states.js';
import { TRANSITIONS, type TransitionRule } from '../core/transitions.js';

/** One box of the diagram, on a grid of `LAYOUT_COLUMNS` columns and `LAYOUT_ROWS` rows. */
export interface LayoutNode {
  /** Unique node id (a valid DOT id): the state id, or `CLOSED_END` for the bottom CLOSED. */
  readonly key: string;
  readonly state: TcpState;
  readonly row: number;
  readonly col: number;
}

export const LAYOUT_COLUMNS = 3;
export const LAYOUT_ROWS = 8;

/** Top to bottom, left to right: the reading order of the figure and of the text output. */
export const LAYOUT_NODES: readonly LayoutNode[] = [
  { key: 'CLOSED', state: 'CLOSED', row: 0, col: 1 },
  { key: 'LISTEN', state: 'LISTEN', row: 1, col: 1 },
  { key: 'SYN_RECEIVED', state: 'SYN_RECEIVED', row: 2, col: 0 },
  { key: 'SYN_SENT', state: 'SYN_SENT', row: 2, col: 2 },
  { key: 'ESTABLISHED', state: 'ESTABLISHED', row: 3, col: 1 },
  { key: 'FIN_WAIT_1', state: 'FIN_WAIT_1', row: 4, col: 0 },
  { key: 'CLOSE_WAIT', state: 'CLOSE_WAIT', row: 4, col: 2 },
  { key: 'FIN_WAIT_2', state: 'FIN_WAIT_2', row: 5, col: 0 },
  { key: 'CLOSING', state: 'CLOSING', row: 5, col: 1 },
  { key: 'LAST_ACK', state: 'LAST_ACK', row: 5, col: 2 },
  { key: 'TIME_WAIT', state: 'TIME_WAIT', row: 6, col: 1 },
  { key: 'CLOSED_END', state: 'CLOSED', row: 7, col: 1 },
];

/** Which rules a diagram includes: `linux` (default) keeps Linux-only rules, `rfc` drops them. */
export type DiagramProfile = 'rfc' | 'linux';

export interface DiagramOptions {
  /** Add the rules outside the classic figure (resets, aborts, timeouts, Linux-only). */
  readonly all?: boolean | undefined;
  readonly profile?: DiagramProfile | undefined;
}

/** One arrow: every rule of the table going `from → to`, with the same `main` flag. */
export interface DiagramEdge {
  /** Unique per diagram: `FROM->TO`, with `~` appended for non-main arrows. */
  readonly key: string;
  readonly from: TcpState;
  readonly to: TcpState;
  /** True for the classic figure's arrows; false for resets, aborts, timeouts (drawn dashed). */
  readonly main: boolean;
  /** The table's rules, in table order; one label each. */
  readonly rules: readonly TransitionRule[];
}

/** A rule's label in the RFC figure's style: `rcv SYN / snd SYN,ACK`, `CLOSE`. */
export function ruleLabel(rule: TransitionRule): string {
  return rule.sends === '' ? rule.event : `${rule.event} / snd ${rule.sends}`;
}

/** The label with a `[linux]` suffix for rules only the Linux profile has. */
export function ruleDisplayLabel(rule: TransitionRule): string {
  return rule.profile === 'linux' ? `${ruleLabel(rule)} [linux]` : ruleLabel(rule);
}

export function displayName(state: TcpState): string {
  return STATE_INFO[state].display;
}

function layoutIndex(node: LayoutNode): number {
  return LAYOUT_NODES.indexOf(node);
}

function firstNodeOf(state: TcpState): LayoutNode {
  const node = LAYOUT_NODES.find((n) => n.state === state);
  if (node === undefined) throw new Error(`layout has no box for ${state}`);
  return node;
}

/** The boxes an arrow leaves and enters (chooses between the two CLOSED boxes). */
export function edgeNodes(edge: Pick<DiagramEdge, 'from' | 'to'>): { readonly from: LayoutNode; readonly to: LayoutNode } {
  const from = firstNodeOf(edge.from);
  let to = firstNodeOf(edge.to);
  // A state with two boxes (CLOSED): synchronized connections end at the last box,
  // unsynchronized ones (LISTEN, SYN-SENT, SYN-RECEIVED) return to the first.
  if (STATE_INFO[edge.from].synchronized) {
    const last = LAYOUT_NODES.filter((n) => n.state === edge.to).at(-1);
    if (last !== undefined) to = last;
  }
  return { from, to };
}

/** The layout boxes of one state (two for CLOSED). */
export function nodesOf(state: TcpState): readonly LayoutNode[] {
  return LAYOUT_NODES.filter((n) => n.state === state);
}

/**
 * The arrows of the diagram, computed from `TRANSITIONS`: by default only the rules of
 * the classic figure (`main`); with `all`, also resets, aborts, timeouts and (unless
 * `profile: 'rfc'`) Linux-only rules. A rule with several `from` states gives one arrow
 * per state; rules sharing `from`, `to` and `main` share one arrow with several labels.
 * Order: by the source box's reading order, main arrows first, then table order.
 */
export function diagramEdges(options: DiagramOptions = {}): DiagramEdge[] {
  const all = options.all ?? false;
  const profile = options.profile ?? 'linux';
  const groups = new Map<string, { from: TcpState; to: TcpState; main: boolean; rules: TransitionRule[] }>();
  const rules: readonly TransitionRule[] = TRANSITIONS;
  for (const rule of rules) {
    if (!rule.main && !all) continue;
    if (rule.profile !== undefined && rule.profile !== profile) continue;
    for (const from of rule.from) {
      const key = `${from}->${rule.to}${rule.main ? '' : '~'}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { from, to: rule.to, main: rule.main, rules: [rule] });
      else group.rules.push(rule);
    }
  }
  const edges = [...groups.entries()].map(
    ([key, g]): DiagramEdge => ({ key, from: g.from, to: g.to, main: g.main, rules: g.rules }),
  );
  const order = (e: DiagramEdge): number => layoutIndex(edgeNodes(e).from) * 2 + (e.main ? 0 : 1);
  // Array.prototype.sort is stable: arrows with the same source and kind keep table order.
  return edges.sort((a, b) => order(a) - order(b));
}

/** Sanity check used by the tests: every state has a box and no two boxes share a cell. */
export function layoutProblems(): string[] {
  const problems: string[] = [];
  for (const s of TCP_STATES) if (nodesOf(s).length === 0) problems.push(`no box for ${s}`);
  const cells = new Set<string>();
  const keys = new Set<string>();
  for (const n of LAYOUT_NODES) {
    const cell = `${n.row},${n.col}`;
    if (cells.has(cell)) problems.push(`two boxes at ${cell}`);
    if (keys.has(n.key)) problems.push(`duplicate key ${n.key}`);
    if (n.row < 0 || n.row >= LAYOUT_ROWS || n.col < 0 || n.col >= LAYOUT_COLUMNS) problems.push(`${n.key} off the grid`);
    cells.add(cell);
    keys.add(n.key);
  }
  return problems;
}
