/**
 * Rendering for `tcpstate explain`: pure functions, no I/O.
 *
 * - `renderOverview(lang)`: all 11 states in diagram order, a few wrapped lines each.
 * - `renderState(state, lang)`: one state in depth, with its neighbours in the diagram
 *   computed from the transition table (src/core/transitions.ts), so the page and the
 *   model cannot disagree.
 * - `explainJson(state | undefined, lang)`: the same content as plain data.
 *
 * Width is measured in terminal columns: CJK characters count as two, and Chinese text
 * may break between any two characters (but not before closing punctuation).
 */
import {
  LINUX_BOUND_INACTIVE,
  LINUX_NEW_SYN_RECV,
  STATE_INFO,
  TCP_STATES,
  stateAliases,
  tryParseState,
  type TcpState,
} from '../core/states.js';
import { TRANSITIONS, type TransitionRule } from '../core/transitions.js';
import { LABELS_EN, TEXTS_EN, type Labels, type StateText, type StateTexts, type Who } from './texts-en.js';
import { LABELS_ZH, TEXTS_ZH } from './texts-zh.js';

export type ExplainLang = 'en' | 'zh';

export const EXPLAIN_LANGS = ['en', 'zh'] as const satisfies readonly ExplainLang[];

const TEXTS: { readonly [L in ExplainLang]: StateTexts } = { en: TEXTS_EN, zh: TEXTS_ZH };
const LABELS: { readonly [L in ExplainLang]: Labels } = { en: LABELS_EN, zh: LABELS_ZH };

export function stateText(state: TcpState, lang: ExplainLang): StateText {
  return TEXTS[lang][state];
}

export function labels(lang: ExplainLang): Labels {
  return LABELS[lang];
}

// ---------------------------------------------------------------------------------------
// Neighbours, from the transition table
// ---------------------------------------------------------------------------------------

/** `main`: in the classic diagram (RFC 9293 Figure 5); the others are resets, aborts, timeouts. */
export type EdgeKind = 'main' | 'reset' | 'abort' | 'timeout';

export interface Edge {
  readonly rule: string;
  readonly from: TcpState;
  readonly to: TcpState;
  readonly event: string;
  /** What is sent on the way, '' for nothing. */
  readonly sends: string;
  readonly kind: EdgeKind;
  /** Only in the `linux` profile of the model. */
  readonly linuxOnly: boolean;
}

export interface Neighbours {
  /** Edges that end in the state, one per (rule, from) pair; main edges first, then table order. */
  readonly incoming: readonly Edge[];
  /** Edges that leave the state, one per rule; main edges first, then table order. */
  readonly outgoing: readonly Edge[];
}

function edgeKind(rule: TransitionRule): EdgeKind {
  if (rule.main) return 'main';
  if (rule.trigger === 'timer') return 'timeout';
  if (rule.trigger === 'call') return 'abort';
  return 'reset';
}

function toEdge(rule: TransitionRule, from: TcpState): Edge {
  return {
    rule: rule.id,
    from,
    to: rule.to,
    event: rule.event,
    sends: rule.sends,
    kind: edgeKind(rule),
    linuxOnly: rule.profile === 'linux',
  };
}

/** Main edges first; the sort is stable, so table order is kept within each group. */
function mainFirst(edges: Edge[]): Edge[] {
  return edges.sort((a, b) => Number(a.kind !== 'main') - Number(b.kind !== 'main'));
}

export function neighbours(state: TcpState, rules: readonly TransitionRule[] = TRANSITIONS): Neighbours {
  const incoming: Edge[] = [];
  const outgoing: Edge[] = [];
  for (const rule of rules) {
    if (rule.to === state) for (const from of rule.from) incoming.push(toEdge(rule, from));
    if (rule.from.includes(state)) outgoing.push(toEdge(rule, state));
  }
  return { incoming: mainFirst(incoming), outgoing: mainFirst(outgoing) };
}

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

/** The extra Linux numbers a state is reported under (12 NEW_SYN_RECV, 13 BOUND_INACTIVE). */
export function linuxAlso(state: TcpState): readonly number[] {
  if (state === 'SYN_RECEIVED') return [LINUX_NEW_SYN_RECV];
  if (state === 'CLOSED') return [LINUX_BOUND_INACTIVE];
  return [];
}

/** The same folding `parseState` applies: lower case, no `-`, `_` or spaces. */
function fold(s: string): string {
  return s.toLowerCase().replace(/[-_\s]+/g, '');
}

/**
 * Input spellings `parseState` maps to this state: the RFC, ss, netstat and id
 * spellings in lower case, then the extra aliases of the state table.
 */
export function inputSpellings(state: TcpState): readonly string[] {
  const info = STATE_INFO[state];
  const named = [...new Set([info.display, info.ss, info.netstat, info.id].map((s) => s.toLowerCase()))];
  const covered = new Set(named.map(fold));
  const extra = stateAliases().filter((a) => tryParseState(a) === state && !covered.has(a));
  return [...named, ...extra];
}

// ---------------------------------------------------------------------------------------
// Text layout
// ---------------------------------------------------------------------------------------

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function charWide(ch: string): boolean {
  return isWide(ch.codePointAt(0) ?? 0);
}

/** Terminal columns taken by `s` (no escape sequences expected). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWide(ch) ? 2 : 1;
  return w;
}

function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

/** Never start a line with these. */
const CLOSING = new Set([...'，。、；：！？）」』》〉】”’…,.;:!?)]}%']);
/** Never end a line with these. */
const OPENING = new Set([...'（「『《〈【“‘']);

interface Token {
  readonly text: string;
  /** Whitespace came before it in the source; rendered as one space unless at a line start. */
  readonly space: boolean;
}

/**
 * Splits a paragraph into unbreakable pieces: runs of non-space narrow characters,
 * single wide characters (with any opening punctuation before and closing punctuation
 * after them glued on), and `code spans`, which never break.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let cur = '';
  let curSpace = false;
  let pendingSpace = false;
  let inCode = false;
  const flush = (): void => {
    if (cur !== '') tokens.push({ text: cur, space: curSpace });
    cur = '';
  };
  const push = (ch: string): void => {
    if (cur === '') {
      curSpace = pendingSpace;
      pendingSpace = false;
    }
    cur += ch;
  };
  const onlyOpening = (s: string): boolean => s !== '' && [...s].every((c) => OPENING.has(c));
  const endsWide = (s: string): boolean => {
    const last = [...s].pop();
    return last !== undefined && charWide(last) && !OPENING.has(last);
  };
  for (const ch of text) {
    if (inCode) {
      cur += ch;
      if (ch === '`') inCode = false;
      continue;
    }
    if (/\s/u.test(ch)) {
      flush();
      pendingSpace = true;
      continue;
    }
    if (CLOSING.has(ch)) {
      const last = tokens[tokens.length - 1];
      if (cur === '' && !pendingSpace && last !== undefined) {
        tokens[tokens.length - 1] = { text: last.text + ch, space: last.space };
      } else {
        push(ch);
      }
      continue;
    }
    if (OPENING.has(ch)) {
      if (!onlyOpening(cur)) flush();
      push(ch);
      continue;
    }
    if (charWide(ch)) {
      if (!onlyOpening(cur)) flush();
      push(ch);
      flush();
      continue;
    }
    if (endsWide(cur)) flush();
    if (ch === '`') inCode = true;
    push(ch);
  }
  flush();
  return tokens;
}

/**
 * Wraps `text` to `width` columns. The first line starts with `indent`, the others with
 * `hang`; '\n' in the text forces a new line (with `hang`). A piece longer than the
 * line is put on a line of its own rather than cut.
 */
export function wrap(text: string, width: number, indent = '', hang = indent): string[] {
  const lines: string[] = [];
  let prefix = indent;
  for (const paragraph of text.split('\n')) {
    let line = prefix;
    let lineWidth = displayWidth(prefix);
    let empty = true;
    for (const token of tokenize(paragraph)) {
      const sep = !empty && token.space ? ' ' : '';
      const w = displayWidth(token.text);
      if (!empty && lineWidth + sep.length + w > width) {
        lines.push(line);
        line = hang + token.text;
        lineWidth = displayWidth(hang) + w;
      } else {
        line += sep + token.text;
        lineWidth += sep.length + w;
      }
      empty = false;
    }
    lines.push(line.trimEnd());
    prefix = hang;
  }
  return lines;
}

// ---------------------------------------------------------------------------------------
// Human-readable pages
// ---------------------------------------------------------------------------------------

export interface RenderOptions {
  /** Columns to wrap at; 100 by default. */
  readonly width?: number;
  /** Applied to headings only (colour); identity by default. */
  readonly heading?: (text: string) => string;
}

const DEFAULT_WIDTH = 100;
const MIN_WIDTH = 40;
const INDENT = '  ';

interface Layout {
  readonly width: number;
  readonly heading: (text: string) => string;
}

function layout(options: RenderOptions): Layout {
  return {
    width: Math.max(MIN_WIDTH, options.width ?? DEFAULT_WIDTH),
    heading: options.heading ?? ((s: string): string => s),
  };
}

/** The overview: every state in diagram order with its summary, Linux lifetime and production meaning. */
export function renderOverview(lang: ExplainLang, options: RenderOptions = {}): string {
  const { width, heading } = layout(options);
  const l = LABELS[lang];
  const out: string[] = [];
  out.push(...wrap(l.overviewTitle, width).map(heading));
  out.push(...wrap(l.overviewHint, width));
  const labelWidth = Math.max(displayWidth(l.rowLifetime), displayWidth(l.rowMany)) + 2;
  const hang = INDENT + ' '.repeat(labelWidth);
  for (const state of TCP_STATES) {
    const info = STATE_INFO[state];
    const t = TEXTS[lang][state];
    out.push('');
    const p = l.punct;
    const names = `${l.nameSs} ${info.ss}${p.comma}${l.nameNetstat} ${info.netstat}`;
    out.push(`${heading(info.display)}${p.open}${names}${p.close}`);
    out.push(...wrap(t.summary, width, INDENT));
    out.push(...wrap(t.lifetimeBrief, width, INDENT + padEnd(l.rowLifetime, labelWidth), hang));
    out.push(...wrap(t.productionBrief, width, INDENT + padEnd(l.rowMany, labelWidth), hang));
  }
  return out.join('\n') + '\n';
}

function kindLabel(kind: EdgeKind, l: Labels): string | undefined {
  switch (kind) {
    case 'main':
      return undefined;
    case 'reset':
      return l.kindReset;
    case 'abort':
      return l.kindAbort;
    case 'timeout':
      return l.kindTimeout;
  }
}

function edgeDescription(edge: Edge, l: Labels): string {
  const parts = [edge.event];
  if (edge.sends !== '') parts.push(`${l.sends} ${edge.sends}`);
  let text = parts.join(l.punct.semicolon);
  const kind = kindLabel(edge.kind, l);
  if (kind !== undefined) text += ` [${kind}]`;
  if (edge.linuxOnly) text += ` [${l.linuxOnly}]`;
  return `${text}${l.punct.open}${edge.rule}${l.punct.close}`;
}

/** Column for neighbour names: wide enough for the longest display name (SYN-RECEIVED). */
const NAME_COLUMN = Math.max(...TCP_STATES.map((s) => STATE_INFO[s].display.length)) + 2;

function renderEdges(
  edges: readonly Edge[],
  other: (e: Edge) => TcpState,
  l: Labels,
  width: number,
): string[] {
  const indent = INDENT + INDENT;
  if (edges.length === 0) return [indent + l.noEdges];
  // One line per rule: a rule such as rst-reset enters CLOSED from several states.
  const byRule = new Map<string, { edge: Edge; names: string[] }>();
  for (const e of edges) {
    const name = STATE_INFO[other(e)].display;
    const entry = byRule.get(e.rule);
    if (entry === undefined) byRule.set(e.rule, { edge: e, names: [name] });
    else entry.names.push(name);
  }
  const hang = indent + ' '.repeat(NAME_COLUMN);
  const out: string[] = [];
  for (const { edge, names } of byRule.values()) {
    const nameText = names.join(l.punct.comma);
    const description = edgeDescription(edge, l);
    if (displayWidth(nameText) < NAME_COLUMN) {
      out.push(...wrap(description, width, indent + padEnd(nameText, NAME_COLUMN), hang));
    } else {
      out.push(...wrap(nameText, width, indent, indent));
      out.push(...wrap(description, width, hang, hang));
    }
  }
  return out;
}

/** One state in depth: names, every text section, neighbours in the diagram, and what to try. */
export function renderState(state: TcpState, lang: ExplainLang, options: RenderOptions = {}): string {
  const { width, heading } = layout(options);
  const l = LABELS[lang];
  const t = TEXTS[lang][state];
  const info = STATE_INFO[state];
  const out: string[] = [];
  const section = (title: string, body: string): void => {
    out.push('', heading(title), ...wrap(body, width, INDENT));
  };

  out.push(heading(info.display));
  out.push(...wrap(t.summary, width, INDENT));

  out.push('', heading(l.knownAs));
  const p = l.punct;
  const linux = [String(info.linux), ...linuxAlso(state).map((n) => linuxAlsoText(n, l))].join(p.semicolon);
  const names = [
    `${l.nameRfc} ${info.display}`,
    `${l.nameSs} ${info.ss}`,
    `${l.nameNetstat} ${info.netstat}`,
    `${l.nameLinux} ${linux}`,
    `${l.nameId} ${info.id}`,
  ];
  out.push(...wrap(names.join(' · '), width, INDENT));
  out.push(...wrap(`${l.acceptedSpellings}${p.colon}${inputSpellings(state).join(', ')}`, width, INDENT, INDENT + INDENT));

  section(l.meaning, t.meaning);
  section(`${l.howEntered}${p.open}${l.whoIs}${p.colon}${l.who[t.howEntered.who]}${p.close}`, t.howEntered.how);
  section(l.howLeft, t.howLeft);
  section(l.lifetimeOnLinux, t.lifetimeOnLinux);
  section(l.inProduction, t.inProduction);

  out.push('', heading(l.whatToDo));
  for (const item of t.whatToDo) out.push(...wrap(item, width, INDENT + '- ', INDENT + '  '));

  const n = neighbours(state);
  out.push('', heading(l.neighbours));
  out.push(INDENT + l.incoming);
  out.push(...renderEdges(n.incoming, (e) => e.from, l, width));
  out.push(INDENT + l.outgoing);
  out.push(...renderEdges(n.outgoing, (e) => e.to, l, width));
  if ([...n.incoming, ...n.outgoing].some((e) => e.kind !== 'main' || e.linuxOnly)) {
    out.push(...wrap(l.legend, width, INDENT));
  }

  const arg = info.id;
  out.push('', heading(l.tryIt));
  out.push(INDENT + `tcpstate lab ${arg}`);
  out.push(INDENT + `tcpstate diagram --highlight ${arg}`);
  return out.join('\n') + '\n';
}

function linuxAlsoText(n: number, l: Labels): string {
  return n === LINUX_NEW_SYN_RECV ? l.linuxNewSynRecv : l.linuxBoundInactive;
}

// ---------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------

export interface EdgeJson {
  readonly rule: string;
  readonly event: string;
  readonly sends: string;
  readonly kind: EdgeKind;
  readonly main: boolean;
  readonly linuxOnly: boolean;
}

export interface IncomingEdgeJson extends EdgeJson {
  readonly from: TcpState;
}

export interface OutgoingEdgeJson extends EdgeJson {
  readonly to: TcpState;
}

export interface StateJson {
  readonly state: TcpState;
  readonly display: string;
  readonly ss: string;
  readonly netstat: string;
  readonly linux: number;
  /** Further Linux numbers reported as this state (12 for SYN_RECEIVED, 13 for CLOSED). */
  readonly linuxAlso: readonly number[];
  readonly aliases: readonly string[];
  readonly summary: string;
  readonly meaning: string;
  readonly howEntered: { readonly who: Who; readonly how: string };
  readonly howLeft: string;
  readonly lifetimeBrief: string;
  readonly lifetimeOnLinux: string;
  readonly productionBrief: string;
  readonly inProduction: string;
  readonly whatToDo: readonly string[];
  readonly neighbours: {
    readonly incoming: readonly IncomingEdgeJson[];
    readonly outgoing: readonly OutgoingEdgeJson[];
  };
}

export interface StatePageJson extends StateJson {
  readonly lang: ExplainLang;
}

export interface OverviewJson {
  readonly lang: ExplainLang;
  readonly states: readonly StateJson[];
}

function edgeJson(e: Edge): EdgeJson {
  return { rule: e.rule, event: e.event, sends: e.sends, kind: e.kind, main: e.kind === 'main', linuxOnly: e.linuxOnly };
}

function stateJson(state: TcpState, lang: ExplainLang): StateJson {
  const info = STATE_INFO[state];
  const t = TEXTS[lang][state];
  const n = neighbours(state);
  return {
    state,
    display: info.display,
    ss: info.ss,
    netstat: info.netstat,
    linux: info.linux,
    linuxAlso: linuxAlso(state),
    aliases: inputSpellings(state),
    summary: t.summary,
    meaning: t.meaning,
    howEntered: { who: t.howEntered.who, how: t.howEntered.how },
    howLeft: t.howLeft,
    lifetimeBrief: t.lifetimeBrief,
    lifetimeOnLinux: t.lifetimeOnLinux,
    productionBrief: t.productionBrief,
    inProduction: t.inProduction,
    whatToDo: [...t.whatToDo],
    neighbours: {
      incoming: n.incoming.map((e) => ({ ...edgeJson(e), from: e.from })),
      outgoing: n.outgoing.map((e) => ({ ...edgeJson(e), to: e.to })),
    },
  };
}

/** Plain data for `--json`: one state's page, or all states (in diagram order) when `state` is undefined. */
export function explainJson(state: TcpState, lang: ExplainLang): StatePageJson;
export function explainJson(state: undefined, lang: ExplainLang): OverviewJson;
export function explainJson(state: TcpState | undefined, lang: ExplainLang): StatePageJson | OverviewJson;
export function explainJson(state: TcpState | undefined, lang: ExplainLang): StatePageJson | OverviewJson {
  if (state === undefined) return { lang, states: TCP_STATES.map((s) => stateJson(s, lang)) };
  return { lang, ...stateJson(state, lang) };
}
