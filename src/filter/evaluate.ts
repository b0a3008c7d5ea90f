/**
 * Compiles a filter's syntax tree into a predicate over socket records.
 *
 * The semantics are those of `ss` on a netlink-capable kernel, where a socket is shown
 * when the kernel's inet_diag bytecode (net/ipv4/inet_diag.c, inet_diag_bc_run) *and*
 * ss's own run_ssfilter accept it:
 * - an address condition holds when its port (if any) matches and the socket's family is
 *   the condition's, then the first `prefixLength` bits match. An IPv4 condition also
 *   matches v4-mapped IPv6 sockets (`::ffff:a.b.c.d`) on their embedded IPv4 address; an
 *   IPv6 condition never matches an IPv4 socket. So `src 0.0.0.0/0` selects IPv4 (and
 *   v4-mapped) sockets, not all of them. A condition with no address (`*`, `:80`) matches
 *   every family;
 * - `sport`/`dport` compare the local/remote port numbers (0 for a listener's remote);
 * - `autobound` holds when the local port lies in the ephemeral range.
 *
 * Limitations: `autobound` in the kernel tests "the port was not bound explicitly"
 * (SOCK_BINDPORT_LOCK), which records do not carry; ss additionally requires the port to
 * be in net.ipv4.ip_local_port_range, and that part is all we can check here.
 */
import type { SocketRecord } from '../records/socket.js';
import type { CompareOp, ExprNode, FilterAst, HostPattern } from './ast.js';
import { parseIpv4, parseIpv6 } from './parser.js';
import { maskHas } from './states.js';

export type RecordPredicate = (r: SocketRecord) => boolean;

export interface EvaluateOptions {
  /** net.ipv4.ip_local_port_range for `autobound` (default Linux's 32768..60999). */
  readonly ephemeralRange?: readonly [number, number];
}

/** Parsed record addresses, keyed by family and text (tables repeat addresses a lot). */
const ADDRESS_CACHE = new Map<string, Uint8Array | null>();
const ADDRESS_CACHE_LIMIT = 8192;

/** Network-order bytes of a record's address text (IPv6 form for family ipv6), or null. */
function addressBytes(family: 'ipv4' | 'ipv6', text: string): Uint8Array | null {
  const key = family === 'ipv4' ? text : `6${text}`;
  const hit = ADDRESS_CACHE.get(key);
  if (hit !== undefined) return hit;
  const bytes =
    text === '*' ? new Uint8Array(family === 'ipv4' ? 4 : 16) : family === 'ipv4' ? parseIpv4(text) : parseIpv6(text);
  if (ADDRESS_CACHE.size >= ADDRESS_CACHE_LIMIT) ADDRESS_CACHE.clear();
  ADDRESS_CACHE.set(key, bytes);
  return bytes;
}

function bitsMatch(a: Uint8Array, aOffset: number, b: Uint8Array, bits: number): boolean {
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) if (a[aOffset + i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (((a[aOffset + whole] ?? 0) ^ (b[whole] ?? 0)) & mask) === 0;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** The kernel's hostcond test (inet_diag_bc_run, INET_DIAG_BC_S_COND / D_COND). */
function hostMatcher(pattern: HostPattern, local: boolean): RecordPredicate {
  const { family, address, prefixLength, port } = pattern;
  const portOk =
    port === null ? (): boolean => true : local ? (r: SocketRecord): boolean => r.local.port === port : (r: SocketRecord): boolean => r.remote.port === port;
  if (family === null) return portOk;
  return (r) => {
    if (!portOk(r)) return false;
    const end = local ? r.local : r.remote;
    if (r.family === family) {
      if (prefixLength === 0) return true;
      const bytes = addressBytes(r.family, end.address);
      return bytes !== null && bitsMatch(bytes, 0, address, prefixLength);
    }
    if (r.family === 'ipv6' && family === 'ipv4') {
      const bytes = addressBytes('ipv6', end.address);
      return bytes !== null && isV4Mapped(bytes) && bitsMatch(bytes, 12, address, prefixLength);
    }
    return false;
  };
}

function compare(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'lt':
      return a < b;
    case 'gt':
      return a > b;
    case 'le':
      return a <= b;
    case 'ge':
      return a >= b;
  }
}

/** Compiles an expression node into a predicate (no state test). */
export function compileExpr(node: ExprNode, options: EvaluateOptions = {}): RecordPredicate {
  switch (node.kind) {
    case 'host': {
      const m = hostMatcher(node.pattern, node.side === 'local');
      return node.negated ? (r) => !m(r) : m;
    }
    case 'port': {
      const { op, port, side } = node;
      if (port === null) return op === 'ne' ? () => false : () => true;
      return side === 'local' ? (r) => compare(op, r.local.port, port) : (r) => compare(op, r.remote.port, port);
    }
    case 'autobound': {
      const [lo, hi] = options.ephemeralRange ?? [32768, 60999];
      return (r) => r.local.port >= lo && r.local.port <= hi;
    }
    case 'not': {
      const f = compileExpr(node.operand, options);
      return (r) => !f(r);
    }
    case 'and': {
      const a = compileExpr(node.left, options);
      const b = compileExpr(node.right, options);
      return (r) => a(r) && b(r);
    }
    case 'or': {
      const a = compileExpr(node.left, options);
      const b = compileExpr(node.right, options);
      return (r) => a(r) || b(r);
    }
  }
}

/**
 * The full predicate of a filter: the record's Linux state is in `stateMask`, and the
 * expression (if any) holds.
 */
export function compilePredicate(ast: FilterAst, stateMask: number, options: EvaluateOptions = {}): RecordPredicate {
  const expr = ast.expr === null ? null : compileExpr(ast.expr, options);
  if (expr === null) return (r) => maskHas(stateMask, r.linuxState);
  return (r) => maskHas(stateMask, r.linuxState) && expr(r);
}
