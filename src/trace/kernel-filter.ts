/**
 * Compiles what it can of an ss filter expression into an ftrace event filter
 * (Documentation/trace/events.rst, "Event filtering"), so the kernel drops events we would
 * discard anyway. The compiled filter is a superset of the expression: whatever cannot be
 * expressed on the event's fields (addresses are byte arrays there, `autobound` needs the
 * bind history) becomes "true", and the full expression runs again in userspace.
 *
 * Fields: inet_sock_set_state and tcp_receive_reset both have `sport` (local port) and
 * `dport` (remote port) in host order. tcp_send_reset has only sockaddr arrays: no filter.
 */
import type { ExprNode } from '../filter/ast.js';

/** A compiled condition: `true`/`false` constants or filter text; `exact` when it equals the node. */
interface Compiled {
  readonly cond: string | boolean;
  readonly exact: boolean;
}

const OPS = { eq: '==', ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=' } as const;

function compile(node: ExprNode): Compiled {
  switch (node.kind) {
    case 'port': {
      const field = node.side === 'local' ? 'sport' : 'dport';
      if (node.port === null) return { cond: node.op !== 'ne', exact: true };
      return { cond: `${field} ${OPS[node.op]} ${node.port}`, exact: true };
    }
    case 'host': {
      const { port, family } = node.pattern;
      const field = node.side === 'local' ? 'sport' : 'dport';
      const exact = family === null;
      if (port === null) return exact ? { cond: !node.negated, exact } : { cond: true, exact: false };
      if (node.negated) return exact ? { cond: `${field} != ${port}`, exact } : { cond: true, exact: false };
      return { cond: `${field} == ${port}`, exact };
    }
    case 'autobound':
      return { cond: true, exact: false };
    case 'not': {
      const c = compile(node.operand);
      if (!c.exact) return { cond: true, exact: false };
      if (typeof c.cond === 'boolean') return { cond: !c.cond, exact: true };
      return { cond: `!(${c.cond})`, exact: true };
    }
    case 'and': {
      const a = compile(node.left);
      const b = compile(node.right);
      if (a.cond === false && a.exact) return a;
      if (b.cond === false && b.exact) return b;
      if (a.cond === true) return { cond: b.cond, exact: a.exact && b.exact };
      if (b.cond === true) return { cond: a.cond, exact: a.exact && b.exact };
      if (a.cond === false || b.cond === false) return { cond: false, exact: false };
      return { cond: `(${a.cond} && ${b.cond})`, exact: a.exact && b.exact };
    }
    case 'or': {
      const a = compile(node.left);
      const b = compile(node.right);
      if (a.cond === true || b.cond === true) return { cond: true, exact: (a.cond === true && a.exact) || (b.cond === true && b.exact) };
      if (a.cond === false) return { cond: b.cond, exact: a.exact && b.exact };
      if (b.cond === false) return { cond: a.cond, exact: a.exact && b.exact };
      return { cond: `(${a.cond} || ${b.cond})`, exact: a.exact && b.exact };
    }
  }
}

export interface KernelFilters {
  /** For sock/inet_sock_set_state (always restricts to TCP). */
  readonly setState: string;
  /** For tcp/tcp_receive_reset; '0' to clear (no filter). */
  readonly receiveReset: string;
  /** The kernel filter is the whole expression: the userspace check is redundant (kept anyway). */
  readonly exact: boolean;
}

/** ftrace has no literal true/false: a condition no TCP event satisfies. */
const NEVER = 'sport == 0 && sport == 1';

/** Compiles `expr` (null: no expression) into the per-event ftrace filters. */
export function compileKernelFilter(expr: ExprNode | null): KernelFilters {
  const TCP = 'protocol == 6';
  if (expr === null) return { setState: TCP, receiveReset: '0', exact: true };
  const c = compile(expr);
  if (c.cond === true) return { setState: TCP, receiveReset: '0', exact: c.exact };
  if (c.cond === false) return { setState: `${TCP} && ${NEVER}`, receiveReset: NEVER, exact: c.exact };
  return { setState: `${TCP} && ${c.cond}`, receiveReset: c.cond, exact: c.exact };
}
