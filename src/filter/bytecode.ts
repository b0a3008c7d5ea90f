/**
 * Compiles a filter expression into inet_diag bytecode (include/uapi/linux/inet_diag.h),
 * the program the kernel runs on each socket of a sock_diag dump (net/ipv4/inet_diag.c,
 * inet_diag_bc_run; checked beforehand by inet_diag_bc_audit).
 *
 * A program is a sequence of `struct inet_diag_bc_op { u8 code; u8 yes; u16 no; }`, each
 * possibly followed by arguments. Every op is a conditional forward jump: on success to
 * `yes` bytes further (always the op's own length here, so success falls through), on
 * failure to `no` bytes further. The socket is accepted when execution ends exactly at the
 * end of the program, rejected when it jumps 4 bytes beyond it.
 *
 * We build programs the way ss's ssfilter_bytecompile does, with one convention for every
 * fragment: success ends at the fragment's end, failure jumps to its end + 4.
 * - `a and b`: a, then b; a's failure jumps are moved to the end of b + 4;
 * - `a or b`: a, an unconditional JMP to the end, then b (a's failure lands on b);
 * - `not a`: a, then a JMP 8 (a's success is turned into failure and vice versa);
 * - `sport >= N` (and S_LE, D_GE, D_LE): the op plus a second op whose `no` holds N;
 * - `sport > N` is `not sport <= N`, `sport < N` is `not sport >= N`;
 * - `src/dst` and `sport/dport =`: S_COND / D_COND with `struct inet_diag_hostcond
 *   { u8 family; u8 prefix_len; int port; __be32 addr[]; }` (port -1 = any, family
 *   AF_UNSPEC with four zero address bytes when no address is given, as ss sends);
 *   optionally `sport/dport =` as S_EQ / D_EQ (Linux ≥ 4.16) with `equalityOps: true`;
 * - `autobound`: AUTO.
 *
 * Op headers and hostcond.port are in host byte order (we write the running machine's),
 * addresses in network order.
 *
 * Limitations: the kernel's AUTO tests "port not bound explicitly", which differs from
 * the userspace predicate's ephemeral-range test; callers apply the predicate to what the
 * kernel returns anyway (ss does the same), so the result is the intersection.
 */
import type { ExprNode, HostPattern, PortNode } from './ast.js';

/** Op codes of include/uapi/linux/inet_diag.h. */
export const INET_DIAG_BC = {
  NOP: 0,
  JMP: 1,
  S_GE: 2,
  S_LE: 3,
  D_GE: 4,
  D_LE: 5,
  AUTO: 6,
  S_COND: 7,
  D_COND: 8,
  DEV_COND: 9,
  MARK_COND: 10,
  S_EQ: 11,
  D_EQ: 12,
  CGROUP_COND: 13,
} as const;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export interface BytecodeOptions {
  /** Compile `sport/dport =` to S_EQ/D_EQ (Linux ≥ 4.16) instead of S_COND/D_COND. */
  readonly equalityOps?: boolean;
  /** Byte order of op headers and hostcond.port (default: this machine's). */
  readonly littleEndian?: boolean;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type ArgWriter = (view: DataView, p: number, le: boolean) => void;

/** One op: header fields plus argument bytes, at an absolute offset of the program. */
interface Op {
  readonly at: number;
  readonly code: number;
  /** Total size (header + arguments), a multiple of 4; `yes` is always this. */
  readonly size: number;
  /** Absolute offset failure jumps to (`no` = fail - at). */
  fail: number;
  readonly args: ArgWriter;
}

const NO_ARGS: ArgWriter = () => {};

/**
 * Emits ops into one list in a single pass. Each `compile` call lays a fragment at `base`
 * and returns its end; its failure exits target end + 4 until an enclosing `and` moves
 * them. Left-deep chains (`a or b or c ...`) therefore cost linear time.
 */
class Emitter {
  readonly ops: Op[] = [];

  constructor(private readonly options: BytecodeOptions) {}

  private single(base: number, code: number, size: number, args: ArgWriter): number {
    this.ops.push({ at: base, code, size, fail: base + size + 4, args });
    return base + size;
  }

  /** `not`: the fragment, then JMP 8 (its success becomes failure and vice versa). */
  private negate(base: number, body: (base: number) => number): number {
    const end = body(base);
    this.ops.push({ at: end, code: INET_DIAG_BC.JMP, size: 4, fail: end + 8, args: NO_ARGS });
    return end + 4;
  }

  private portCompare(base: number, code: number, port: number): number {
    return this.single(base, code, 8, (view, p, le) => {
      // second op: { code 0, yes 0, no = port }
      view.setUint8(p, 0);
      view.setUint8(p + 1, 0);
      view.setUint16(p + 2, port, le);
    });
  }

  private hostcond(base: number, code: number, family: number, prefixLength: number, port: number, address: Uint8Array): number {
    const alen = family === AF_INET6 ? 16 : 4;
    return this.single(base, code, 4 + 8 + alen, (view, p, le) => {
      view.setUint8(p, family);
      view.setUint8(p + 1, prefixLength);
      view.setUint16(p + 2, 0, le);
      view.setInt32(p + 4, port, le);
      for (let i = 0; i < alen; i++) view.setUint8(p + 8 + i, family === AF_UNSPEC ? 0 : (address[i] ?? 0));
    });
  }

  private hostPattern(base: number, code: number, pattern: HostPattern): number {
    const family = pattern.family === null ? AF_UNSPEC : pattern.family === 'ipv4' ? AF_INET : AF_INET6;
    return this.hostcond(base, code, family, pattern.family === null ? 0 : pattern.prefixLength, pattern.port ?? -1, pattern.address);
  }

  private port(node: PortNode, base: number): number {
    const local = node.side === 'local';
    const { op, port } = node;
    const eq = (b: number): number =>
      this.options.equalityOps === true && port !== null
        ? this.portCompare(b, local ? INET_DIAG_BC.S_EQ : INET_DIAG_BC.D_EQ, port)
        : this.hostcond(b, local ? INET_DIAG_BC.S_COND : INET_DIAG_BC.D_COND, AF_UNSPEC, 0, port ?? -1, new Uint8Array(4));
    const ge = (b: number): number => this.portCompare(b, local ? INET_DIAG_BC.S_GE : INET_DIAG_BC.D_GE, port ?? 0);
    const le = (b: number): number => this.portCompare(b, local ? INET_DIAG_BC.S_LE : INET_DIAG_BC.D_LE, port ?? 0);
    switch (op) {
      case 'eq':
        return eq(base);
      case 'ne':
        return this.negate(base, eq);
      case 'ge':
        return ge(base);
      case 'le':
        return le(base);
      case 'gt':
        return this.negate(base, le);
      case 'lt':
        return this.negate(base, ge);
    }
  }

  compile(node: ExprNode, base: number): number {
    switch (node.kind) {
      case 'host': {
        const code = node.side === 'local' ? INET_DIAG_BC.S_COND : INET_DIAG_BC.D_COND;
        const body = (b: number): number => this.hostPattern(b, code, node.pattern);
        return node.negated ? this.negate(base, body) : body(base);
      }
      case 'port':
        return this.port(node, base);
      case 'autobound':
        return this.single(base, INET_DIAG_BC.AUTO, 4, NO_ARGS);
      case 'not':
        return this.negate(base, (b) => this.compile(node.operand, b));
      case 'and': {
        // a, then b; a's failure exits (to mid + 4) move to the end of b + 4
        const first = this.ops.length;
        const mid = this.compile(node.left, base);
        const last = this.ops.length;
        const end = this.compile(node.right, mid);
        for (let i = first; i < last; i++) {
          const op = this.ops[i];
          if (op !== undefined && op.fail === mid + 4) op.fail = end + 4;
        }
        return end;
      }
      case 'or': {
        // a, JMP to the end, b: a's failure (mid + 4) lands on b
        const mid = this.compile(node.left, base);
        const jump: Op = { at: mid, code: INET_DIAG_BC.JMP, size: 4, fail: 0, args: NO_ARGS };
        this.ops.push(jump);
        const end = this.compile(node.right, mid + 4);
        jump.fail = end;
        return end;
      }
    }
  }
}

/**
 * inet_diag bytecode for an expression, or null when there is nothing to compile (no
 * expression) or the program does not fit the format (a jump beyond 65535 bytes).
 */
export function compileBytecode(expr: ExprNode | null, options: BytecodeOptions = {}): Uint8Array | null {
  if (expr === null) return null;
  const emitter = new Emitter(options);
  const length = emitter.compile(expr, 0);
  const le = options.littleEndian ?? HOST_LITTLE_ENDIAN;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  for (const op of emitter.ops) {
    const no = op.fail - op.at;
    if (op.size > 255 || no > 0xffff || no < 4 || (no & 3) !== 0) return null;
    view.setUint8(op.at, op.code);
    view.setUint8(op.at + 1, op.size);
    view.setUint16(op.at + 2, no, le);
    op.args(view, op.at + 4, le);
  }
  return out;
}
