/**
 * Parser for ss's filter language (iproute2 misc/ssfilter.y and parse_hostcond in
 * misc/ss.c), producing a {@link FilterAst} with source spans.
 *
 * Grammar (ours, equivalent to ss's on what ss accepts):
 *
 * ```
 * filter    := clause* exprlist? EOF
 * clause    := ("state" | "exclude" | "excl") NAME
 * exprlist  := expr (("and" | "&&" | "&" | "or" | "||" | "|")? expr)*
 * expr      := "(" exprlist ")" | ("!" | "not") expr | term
 * term      := ("src" | "dst") [EQ | NE] HOST
 *            | ("sport" | "dport") [EQ | NE | LT | GT | LE | GE] PORT
 *            | "autobound"
 * EQ := "=" | "==" | "eq"    NE := "!=" | "ne" | "neq"    LT := "<" | "lt"
 * GT := ">" | "gt"           LE := "<=" | "le" | "leq"    GE := ">=" | "ge" | "geq"
 * ```
 *
 * ss quirks kept on purpose, because the point is to select the sockets ss selects:
 * - `and` and `or` have the same precedence and group left to right:
 *   `a or b and c` is `(a or b) and c`. Juxtaposition is `and`, at that same level.
 * - `state`/`exclude` clauses come first and are not part of the expression. The first
 *   clause starts the set (from nothing for `state`, from `all` for `exclude`); later ones
 *   add or remove in order.
 * - Port numbers are read like strtol(.., 0): `0x1f90` is 8080 and `010` is 8.
 * - `src 0.0.0.0/0` still requires IPv4 (or v4-mapped IPv6) sockets; `dst [::]/0` IPv6.
 *
 * Differences from ss (all make errors of things ss resolves at run time):
 * - host names are not looked up (ss asks DNS): give an address or prefix;
 * - ports must be 0..65535 (ss takes `:-1` as "any port" and truncates big numbers);
 * - `unix:`, `link:`, `netlink:`, `vsock:`, `inet:`, `inet6:` address prefixes, `dev`,
 *   `fwmark` and `cgroup` are not supported.
 * And extensions: `src`/`dst` take `!=`; punctuation need not be blank-separated; state
 * names also take the core state table's spellings (`listen`, `estab`).
 */
import type { CompareOp, ExprNode, FilterAst, HostPattern, Side, StateClause } from './ast.js';
import { FilterError, joinSource, tokenize, type Token } from './lexer.js';
import { stateNameMask, STATE_NAMES_FOR_HELP } from './states.js';

/** Maps a service name (`http`) to its TCP port, or undefined when unknown. */
export type ServiceResolver = (name: string) => number | undefined;

/**
 * A small built-in services table (TCP ports from IANA / Debian's /etc/services), used
 * when no resolver is given or the resolver does not know a name.
 */
export const BUILTIN_SERVICES: ReadonlyMap<string, number> = new Map([
  ['ftp-data', 20],
  ['ftp', 21],
  ['ssh', 22],
  ['telnet', 23],
  ['smtp', 25],
  ['mail', 25],
  ['domain', 53],
  ['gopher', 70],
  ['http', 80],
  ['www', 80],
  ['kerberos', 88],
  ['pop3', 110],
  ['sunrpc', 111],
  ['auth', 113],
  ['nntp', 119],
  ['imap2', 143],
  ['imap', 143],
  ['bgp', 179],
  ['ldap', 389],
  ['https', 443],
  ['microsoft-ds', 445],
  ['submissions', 465],
  ['rtsp', 554],
  ['submission', 587],
  ['ldaps', 636],
  ['rsync', 873],
  ['domain-s', 853],
  ['imaps', 993],
  ['pop3s', 995],
  ['socks', 1080],
  ['openvpn', 1194],
  ['ms-sql-s', 1433],
  ['nfs', 2049],
  ['mysql', 3306],
  ['ms-wbt-server', 3389],
  ['postgresql', 5432],
  ['postgres', 5432],
  ['amqp', 5672],
  ['x11', 6000],
  ['redis', 6379],
  ['http-alt', 8080],
  ['webcache', 8080],
  ['tproxy', 8081],
  ['zabbix-agent', 10050],
  ['zabbix-trapper', 10051],
]);

/**
 * Builds a resolver from the text of an /etc/services file (TCP entries and their
 * aliases). Pure: the caller reads the file.
 */
export function servicesResolver(servicesText: string): ServiceResolver {
  const map = new Map<string, number>();
  for (const raw of servicesText.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(fields[1] ?? '');
    if (m === null || m[2] !== 'tcp') continue;
    const port = Number(m[1]);
    for (const name of [fields[0], ...fields.slice(2)]) if (name !== undefined && !map.has(name)) map.set(name, port);
  }
  return (name) => map.get(name);
}

export interface ParseOptions {
  /** Consulted before {@link BUILTIN_SERVICES} for `:name` ports. */
  readonly services?: ServiceResolver;
}

// ---------------------------------------------------------------------------
// Addresses and ports
// ---------------------------------------------------------------------------

/** Network-order bytes of a dotted-quad IPv4 address, or null. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/**
 * Network-order bytes of a textual IPv6 address (RFC 4291 §2.2: `::` compression, an
 * embedded dotted quad at the end; a `%zone` suffix is ignored), or null.
 */
export function parseIpv6(text: string): Uint8Array | null {
  const pct = text.indexOf('%');
  const s = pct >= 0 ? text.slice(0, pct) : text;
  if (s === '' || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const groups: number[] = [];
  const parseGroups = (part: string, allowV4: boolean): number[] | null => {
    if (part === '') return [];
    const fields = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] ?? '';
      if (allowV4 && i === fields.length - 1 && f.includes('.')) {
        const v4 = parseIpv4(f);
        if (v4 === null) return null;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(f)) return null;
      out.push(parseInt(f, 16));
    }
    return out;
  };
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    if (s.indexOf('::', dbl + 1) >= 0) return null;
    const head = parseGroups(s.slice(0, dbl), false);
    const tail = parseGroups(s.slice(dbl + 2), true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    const all = parseGroups(s, true);
    if (all === null || all.length !== 8) return null;
    groups.push(...all);
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >>> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** strtol(text, 0)-style number (decimal, 0x hex, leading-0 octal) or null. */
function parseCNumber(text: string): number | null {
  if (/^[1-9]\d*$/.test(text) || text === '0') return Number(text);
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return parseInt(text.slice(2), 16);
  if (/^0[0-7]+$/.test(text)) return parseInt(text.slice(1), 8);
  return null;
}

const ANY_V4 = new Uint8Array(4);

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

const EQ_WORDS = new Map<string, CompareOp>([
  ['=', 'eq'],
  ['==', 'eq'],
  ['eq', 'eq'],
  ['!=', 'ne'],
  ['ne', 'ne'],
  ['neq', 'ne'],
  ['<', 'lt'],
  ['lt', 'lt'],
  ['>', 'gt'],
  ['gt', 'gt'],
  ['<=', 'le'],
  ['le', 'le'],
  ['leq', 'le'],
  ['>=', 'ge'],
  ['ge', 'ge'],
  ['geq', 'ge'],
]);

/** Words that are operators or keywords wherever they appear (as in ss's lexer). */
const RESERVED = new Set([
  'and',
  'or',
  'not',
  'src',
  'dst',
  'sport',
  'dport',
  'autobound',
  'dev',
  'fwmark',
  'cgroup',
  ...EQ_WORDS.keys(),
]);

const UNSUPPORTED_TERMS: ReadonlyMap<string, string> = new Map([
  ['dev', '"dev" (interface) conditions are not supported'],
  ['fwmark', '"fwmark" conditions are not supported'],
  ['cgroup', '"cgroup" conditions are not supported'],
]);

const TERM_EXPECTED = 'src, dst, sport, dport, autobound, "(" or "not"';
const PORT_EXPECTED = 'a port (":80", "80", ":http" or "*")';
const HOST_EXPECTED = 'an address ("10.0.0.1", "10.0.0.0/8", "[::1]", "*", optionally with ":port")';

function describe(t: Token): string {
  return t.kind === 'eof' ? 'end of filter' : `"${t.text}"`;
}

class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(
    private readonly source: string,
    private readonly options: ParseOptions,
  ) {
    this.tokens = tokenize(source);
  }

  private peek(offset = 0): Token {
    const t = this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
    if (t === undefined) throw new Error('unreachable: tokenize always ends with eof');
    return t;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private fail(at: Token | number, problem: string, expected = ''): never {
    const position = typeof at === 'number' ? at : at.span.start;
    throw new FilterError(this.source, position, problem, expected);
  }

  private isWord(t: Token, ...words: string[]): boolean {
    return t.kind === 'word' && words.includes(t.text);
  }

  parse(): FilterAst {
    const states: StateClause[] = [];
    while (this.isWord(this.peek(), 'state', 'exclude', 'excl')) {
      const kw = this.next();
      const nameTok = this.next();
      if (nameTok.kind !== 'word') {
        this.fail(nameTok, `"${kw.text}" needs a state name, got ${describe(nameTok)}`, `one of ${STATE_NAMES_FOR_HELP.join(', ')}`);
      }
      const mask = stateNameMask(nameTok.text);
      if (mask === undefined) {
        this.fail(nameTok, `unknown state "${nameTok.text}"`, `one of ${STATE_NAMES_FOR_HELP.join(', ')}`);
      }
      states.push({
        kind: kw.text === 'state' ? 'state' : 'exclude',
        name: nameTok.text,
        mask,
        span: { start: kw.span.start, end: nameTok.span.end },
      });
    }
    let expr: ExprNode | null = null;
    if (this.peek().kind !== 'eof') {
      expr = this.exprList();
      const t = this.peek();
      if (t.kind === 'rparen') this.fail(t, 'unbalanced ")"', 'an operator or the end of the filter');
      if (t.kind !== 'eof') this.fail(t, `unexpected ${describe(t)}`, 'an operator or the end of the filter');
    }
    return { source: this.source, states, expr };
  }

  /** exprlist: left-assoc chain, `and`/`or`/juxtaposition all at one level (ss). */
  private exprList(): ExprNode {
    let left = this.expr();
    for (;;) {
      const t = this.peek();
      let kind: 'and' | 'or';
      let implicit = false;
      if (t.kind === 'amp' || this.isWord(t, 'and')) {
        this.next();
        kind = 'and';
      } else if (t.kind === 'pipe' || this.isWord(t, 'or')) {
        this.next();
        kind = 'or';
      } else if (t.kind === 'eof' || t.kind === 'rparen') {
        return left;
      } else {
        kind = 'and';
        implicit = true;
      }
      const right = this.expr();
      left = { kind, left, right, implicit, span: { start: left.span.start, end: right.span.end } };
    }
  }

  private expr(): ExprNode {
    const t = this.peek();
    if (t.kind === 'lparen') {
      this.next();
      if (this.peek().kind === 'rparen') this.fail(this.peek(), 'empty parentheses', TERM_EXPECTED);
      const inner = this.exprList();
      const close = this.peek();
      if (close.kind !== 'rparen') this.fail(close, `unclosed "(" (opened at column ${t.span.start + 1})`, '")"');
      this.next();
      return this.respan(inner, t.span.start, close.span.end);
    }
    if (t.kind === 'bang' || this.isWord(t, 'not')) {
      this.next();
      if (this.peek().kind === 'eof') this.fail(this.peek(), `"${t.text}" needs a condition after it`, TERM_EXPECTED);
      const operand = this.expr();
      return { kind: 'not', operand, span: { start: t.span.start, end: operand.span.end } };
    }
    return this.term();
  }

  /** Parentheses widen a node's span to include them. */
  private respan(n: ExprNode, start: number, end: number): ExprNode {
    return { ...n, span: { start, end } };
  }

  private term(): ExprNode {
    const t = this.next();
    if (t.kind === 'word') {
      switch (t.text) {
        case 'src':
        case 'dst':
          return this.hostTerm(t, t.text === 'src' ? 'local' : 'remote');
        case 'sport':
        case 'dport':
          return this.portTerm(t, t.text === 'sport' ? 'local' : 'remote');
        case 'autobound':
          return { kind: 'autobound', span: t.span };
        case 'state':
        case 'exclude':
        case 'excl':
          this.fail(t, `"${t.text}" clauses must come before the expression (as in ss)`, TERM_EXPECTED);
        default: {
          const unsupported = UNSUPPORTED_TERMS.get(t.text);
          if (unsupported !== undefined) this.fail(t, unsupported, TERM_EXPECTED);
        }
      }
    }
    if (t.kind === 'eof') this.fail(t, 'the filter ends where a condition should follow', TERM_EXPECTED);
    if (t.kind === 'rparen') this.fail(t, 'unbalanced ")"', TERM_EXPECTED);
    this.fail(t, `unexpected ${describe(t)}`, TERM_EXPECTED);
  }

  /** An optional comparison operator (symbol or word). */
  private compareOp(): { op: CompareOp; tok: Token } | null {
    const t = this.peek();
    if (t.kind !== 'cmp' && t.kind !== 'word') return null;
    const op = EQ_WORDS.get(t.text);
    if (op === undefined) return null;
    this.next();
    return { op, tok: t };
  }

  private operand(kw: Token, op: Token | null, expected: string): Token {
    const v = this.next();
    if (v.kind !== 'word' || RESERVED.has(v.text)) {
      const after = op === null ? `"${kw.text}"` : `"${kw.text} ${op.text}"`;
      this.fail(v, `${describe(v)} after ${after}`, expected);
    }
    return v;
  }

  private hostTerm(kw: Token, side: Side): ExprNode {
    const cmp = this.compareOp();
    if (cmp !== null && cmp.op !== 'eq' && cmp.op !== 'ne') {
      this.fail(cmp.tok, `"${kw.text}" compares addresses with "=" or "!=" only`, `"=", "!=" or an address (use sport/dport for port ranges)`);
    }
    const v = this.operand(kw, cmp?.tok ?? null, HOST_EXPECTED);
    const pattern = this.hostPattern(v);
    return {
      kind: 'host',
      side,
      negated: cmp?.op === 'ne',
      pattern,
      span: { start: kw.span.start, end: v.span.end },
    };
  }

  private portTerm(kw: Token, side: Side): ExprNode {
    const cmp = this.compareOp();
    const op = cmp?.op ?? 'eq';
    const v = this.operand(kw, cmp?.tok ?? null, PORT_EXPECTED);
    const text = v.text.startsWith(':') ? v.text.slice(1) : v.text;
    const at = v.span.start + (v.text.startsWith(':') ? 1 : 0);
    const port = this.port(text, at, v);
    if (port === null && op !== 'eq' && op !== 'ne') {
      this.fail(at, `"*" (any port) cannot be compared with "${cmp?.tok.text ?? ''}"`, 'a port number or service name');
    }
    return { kind: 'port', side, op, port, span: { start: kw.span.start, end: v.span.end } };
  }

  /** A port: number, service name, `*` or empty (null = any). */
  private port(text: string, at: number, tok: Token): number | null {
    if (text === '' || text === '*') return null;
    const n = parseCNumber(text);
    if (n !== null) {
      if (n > 65535) this.fail(at, `port ${text} is out of range`, 'a port from 0 to 65535');
      return n;
    }
    if (/^[+-]?\d/.test(text)) this.fail(at, `"${text}" is not a port number`, 'a port from 0 to 65535');
    if (text.includes(':') || text.includes('.') || text.includes('[')) {
      this.fail(tok, `"${tok.text}" is not a port`, PORT_EXPECTED);
    }
    const resolved = this.options.services?.(text) ?? BUILTIN_SERVICES.get(text) ?? BUILTIN_SERVICES.get(text.toLowerCase());
    if (resolved === undefined) this.fail(at, `unknown service name "${text}"`, 'a port number or a known service name (ssh, http, https, ...)');
    return resolved;
  }

  /** parse_hostcond for the inet families: `*`, `[v6]`, `v4`, `/prefix`, `:port`. */
  private hostPattern(tok: Token): HostPattern {
    const text = tok.text;
    const base = tok.span.start;
    const familyPrefix = /^(unix|link|netlink|vsock|inet|inet6):/.exec(text);
    if (familyPrefix !== null) {
      this.fail(tok, `"${familyPrefix[0]}" addresses are not supported`, 'an IPv4 or IPv6 address (TCP sockets only)');
    }
    let addr: string;
    let addrAt = base;
    let portText: string | null;
    let portAt: number;
    if (text.startsWith('[')) {
      const close = text.indexOf(']');
      if (close < 0) this.fail(base + text.length, 'missing "]" after the IPv6 address', '"]"');
      addr = text.slice(1, close);
      addrAt = base + 1;
      const rest = text.slice(close + 1);
      if (rest !== '' && !rest.startsWith(':')) {
        this.fail(base + close + 1, `unexpected "${rest}" after "]"`, '":port" or nothing (a prefix goes inside: "[::1/128]")');
      }
      portText = rest === '' ? null : rest.slice(1);
      portAt = base + close + 2;
    } else if (text.startsWith('*')) {
      const rest = text.slice(1);
      if (rest !== '' && !rest.startsWith(':')) this.fail(base + 1, `unexpected "${rest}" after "*"`, '":port" or nothing');
      addr = '';
      portText = rest === '' ? null : rest.slice(1);
      portAt = base + 2;
    } else {
      // ss: the port is after the last ':' that follows the '/' if there is one.
      const slash = text.indexOf('/');
      const from = slash >= 0 ? slash : 0;
      const colon = text.lastIndexOf(':');
      if (colon >= from) {
        addr = text.slice(0, colon);
        portText = text.slice(colon + 1);
        portAt = base + colon + 1;
        if (addr.includes(':') && slash < 0) {
          this.fail(tok, `"${text}" looks like an IPv6 address without brackets`, 'brackets around IPv6 addresses: "[::1]" or "[::1]:80"');
        }
      } else {
        addr = text;
        portText = null;
        portAt = base + text.length;
      }
    }
    const port = portText === null ? null : this.port(portText, portAt, tok);
    if (addr === '' || addr === '*' || addr === 'any' || addr === 'all' || addr === 'default') {
      return { family: null, address: ANY_V4, prefixLength: 0, port };
    }
    const slash = addr.indexOf('/');
    const host = slash >= 0 ? addr.slice(0, slash) : addr;
    const prefixText = slash >= 0 ? addr.slice(slash + 1) : null;
    let family: 'ipv4' | 'ipv6';
    let bytes: Uint8Array | null;
    if (host.includes(':')) {
      family = 'ipv6';
      bytes = parseIpv6(host);
    } else {
      family = 'ipv4';
      bytes = parseIpv4(host);
    }
    if (bytes === null) {
      if (family === 'ipv4' && /[a-zA-Z]/.test(host)) {
        this.fail(addrAt, `"${host}" is a host name; names are not looked up`, 'an IP address or prefix');
      }
      this.fail(addrAt, `"${host}" is not a valid ${family === 'ipv6' ? 'IPv6' : 'IPv4'} address`, HOST_EXPECTED);
    }
    const bits = family === 'ipv6' ? 128 : 32;
    let prefixLength = bits;
    if (prefixText !== null) {
      const at = addrAt + slash + 1;
      const mask = family === 'ipv4' ? parseIpv4(prefixText) : null;
      if (/^\d{1,3}$/.test(prefixText) && Number(prefixText) <= bits) {
        prefixLength = Number(prefixText);
      } else if (mask !== null) {
        const m = (((mask[0] ?? 0) << 24) | ((mask[1] ?? 0) << 16) | ((mask[2] ?? 0) << 8) | (mask[3] ?? 0)) >>> 0;
        const inv = ~m >>> 0;
        // contiguous: the inverted mask is 2^k - 1
        if ((inv & (inv + 1)) !== 0) {
          this.fail(at, `"${prefixText}" is not a contiguous netmask`, `a prefix length from 0 to ${bits}`);
        }
        prefixLength = 32 - (inv === 0 ? 0 : Math.round(Math.log2(inv + 1)));
      } else {
        this.fail(at, `"/${prefixText}" is not a valid prefix length`, `a prefix length from 0 to ${bits}`);
      }
    }
    return { family, address: bytes, prefixLength, port };
  }
}

/** Parses a filter (one string, or argv words as ss takes them) into its syntax tree. */
export function parseFilterAst(input: string | readonly string[], options: ParseOptions = {}): FilterAst {
  const source = joinSource(input).replace(/[\r\n\t]/g, ' ');
  return new Parser(source, options).parse();
}

