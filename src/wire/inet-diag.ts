/**
 * NETLINK_SOCK_DIAG messages for TCP: building the inet_diag_req_v2 dump request and
 * parsing the kernel's replies (nlmsghdr, NLMSG_DONE, NLMSG_ERROR, inet_diag_msg and the
 * INET_DIAG_INFO attribute holding struct tcp_info). Pure: no I/O; the caller owns the
 * buffers. Layouts from include/uapi/linux/{netlink,sock_diag,inet_diag,tcp}.h.
 *
 * Replies are parsed straight from the receive buffer through one DataView: the only
 * allocations per socket are the record itself, its two addresses and (when present)
 * its timer and tcp_info objects. IPv4 address strings are memoised.
 */
import { TcpstateError } from '../core/errors.js';
import { stateFromLinux } from '../core/states.js';
import { filterableRecord, type Family, type SocketAddress, type SocketRecord, type SocketTimer, type TcpInfoSubset, type TimerKind } from '../records/socket.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;

/** include/uapi/linux/netlink.h */
export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
/** Set by the kernel on a message of a dump whose table changed during the dump. */
export const NLM_F_DUMP_INTR = 0x10;

/** include/uapi/linux/sock_diag.h */
export const SOCK_DIAG_BY_FAMILY = 20;

/** inet_diag request attributes (INET_DIAG_REQ_*). */
export const INET_DIAG_REQ_BYTECODE = 1;
/** inet_diag reply attributes (INET_DIAG_*). */
export const INET_DIAG_INFO = 2;

/** sizeof(struct inet_diag_req_v2) */
export const INET_DIAG_REQ_V2_LEN = 56;
/** sizeof(struct inet_diag_msg) */
export const INET_DIAG_MSG_LEN = 72;

/** Offsets inside struct tcp_info (include/uapi/linux/tcp.h), with the size it first had. */
export const TCP_INFO = {
  retransmits: 2, // __u8
  lastDataSent: 44,
  lastDataRecv: 52,
  rtt: 68,
  rttvar: 72,
  sndCwnd: 80,
  totalRetrans: 100, // last field of the original (2.6) 104-byte struct
  bytesAcked: 120, // __u64, Linux 4.1+ (struct >= 136 bytes)
  bytesReceived: 128, // __u64, Linux 4.1+
} as const;

/** `dump` progress returned by {@link parseDiagReplies}. */
export const DUMP_MORE = -1;
export const DUMP_DONE = 0;

/** A reply the kernel would never send (short or overlong message): a parser-side error. */
export class NetlinkParseError extends TcpstateError {
  readonly offset: number;

  constructor(offset: number, what: string) {
    super('E_NETLINK_PARSE', `malformed netlink reply at byte ${offset}: ${what}; report this with your kernel version (uname -r)`);
    this.name = 'NetlinkParseError';
    this.offset = offset;
  }
}

export function familyNumber(family: Family): number {
  return family === 'ipv4' ? AF_INET : AF_INET6;
}

export interface DiagRequestOptions {
  readonly family: Family;
  /** Linux state bitmask (bit n = state n). */
  readonly stateMask: number;
  /** Ask for INET_DIAG_INFO (tcp_info). */
  readonly info: boolean;
  readonly seq: number;
  /** inet_diag bytecode, sent as an INET_DIAG_REQ_BYTECODE attribute. */
  readonly bytecode?: Uint8Array | undefined;
}

/** Builds one netlink message: nlmsghdr + inet_diag_req_v2 (+ INET_DIAG_REQ_BYTECODE). */
export function buildDiagRequest(o: DiagRequestOptions): Uint8Array {
  const bc = o.bytecode;
  const attrLen = bc === undefined ? 0 : align4(4 + bc.length);
  if (bc !== undefined && 4 + bc.length > 0xffff) {
    throw new TcpstateError('E_BYTECODE', `inet_diag bytecode of ${bc.length} bytes is too long for one attribute (max 65531)`);
  }
  const len = NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN + attrLen;
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  // struct nlmsghdr, in host byte order like every netlink header.
  v.setUint32(0, len, LE);
  v.setUint16(4, SOCK_DIAG_BY_FAMILY, LE);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, LE);
  v.setUint32(8, o.seq >>> 0, LE);
  v.setUint32(12, 0, LE); // nlmsg_pid: 0 = to the kernel
  // struct inet_diag_req_v2
  const r = NLMSG_HDRLEN;
  v.setUint8(r, familyNumber(o.family));
  v.setUint8(r + 1, IPPROTO_TCP);
  v.setUint8(r + 2, o.info ? 1 << (INET_DIAG_INFO - 1) : 0);
  v.setUint8(r + 3, 0);
  v.setUint32(r + 4, o.stateMask >>> 0, LE);
  // id: all zero (dump everything); the cookie "no cookie" marker is not needed for dumps.
  if (bc !== undefined) {
    const a = r + INET_DIAG_REQ_V2_LEN;
    v.setUint16(a, 4 + bc.length, LE);
    v.setUint16(a + 2, INET_DIAG_REQ_BYTECODE, LE);
    out.set(bc, a + 4);
  }
  return out;
}

/** netlink headers and inet_diag counters are host-endian: detect this host's order. */
const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Parses every netlink message in `buf[0, length)` received for the dump with sequence
 * number `seq`, calling `visit` for each socket. Returns DUMP_MORE when the dump goes on,
 * DUMP_DONE at NLMSG_DONE, or a positive errno the kernel reported (NLMSG_ERROR, or a
 * negative value carried by NLMSG_DONE). Messages of another sequence number (left over
 * from an abandoned dump) are skipped. Throws NetlinkParseError on a truncated message.
 */
export function parseDiagReplies(
  view: DataView,
  length: number,
  seq: number,
  withInfo: boolean,
  visit: (r: SocketRecord) => void,
  reuse?: ReusableRecord,
): number {
  let off = 0;
  while (off + NLMSG_HDRLEN <= length) {
    const len = view.getUint32(off, LE);
    const type = view.getUint16(off + 4, LE);
    const mseq = view.getUint32(off + 8, LE);
    if (len < NLMSG_HDRLEN || off + len > length) {
      throw new NetlinkParseError(off, `nlmsg_len ${len} with ${length - off} bytes left`);
    }
    if (mseq === seq >>> 0) {
      const p = off + NLMSG_HDRLEN;
      if (type === SOCK_DIAG_BY_FAMILY) {
        if (len - NLMSG_HDRLEN < INET_DIAG_MSG_LEN) {
          throw new NetlinkParseError(off, `inet_diag_msg of ${len - NLMSG_HDRLEN} bytes (expected ${INET_DIAG_MSG_LEN})`);
        }
        if (reuse === undefined) {
          const rec = decodeInetDiagMsg(view, p, off + len, withInfo);
          if (rec !== null) visit(rec);
        } else if (decodeInetDiagMsgInto(view, p, off + len, withInfo, reuse)) {
          visit(reuse.record);
        }
      } else if (type === NLMSG_DONE) {
        // Since Linux 4.x NLMSG_DONE carries the dump's final status (0 or -errno).
        const status = len >= NLMSG_HDRLEN + 4 ? view.getInt32(p, LE) : 0;
        return status < 0 ? -status : DUMP_DONE;
      } else if (type === NLMSG_ERROR) {
        if (len < NLMSG_HDRLEN + 4) throw new NetlinkParseError(off, 'NLMSG_ERROR without its error code');
        const err = view.getInt32(p, LE);
        if (err !== 0) return -err;
        // error 0 is an acknowledgement: not sent for dumps unless NLM_F_ACK, ignore.
      } else if (type === NLMSG_OVERRUN) {
        throw new NetlinkParseError(off, 'NLMSG_OVERRUN (data lost)');
      }
      // NLMSG_NOOP and unknown types: skip.
    }
    off += align4(len);
  }
  if (off < length) throw new NetlinkParseError(off, `${length - off} trailing bytes, shorter than a netlink header`);
  return DUMP_MORE;
}

const TIMER_KINDS: readonly (TimerKind | null)[] = [null, 'on', 'keepalive', 'timewait', 'persist'];

/** Maps idiag_timer (and /proc's `tr`) to a timer kind: 1 on, 2 keepalive, 3 timewait, 4 persist. */
export function timerKind(n: number): TimerKind | null {
  return TIMER_KINDS[n] ?? null;
}

/**
 * Decodes one struct inet_diag_msg at `p` (its attributes run to `end`). Returns null for a
 * state number the state table does not know (a newer kernel); such sockets are skipped.
 */
export function decodeInetDiagMsg(view: DataView, p: number, end: number, withInfo: boolean): SocketRecord | null {
  const fam = view.getUint8(p);
  const linuxState = view.getUint8(p + 1);
  const state = stateFromLinux(linuxState);
  if (state === undefined) return null;
  const timerN = view.getUint8(p + 2);
  const retrans = view.getUint8(p + 3);
  const sport = view.getUint16(p + 4, false);
  const dport = view.getUint16(p + 6, false);
  let family: Family;
  let local: string;
  let remote: string;
  if (fam === AF_INET) {
    family = 'ipv4';
    local = ipv4Text(view.getUint32(p + 8, false));
    remote = ipv4Text(view.getUint32(p + 24, false));
  } else {
    family = 'ipv6';
    local = ipv6Text(view, p + 8);
    remote = ipv6Text(view, p + 24);
  }
  const expires = view.getInt32(p + 52, LE);
  const kind = timerKind(timerN);
  const timer: SocketTimer | null = kind === null ? null : { kind, expiresMs: expires, retransmits: retrans };
  let info: TcpInfoSubset | null = null;
  if (withInfo) {
    let a = p + INET_DIAG_MSG_LEN;
    while (a + 4 <= end) {
      const alen = view.getUint16(a, LE);
      const atype = view.getUint16(a + 2, LE) & 0x3fff; // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
      if (alen < 4 || a + alen > end) break;
      if (atype === INET_DIAG_INFO) {
        info = decodeTcpInfo(view, a + 4, alen - 4);
        break;
      }
      a += align4(alen);
    }
  }
  return {
    state,
    linuxState,
    family,
    local: { address: local, port: sport },
    remote: { address: remote, port: dport },
    recvQueue: view.getUint32(p + 56, LE),
    sendQueue: view.getUint32(p + 60, LE),
    uid: view.getUint32(p + 64, LE),
    inode: view.getUint32(p + 68, LE),
    timer,
    netns: null,
    process: null,
    info,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One record (with its addresses, timer and tcp_info objects) that
 * {@link decodeInetDiagMsgInto} rewrites for every socket: an aggregation that does not
 * keep records can read a whole dump without allocating anything per socket. Whoever
 * receives `record` must not keep it, nor its `local`, `remote`, `timer` or `info`
 * objects, past the visit; strings and numbers read from it may be kept.
 */
export interface ReusableRecord {
  readonly record: SocketRecord;
  /** The same objects as `record`'s, writable (for the decoder). */
  readonly rec: Mutable<SocketRecord>;
  readonly local: Mutable<SocketAddress>;
  readonly remote: Mutable<SocketAddress>;
  readonly timer: Mutable<SocketTimer>;
  readonly info: Mutable<TcpInfoSubset>;
}

export function createReusableRecord(): ReusableRecord {
  const local: Mutable<SocketAddress> = { address: '', port: 0 };
  const remote: Mutable<SocketAddress> = { address: '', port: 0 };
  // Filled in place for every socket decoded (no object per socket).
  const rec: Mutable<SocketRecord> = filterableRecord('CLOSED', 0, 'ipv4', local, remote);
  const timer: Mutable<SocketTimer> = { kind: 'on', expiresMs: 0, retransmits: 0 };
  const info: Mutable<TcpInfoSubset> = {
    rttMs: 0, rttvarMs: 0, retransmits: 0, totalRetrans: 0, cwnd: 0, bytesAcked: 0, bytesReceived: 0, lastSendMs: 0, lastReceiveMs: 0,
  };
  return { record: rec, rec, local, remote, timer, info };
}

/**
 * {@link decodeInetDiagMsg} into `into` instead of new objects: the same values, field for
 * field. Returns false (leaving `into` half written) for a state number the table does
 * not know. `netns` and `process` are left as the caller set them.
 */
export function decodeInetDiagMsgInto(view: DataView, p: number, end: number, withInfo: boolean, into: ReusableRecord): boolean {
  const linuxState = view.getUint8(p + 1);
  const state = stateFromLinux(linuxState);
  if (state === undefined) return false;
  const r = into.rec;
  r.state = state;
  r.linuxState = linuxState;
  const local = into.local;
  const remote = into.remote;
  local.port = view.getUint16(p + 4, false);
  remote.port = view.getUint16(p + 6, false);
  if (view.getUint8(p) === AF_INET) {
    r.family = 'ipv4';
    local.address = ipv4Text(view.getUint32(p + 8, false));
    remote.address = ipv4Text(view.getUint32(p + 24, false));
  } else {
    r.family = 'ipv6';
    local.address = ipv6Text(view, p + 8);
    remote.address = ipv6Text(view, p + 24);
  }
  const kind = TIMER_KINDS[view.getUint8(p + 2)] ?? null;
  if (kind === null) {
    r.timer = null;
  } else {
    const t = into.timer;
    t.kind = kind;
    t.expiresMs = view.getInt32(p + 52, LE);
    t.retransmits = view.getUint8(p + 3);
    r.timer = t;
  }
  r.recvQueue = view.getUint32(p + 56, LE);
  r.sendQueue = view.getUint32(p + 60, LE);
  r.uid = view.getUint32(p + 64, LE);
  r.inode = view.getUint32(p + 68, LE);
  r.info = null;
  if (withInfo) {
    let a = p + INET_DIAG_MSG_LEN;
    while (a + 4 <= end) {
      const alen = view.getUint16(a, LE);
      const atype = view.getUint16(a + 2, LE) & 0x3fff;
      if (alen < 4 || a + alen > end) break;
      if (atype === INET_DIAG_INFO) {
        r.info = decodeTcpInfoInto(view, a + 4, alen - 4, into.info);
        break;
      }
      a += align4(alen);
    }
  }
  return true;
}

function decodeTcpInfoInto(view: DataView, p: number, len: number, o: Mutable<TcpInfoSubset>): TcpInfoSubset {
  const d = decodeTcpInfo(view, p, len); // -i is rare with reuse: share the field logic
  o.rttMs = d.rttMs;
  o.rttvarMs = d.rttvarMs;
  o.retransmits = d.retransmits;
  o.totalRetrans = d.totalRetrans;
  o.cwnd = d.cwnd;
  o.bytesAcked = d.bytesAcked;
  o.bytesReceived = d.bytesReceived;
  o.lastSendMs = d.lastSendMs;
  o.lastReceiveMs = d.lastReceiveMs;
  return o;
}

/**
 * Reads the tcp_info subset from `len` bytes at `p`. Fields beyond `len` (an older
 * kernel's shorter struct: 104 bytes before 3.15, 120 before 4.1) read as 0.
 */
export function decodeTcpInfo(view: DataView, p: number, len: number): TcpInfoSubset {
  const u32 = (o: number): number => (o + 4 <= len ? view.getUint32(p + o, LE) : 0);
  const u64 = (o: number): number => (o + 8 <= len ? Number(view.getBigUint64(p + o, LE)) : 0);
  return {
    rttMs: u32(TCP_INFO.rtt) / 1000,
    rttvarMs: u32(TCP_INFO.rttvar) / 1000,
    retransmits: len > TCP_INFO.retransmits ? view.getUint8(p + TCP_INFO.retransmits) : 0,
    totalRetrans: u32(TCP_INFO.totalRetrans),
    cwnd: u32(TCP_INFO.sndCwnd),
    bytesAcked: u64(TCP_INFO.bytesAcked),
    bytesReceived: u64(TCP_INFO.bytesReceived),
    lastSendMs: u32(TCP_INFO.lastDataSent),
    lastReceiveMs: u32(TCP_INFO.lastDataRecv),
  };
}

// ---------------------------------------------------------------------------------------
// Address text

/** Memo of dotted quads: direct-mapped (a slot per hash, the newest address wins it). */
const V4_SLOTS = 8192;
const V4_KEYS = new Float64Array(V4_SLOTS).fill(-1);
const V4_TEXT: string[] = new Array<string>(V4_SLOTS).fill('');

/** Dotted quad of an address given as a big-endian u32 (memoised: tables repeat addresses). */
export function ipv4Text(a: number): string {
  const slot = (Math.imul(a, 0x9e3779b1) >>> 19) & (V4_SLOTS - 1);
  if (V4_KEYS[slot] === a) return V4_TEXT[slot] as string;
  const s = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  V4_KEYS[slot] = a;
  V4_TEXT[slot] = s;
  return s;
}

const HEX16: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));

function hex16(w: number): string {
  return w < 256 ? (HEX16[w] ?? '') : w.toString(16);
}

/**
 * IPv6 text of the 16 network-order bytes at `p`, as glibc's inet_ntop (and so `ss`) prints
 * it: RFC 5952 (lower-case hex, leading zeros dropped, the longest run of two or more zero
 * groups compressed to `::`, the first on a tie) plus the embedded-IPv4 forms
 * `::ffff:a.b.c.d` (v4-mapped) and `::a.b.c.d` (the deprecated v4-compatible form, which
 * glibc still uses when exactly the first 96 bits are zero and group 7 is non-zero).
 */
export function ipv6Text(view: DataView, p: number): string {
  const w0 = view.getUint32(p, false);
  const w1 = view.getUint32(p + 4, false);
  const w2 = view.getUint32(p + 8, false);
  const w3 = view.getUint32(p + 12, false);
  // Fast paths: ::, ::1, ::ffff:a.b.c.d
  if (w0 === 0 && w1 === 0) {
    if (w2 === 0) {
      if (w3 === 0) return '::';
      if (w3 === 1) return '::1';
      if (w3 >>> 16 !== 0) return `::${ipv4Text(w3)}`;
    } else if (w2 === 0xffff) {
      return `::ffff:${ipv4Text(w3)}`;
    }
  }
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  for (let i = 0; i < 8; i++) {
    if (g[i] === 0) {
      if (curBase < 0) curBase = i;
      if (i - curBase + 1 > bestLen) {
        bestLen = i - curBase + 1;
        bestBase = curBase;
      }
    } else {
      curBase = -1;
    }
  }
  if (bestLen < 2) bestBase = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += hex16(g[i] ?? 0);
    if (i < 7) s += ':';
  }
  return s;
}

/** IPv6 text of 16 network-order bytes (convenience over {@link ipv6Text}). */
export function ipv6TextOf(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new TcpstateError('E_BAD_ADDRESS', `an IPv6 address has 16 bytes, got ${bytes.length}`);
  return ipv6Text(new DataView(bytes.buffer, bytes.byteOffset, 16), 0);
}
