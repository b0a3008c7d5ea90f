/**
 * Tokens of ss's filter language, and the error every stage of the filter reports.
 *
 * ss (misc/ssfilter.y, yylex) splits its arguments on blanks only, so `(dport = :80)` or
 * `dport=:80` are errors there. We also split on the punctuation of the language —
 * `( ) ! = < > & |` — wherever it appears, which accepts everything ss accepts and a little
 * more: no address, port or service name ever contains those characters. Word operators
 * (`and`, `eq`, `gt`, ...) are told apart by the parser, as ss does, from the word text.
 */
import { TcpstateError } from '../core/errors.js';
import type { Span } from './ast.js';

/**
 * A filter that cannot be parsed or used. The message names the problem, then shows the
 * expression on one line and a caret under the column at fault on the next:
 *
 * ```
 * bad filter at column 9: expected a port (":80", ":http", "*") after "dport =", got end of filter
 *   dport =
 *           ^
 * ```
 */
export class FilterError extends TcpstateError {
  /** The expression as one line (array input joined with single spaces). */
  readonly source: string;
  /** 0-based character offset of the fault (source.length for "end of filter"). */
  readonly position: number;
  /** What the parser expected there, in words. */
  readonly expected: string;
  /** The problem alone, without the caret picture. */
  readonly problem: string;

  constructor(source: string, position: number, problem: string, expected = '') {
    const where = position >= source.length ? 'at the end' : `at column ${position + 1}`;
    const head = `bad filter ${where}: ${problem}${expected === '' ? '' : `; expected ${expected}`}`;
    super('E_FILTER', `${head}\n  ${source}\n  ${' '.repeat(position)}^`);
    this.name = 'FilterError';
    this.source = source;
    this.position = position;
    this.expected = expected;
    this.problem = problem;
  }

  /** 1-based column of the fault. */
  get column(): number {
    return this.position + 1;
  }
}

export type TokenKind =
  | 'word'
  | 'lparen'
  | 'rparen'
  /** `!` */
  | 'bang'
  /** `&` `&&` */
  | 'amp'
  /** `|` `||` */
  | 'pipe'
  /** `=` `==` `!=` `<` `>` `<=` `>=` */
  | 'cmp'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly span: Span;
}

const PUNCT = new Set(['(', ')', '!', '=', '<', '>', '&', '|']);

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** The source text a filter given as argv words stands for: words joined by single spaces. */
export function joinSource(input: string | readonly string[]): string {
  return typeof input === 'string' ? input : input.join(' ');
}

/** Splits a filter expression into tokens; the last token is always `eof`. */
export function tokenize(source: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = source.length;
  const push = (kind: TokenKind, start: number, end: number): void => {
    out.push({ kind, text: source.slice(start, end), span: { start, end } });
  };
  while (i < n) {
    const c = source.charAt(i);
    if (isBlank(c)) {
      i++;
      continue;
    }
    const next = source.charAt(i + 1);
    switch (c) {
      case '(':
        push('lparen', i, i + 1);
        i++;
        continue;
      case ')':
        push('rparen', i, i + 1);
        i++;
        continue;
      case '&':
      case '|': {
        const len = next === c ? 2 : 1;
        push(c === '&' ? 'amp' : 'pipe', i, i + len);
        i += len;
        continue;
      }
      case '!':
        if (next === '=') {
          push('cmp', i, i + 2);
          i += 2;
        } else {
          push('bang', i, i + 1);
          i++;
        }
        continue;
      case '=':
      case '<':
      case '>': {
        const len = next === '=' ? 2 : 1;
        push('cmp', i, i + len);
        i += len;
        continue;
      }
      default:
        break;
    }
    if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) {
      throw new FilterError(source, i, `control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    }
    const start = i;
    while (i < n) {
      const d = source.charAt(i);
      if (isBlank(d) || PUNCT.has(d)) break;
      i++;
    }
    push('word', start, i);
  }
  out.push({ kind: 'eof', text: '', span: { start: n, end: n } });
  return out;
}
