/**
 * The syntax tree of ss's filter language (iproute2 misc/ssfilter.y, misc/ss.c), as our
 * parser builds it. Every node keeps the span of source text it came from, so errors found
 * after parsing (and tools such as `explain`) can point back into the expression.
 *
 * ss's own shape is kept: `state`/`exclude` clauses are not part of the boolean expression;
 * they only build the state set. Everything after them is the expression.
 */

/** Half-open range of character offsets into `FilterAst.source`. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** `src` compares the local end, `dst` the remote end (sport/dport likewise). */
export type Side = 'local' | 'remote';

/** Comparison operators; `eq`/`ne` also serve src/dst (`ne` is our extension there). */
export type CompareOp = 'eq' | 'ne' | 'lt' | 'gt' | 'le' | 'ge';

/**
 * An address pattern: ss's `inet_prefix` plus port. `family` null means any family (no
 * address given, `*`, `any`); a port of null means any port (`*`, none given).
 */
export interface HostPattern {
  readonly family: 'ipv4' | 'ipv6' | null;
  /** Network-order address bytes (4 or 16), all zero when `family` is null. */
  readonly address: Uint8Array;
  /** Bits of `address` that must match (0 = any address of `family`). */
  readonly prefixLength: number;
  readonly port: number | null;
}

/** `src X` / `dst X` (optionally with `=`, or `!=` as our extension). */
export interface HostNode {
  readonly kind: 'host';
  readonly side: Side;
  readonly negated: boolean;
  readonly pattern: HostPattern;
  readonly span: Span;
}

/** `sport OP PORT` / `dport OP PORT`; `port` null only with `eq`/`ne` (`*`: any port). */
export interface PortNode {
  readonly kind: 'port';
  readonly side: Side;
  readonly op: CompareOp;
  readonly port: number | null;
  readonly span: Span;
}

/** `autobound`: the local port was picked by the kernel (ss: an ephemeral port). */
export interface AutoboundNode {
  readonly kind: 'autobound';
  readonly span: Span;
}

export interface NotNode {
  readonly kind: 'not';
  readonly operand: ExprNode;
  readonly span: Span;
}

/**
 * `and` / `or`. ss gives both the same precedence and groups left to right:
 * `a or b and c` is `(a or b) and c`. `implicit` marks an `and` written as juxtaposition.
 */
export interface BinaryNode {
  readonly kind: 'and' | 'or';
  readonly left: ExprNode;
  readonly right: ExprNode;
  readonly implicit: boolean;
  readonly span: Span;
}

export type ExprNode = HostNode | PortNode | AutoboundNode | NotNode | BinaryNode;

/** `state NAME` adds NAME's states, `exclude NAME` (or `excl`) removes them. */
export interface StateClause {
  readonly kind: 'state' | 'exclude';
  /** The name as written (`established`, `bucket`, ...). */
  readonly name: string;
  /** Linux state bitmask the name stands for. */
  readonly mask: number;
  readonly span: Span;
}

export interface FilterAst {
  /** The expression text every span refers to (array input is joined with single spaces). */
  readonly source: string;
  readonly states: readonly StateClause[];
  /** null when the filter has no expression (only state clauses, or nothing). */
  readonly expr: ExprNode | null;
}
