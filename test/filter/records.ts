/**
 * Test kit for the filter: socket records built from short descriptions and from the
 * lines `ss -tanH` prints, and a small interpreter of inet_diag bytecode written from the
 * kernel's inet_diag_bc_run / inet_diag_bc_audit (net/ipv4/inet_diag.c) to check what we
 * compile.
 */
import type { TcpState } from '../../src/core/states.js';
import { stateFromLinux, STATE_INFO, TCP_STATES } from '../../src/core/states.js';
import { filterableRecord, type Family, type SocketRecord } from '../../src/records/socket.js';
import { parseIpv4, parseIpv6 } from '../../src/filter/parser.js';

/** A record with the given state (canonical id or Linux number) and endpoints. */
export function rec(
  state: TcpState | number,
  local: string,
  remote: string,
  family: Family = local.includes('[') || local.startsWith('*') ? 'ipv6' : 'ipv4',
): SocketRecord {
  const linuxState = typeof state === 'number' ? state : STATE_INFO[state].linux;
  const id = typeof state === 'number' ? stateFromLinux(state) : state;
  if (id === undefined) throw new Error(`bad Linux state ${String(state)}`);
  return filterableRecord(id, linuxState, family, endpoint(local, family), endpoint(remote, family));
}

/** `127.0.0.1:80`, `[::1]:443`, `*:*`, `0.0.0.0:*`, `[::ffff:127.0.0.1]:9443`. */
export function endpoint(text: string, family: Family): { address: string; port: number } {
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new Error(`no port in ${text}`);
  let addr = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  const pct = addr.indexOf('%');
  if (pct >= 0) addr = addr.slice(0, pct);
  if (addr.startsWith('[') && addr.endsWith(']')) addr = addr.slice(1, -1);
  if (addr === '*') addr = family === 'ipv6' ? '::' : '0.0.0.0';
  return { address: addr, port: portText === '*' ? 0 : Number(portText) };
}

const SS_STATE: ReadonlyMap<string, number> = new Map([
  ...TCP_STATES.map((s) => [STATE_INFO[s].ss, STATE_INFO[s].linux] as const),
  // ss prints request sockets (Linux 12) and the rare full SYN_RECV socket alike; on a
  // kernel without TCP Fast Open in play every SYN-RECV line is a request socket.
  ['SYN-RECV', 12],
]);

/**
 * One `ss -tanH` line: State Recv-Q Send-Q Local:Port Peer:Port. ss drops the State
 * column when the filter selects a single state (ss.c: `states & (states - 1)` is 0);
 * such lines start with Recv-Q and take `impliedState` (a Linux number).
 */
export function parseSsLine(line: string, impliedState?: number): SocketRecord {
  const f = line.trim().split(/\s+/);
  if (/^\d+$/.test(f[0] ?? '')) {
    if (impliedState === undefined) throw new Error(`ss line without a State column: ${line}`);
    f.unshift('');
  }
  const [state, rq, sq, local, peer] = f;
  if (state === undefined || rq === undefined || sq === undefined || local === undefined || peer === undefined) {
    throw new Error(`short ss line: ${line}`);
  }
  const linuxState = state === '' ? impliedState : SS_STATE.get(state);
  if (linuxState === undefined) throw new Error(`unknown ss state ${state} in: ${line}`);
  const family: Family = local.startsWith('[') || local.startsWith('*') ? 'ipv6' : 'ipv4';
  const r = rec(linuxState, local, peer, family);
  return { ...r, recvQueue: Number(rq), sendQueue: Number(sq) };
}

/** `local remote state` key of a record, as the oracle compares sets. */
export function keyOf(r: SocketRecord): string {
  const show = (a: { address: string; port: number }): string =>
    `${r.family === 'ipv6' ? `[${a.address}]` : a.address}:${a.port === 0 ? '*' : a.port}`;
  return `${show(r.local)} ${show(r.remote)} ${STATE_INFO[r.state].ss}`;
}

// ---------------------------------------------------------------------------
// inet_diag bytecode interpreter (what the kernel does)
// ---------------------------------------------------------------------------

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(r: SocketRecord, local: boolean): Uint8Array {
  const a = local ? r.local.address : r.remote.address;
  const b = r.family === 'ipv4' ? parseIpv4(a) : parseIpv6(a);
  if (b === null) throw new Error(`bad address ${a}`);
  return b;
}

function bitstringMatch(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const m = 0x80 >> (i & 7);
    if (((a[aOff + byte] ?? 0) & m) !== ((b[bOff + byte] ?? 0) & m)) return false;
  }
  return true;
}

/** Runs `bc` on a record like inet_diag_bc_run; `autoLocked` stands for SOCK_BINDPORT_LOCK. */
export function runBytecode(bc: Uint8Array, r: SocketRecord, autoLocked = false): boolean {
  const view = new DataView(bc.buffer, bc.byteOffset, bc.byteLength);
  let p = 0;
  let len = bc.length;
  while (len > 0) {
    const code = view.getUint8(p);
    const yesJump = view.getUint8(p + 1);
    const noJump = view.getUint16(p + 2, LE);
    let yes = true;
    switch (code) {
      case 0:
        break;
      case 1:
        yes = false;
        break;
      case 2:
        yes = r.local.port >= view.getUint16(p + 6, LE);
        break;
      case 3:
        yes = r.local.port <= view.getUint16(p + 6, LE);
        break;
      case 4:
        yes = r.remote.port >= view.getUint16(p + 6, LE);
        break;
      case 5:
        yes = r.remote.port <= view.getUint16(p + 6, LE);
        break;
      case 6:
        yes = !autoLocked;
        break;
      case 11:
        yes = r.local.port === view.getUint16(p + 6, LE);
        break;
      case 12:
        yes = r.remote.port === view.getUint16(p + 6, LE);
        break;
      case 7:
      case 8: {
        const local = code === 7;
        const family = view.getUint8(p + 4);
        const plen = view.getUint8(p + 5);
        const port = view.getInt32(p + 8, LE);
        const cond = bc.subarray(p + 12);
        if (port !== -1 && port !== (local ? r.local.port : r.remote.port)) {
          yes = false;
          break;
        }
        const addr = bytesOf(r, local);
        const entryFamily = r.family === 'ipv4' ? 2 : 10;
        if (family !== 0 && family !== entryFamily) {
          yes = false;
          if (entryFamily === 10 && family === 2) {
            const mapped = addr.subarray(0, 12).every((b, i) => (i < 10 ? b === 0 : b === 0xff));
            if (mapped && bitstringMatch(addr, 12, cond, 0, plen)) yes = true;
          }
          break;
        }
        if (plen === 0) break;
        yes = bitstringMatch(addr, 0, cond, 0, plen);
        break;
      }
      default:
        throw new Error(`op ${code} not interpreted`);
    }
    const step = yes ? yesJump : noJump;
    len -= step;
    p += step;
  }
  return len === 0;
}

/** inet_diag_bc_audit's structural checks (jumps forward, aligned, landing on op starts). */
export function auditBytecode(bc: Uint8Array): boolean {
  const view = new DataView(bc.buffer, bc.byteOffset, bc.byteLength);
  const starts = new Set<number>();
  for (let p = 0; p < bc.length; ) {
    starts.add(p);
    const yes = view.getUint8(p + 1);
    if (yes < 4 || yes % 4 !== 0) return false;
    p += yes;
    if (p > bc.length) return false;
  }
  for (const p of starts) {
    const len = bc.length - p;
    const yes = view.getUint8(p + 1);
    const no = view.getUint16(p + 2, LE);
    if (yes > len + 4 || no > len + 4 || no % 4 !== 0 || no < 4) return false;
    const target = p + no;
    if (target < bc.length && !starts.has(target)) return false;
  }
  return true;
}
