/**
 * ss's filter language as a library: one parser for `ls`, `trace` and `capture`.
 *
 * ```ts
 * const f = parseFilter(['state', 'established', '(', 'dport', '=', ':ssh', ')']);
 * source.dump({ families, stateMask: f.stateMask, info: false, ...(f.bytecode ? { bytecode: f.bytecode } : {}) },
 *   (r) => { if (f.predicate(r)) show(r); });
 * ```
 *
 * `predicate` is complete on its own (state set and expression); `stateMask` and
 * `bytecode` let the kernel do the same work first. Apply the predicate to what the
 * kernel returns anyway, as ss does: the bytecode's `autobound` differs slightly, and a
 * source may ignore either.
 *
 * The grammar, ss's quirks we keep and where we differ are described in parser.ts
 * (expression), states.ts (state names and groups) and evaluate.ts (matching).
 */
import type { ExprNode, FilterAst } from './ast.js';
import { compileBytecode, type BytecodeOptions } from './bytecode.js';
import { compilePredicate, type EvaluateOptions, type RecordPredicate } from './evaluate.js';
import { FilterError } from './lexer.js';
import { parseFilterAst, type ParseOptions } from './parser.js';
import { ALL_MASK } from './states.js';

export interface Filter {
  /** Linux state bitmask (bit n = Linux state n) for `DumpQuery.stateMask`. */
  readonly stateMask: number;
  /** True when the filter had `state`/`exclude` clauses (else `stateMask` is the default). */
  readonly statesGiven: boolean;
  /** The whole filter: state in `stateMask` and the expression holds. */
  readonly predicate: RecordPredicate;
  /** inet_diag bytecode of the expression; null when there is none or it cannot be compiled. */
  readonly bytecode: Uint8Array | null;
  /** The expression text (array input joined with single spaces). */
  readonly source: string;
  readonly ast: FilterAst;
}

export interface FilterOptions extends ParseOptions, EvaluateOptions, BytecodeOptions {
  /**
   * States when the filter names none. Default: all (1..12), like `ss -a`. Pass
   * `SS_DEFAULT_MASK` to mimic plain `ss` (connected sockets but TIME-WAIT and SYN-RECV).
   */
  readonly defaultStateMask?: number;
}

/** The state set of a filter's clauses, applied in order as ss does (main(), "state"/"exclude"). */
export function stateMaskOf(ast: FilterAst, defaultStateMask: number = ALL_MASK): number {
  let mask: number | null = null;
  for (const clause of ast.states) {
    if (clause.kind === 'state') mask = (mask ?? 0) | clause.mask;
    else mask = (mask ?? ALL_MASK) & ~clause.mask;
  }
  return mask ?? defaultStateMask;
}

/**
 * Parses ss's filter language. `text` is one string (`"state established dport = :ssh"`)
 * or the argv words after the command, as ss takes them. Throws {@link FilterError}
 * (code `E_FILTER`) with a caret under the fault.
 */
export function parseFilter(text: string | readonly string[], options: FilterOptions = {}): Filter {
  const ast = parseFilterAst(text, options);
  const stateMask = stateMaskOf(ast, options.defaultStateMask ?? ALL_MASK);
  return {
    stateMask,
    statesGiven: ast.states.length > 0,
    predicate: compilePredicate(ast, stateMask, options),
    bytecode: compileBytecode(ast.expr, options),
    source: ast.source,
    ast,
  };
}

/** Prints an expression back in ss syntax, fully parenthesised (for messages and tests). */
export function formatExpr(node: ExprNode): string {
  switch (node.kind) {
    case 'host': {
      const p = node.pattern;
      let addr = '*';
      if (p.family === 'ipv4') addr = `${[...p.address].join('.')}/${p.prefixLength}`;
      if (p.family === 'ipv6') {
        const groups: string[] = [];
        for (let i = 0; i < 16; i += 2) groups.push((((p.address[i] ?? 0) << 8) | (p.address[i + 1] ?? 0)).toString(16));
        addr = `[${groups.join(':')}/${p.prefixLength}]`;
      }
      const port = p.port === null ? '' : `:${p.port}`;
      return `${node.side === 'local' ? 'src' : 'dst'} ${node.negated ? '!= ' : ''}${addr}${port}`;
    }
    case 'port': {
      const ops = { eq: '=', ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=' } as const;
      return `${node.side === 'local' ? 'sport' : 'dport'} ${ops[node.op]} :${node.port ?? '*'}`;
    }
    case 'autobound':
      return 'autobound';
    case 'not':
      return `! ${formatExpr(node.operand)}`;
    case 'and':
    case 'or':
      return `( ${formatExpr(node.left)} ${node.kind} ${formatExpr(node.right)} )`;
  }
}

export { FilterError };
export type { FilterAst, ExprNode, HostNode, PortNode, NotNode, BinaryNode, AutoboundNode, StateClause, HostPattern, CompareOp, Side, Span } from './ast.js';
export { compileBytecode, INET_DIAG_BC, type BytecodeOptions } from './bytecode.js';
export { compileExpr, compilePredicate, type EvaluateOptions, type RecordPredicate } from './evaluate.js';
export { tokenize, type Token, type TokenKind } from './lexer.js';
export { parseFilterAst, servicesResolver, BUILTIN_SERVICES, parseIpv4, parseIpv6, type ParseOptions, type ServiceResolver } from './parser.js';
export {
  stateNameMask,
  STATE_GROUPS,
  ALL_MASK,
  CONNECTED_MASK,
  SYNCHRONIZED_MASK,
  BUCKET_MASK,
  BIG_MASK,
  SS_DEFAULT_MASK,
  SYN_RECV_MASK,
  LINUX_STATE,
} from './states.js';
