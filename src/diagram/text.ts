/**
 * The state diagram for a terminal: one box per state in the figure's reading order
 * (RFC 9293 §3.3.2 Figure 5, top to bottom), each followed by the arrows that leave it:
 *
 *      ┌──────────────┐
 *      │ ESTABLISHED  │ ◀ SYN-RECEIVED, SYN-SENT
 *      └─┬────────────┘
 *        ├─ CLOSE / snd FIN ─────────────▶ FIN-WAIT-1
 *        └─ rcv FIN / snd ACK ───────────▶ CLOSE-WAIT
 *
 * An arrow with several rules stacks its labels and joins them with a bracket. Arrows
 * outside the classic figure are dashed (`╌╌▶`); Linux-only rules end in `[linux]`.
 * `highlight` puts `>>` in the left margin of the state's box and of every arrow that
 * enters or leaves it (visible without colour), and paints those lines when colour is on.
 *
 * Limitations: labels are not routed between boxes as in the RFC's hand-drawn figure;
 * the picture is a list of labelled arrows to named targets, which stays readable for
 * any table, including `--all`.
 */
import type { TcpState } from '../core/states.js';
import { displayName, ruleDisplayLabel, LAYOUT_NODES, type DiagramEdge } from './layout.js';

/** The colour functions the renderer uses; picocolors' `createColors()` fits. */
export interface TextStyle {
  bold(s: string): string;
  dim(s: string): string;
  yellow(s: string): string;
}

export interface TextOptions {
  readonly highlight?: TcpState | undefined;
  /** Colours; omitted = plain text. */
  readonly style?: TextStyle | undefined;
  /** Maximum line length in columns (default 100). */
  readonly width?: number | undefined;
}

export const HIGHLIGHT_MARK = '>>';
const GUTTER = 3;
const MAIN_FILL = '─';
const EXTRA_FILL = '╌';
const HEAD = '▶';

type LineKind = 'plain' | 'box-name' | 'extra';

interface Line {
  readonly text: string;
  readonly kind: LineKind;
  readonly marked: boolean;
  /** For `box-name` lines: the state name to embolden. */
  readonly name?: string;
}

const identity: TextStyle = { bold: (s) => s, dim: (s) => s, yellow: (s) => s };

/** Splits `text` at spaces into chunks of at most `width` columns (a longer word is cut). */
function wrap(text: string, width: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    let w = word;
    while (w.length > width) {
      if (current !== '') chunks.push(current);
      current = '';
      chunks.push(w.slice(0, width));
      w = w.slice(width);
    }
    if (current === '') current = w;
    else if (current.length + 1 + w.length <= width) current += ` ${w}`;
    else {
      chunks.push(current);
      current = w;
    }
  }
  chunks.push(current);
  return chunks;
}

export function renderText(edges: readonly DiagramEdge[], options: TextOptions = {}): string {
  const width = options.width ?? 100;
  const style = options.style ?? identity;
  const hl = options.highlight;

  const states: TcpState[] = [];
  for (const n of LAYOUT_NODES) if (!states.includes(n.state)) states.push(n.state);
  const inner = Math.max(...states.map((s) => displayName(s).length)) + 2;
  const maxTarget = Math.max(...states.map((s) => displayName(s).length));

  // Columns: gutter, 2 spaces, "├─ ", label, " ", fill ≥ 1, junction, fill, "▶ ", target.
  const labelCol = GUTTER + 5;
  const fixedRight = 1 + 1 + 1 + 1 + 2 + maxTarget;
  const longest = Math.max(0, ...edges.flatMap((e) => e.rules.map((r) => ruleDisplayLabel(r).length)));
  const labelWidth = Math.max(8, Math.min(longest, width - labelCol - fixedRight));
  const junctionCol = labelCol + labelWidth + 2;

  const lines: Line[] = [];
  const push = (text: string, kind: LineKind, marked: boolean, name?: string): void => {
    lines.push(name === undefined ? { text, kind, marked } : { text, kind, marked, name });
  };

  const ruleCount = new Set(edges.flatMap((e) => e.rules.map((r) => r.id))).size;
  const hasExtra = edges.some((e) => !e.main);
  const hasLinux = edges.some((e) => e.rules.some((r) => r.profile === 'linux'));
  push('TCP connection states (RFC 9293 Figure 5), drawn from the transition table the model uses', 'plain', false);
  let legend = `${ruleCount} rules as ${edges.length} arrows; each box is a state, the arrows below it leave it, ◀ lists where it is entered from`;
  if (hasExtra) legend += `; ${EXTRA_FILL.repeat(2)}${HEAD} reset, abort or timeout`;
  if (hasLinux) legend += '; [linux] Linux only';
  for (const chunk of wrap(legend, width)) push(chunk, 'plain', false);
  if (hl !== undefined) {
    const touching = edges.filter((e) => e.from === hl || e.to === hl).length;
    push(
      `${HIGHLIGHT_MARK} marks ${displayName(hl)} and the ${touching} arrows that enter or leave it`,
      'plain',
      false,
    );
  }

  for (const state of states) {
    const name = displayName(state);
    const isHl = hl === state;
    const gutter = (marked: boolean): string => (marked ? HIGHLIGHT_MARK.padEnd(GUTTER) : ' '.repeat(GUTTER));
    const outgoing = edges.filter((e) => e.from === state);
    const sources: string[] = [];
    for (const e of edges) if (e.to === state && !sources.includes(displayName(e.from))) sources.push(displayName(e.from));

    // The box, with "◀ sources" to its right, wrapped over as many lines as needed.
    const padLeft = Math.floor((inner - name.length) / 2);
    const boxLines = [
      `┌${'─'.repeat(inner)}┐`,
      `│${' '.repeat(padLeft)}${name}${' '.repeat(inner - name.length - padLeft)}│`,
      outgoing.length > 0 ? `└─┬${'─'.repeat(inner - 2)}┘` : `└${'─'.repeat(inner)}┘`,
    ];
    const sideWidth = width - GUTTER - inner - 3;
    const side = sources.length === 0 ? [] : wrap(`◀ from ${sources.join(', ')}`, sideWidth);
    push('', 'plain', false);
    boxLines.forEach((b, i) => {
      const extra = i === 0 ? undefined : side[i - 1];
      const text = gutter(isHl) + b + (extra === undefined ? '' : ` ${extra}`);
      push(text, i === 1 ? 'box-name' : 'plain', isHl, i === 1 ? name : undefined);
    });
    for (const extra of side.slice(boxLines.length - 1)) {
      push(gutter(isHl) + (outgoing.length > 0 ? '  │' : '').padEnd(inner + 2) + ` ${extra}`, 'plain', isHl);
    }

    // The arrows leaving the box.
    outgoing.forEach((edge, ei) => {
      const lastEdge = ei === outgoing.length - 1;
      const marked = hl !== undefined && (edge.from === hl || edge.to === hl);
      const fill = edge.main ? MAIN_FILL : EXTRA_FILL;
      const kind: LineKind = edge.main ? 'plain' : 'extra';
      const multi = edge.rules.length > 1;
      let first = true;
      edge.rules.forEach((rule, ri) => {
        const lastRule = ri === edge.rules.length - 1;
        const chunks = wrap(ruleDisplayLabel(rule), labelWidth);
        chunks.forEach((chunk, ci) => {
          const stem = first ? (lastEdge ? '└─ ' : '├─ ') : lastEdge ? '   ' : '│  ';
          first = false;
          const prefix = gutter(marked) + '  ' + stem;
          if (ci < chunks.length - 1) {
            // A wrapped label's leading chunks: no fill; keep the bracket's vertical going.
            const bar = multi && ri > 0 ? '│' : '';
            push((prefix + chunk).padEnd(junctionCol) + bar, kind, marked);
            return;
          }
          const body = `${prefix}${chunk} `.padEnd(junctionCol, fill);
          let junction: string;
          let tail = '';
          if (!multi) {
            junction = fill;
            tail = `${fill}${HEAD} ${displayName(edge.to)}`;
          } else if (ri === 0) junction = '┐';
          else if (!lastRule) junction = '┤';
          else {
            junction = '┴';
            tail = `${fill}${HEAD} ${displayName(edge.to)}`;
          }
          push(body + junction + tail, kind, marked);
        });
      });
    });
  }

  return (
    lines
      .map((line) => {
        let text = line.text;
        if (line.kind === 'box-name' && line.name !== undefined) text = text.replace(line.name, style.bold(line.name));
        if (line.kind === 'extra') text = style.dim(text);
        if (line.marked) text = style.yellow(style.bold(text));
        return text.trimEnd();
      })
      .join('\n') + '\n'
  );
}
