/**
 * The live socket table from netlink NETLINK_SOCK_DIAG (net/ipv4/inet_diag.c,
 * tcp_diag.c): one inet_diag_req_v2 dump per address family, the state bitmask (and any
 * bytecode) applied in the kernel, replies parsed from one reused 64 KiB buffer.
 *
 * The netlink socket belongs to the network namespace of the thread that opens it, so
 * open the source inside the namespace you want to read (setns first, or `ip netns exec`).
 */
import { TcpstateError } from '../core/errors.js';
import type { DumpQuery, Family, SocketRecord, SocketSource } from '../records/socket.js';
import { buildDiagRequest, createReusableRecord, DUMP_DONE, DUMP_MORE, parseDiagReplies, type ReusableRecord } from '../wire/inet-diag.js';
import { loadLibc, type Libc } from './ffi-libc.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_SOCK_DIAG = 4;
const EINTR = 4;

/**
 * The kernel fills at most one ~32 KiB skb per recv of a dump (af_netlink.c caps
 * max_recvmsg_len); a larger buffer costs nothing and keeps MSG_TRUNC impossible.
 */
const RECV_BUFFER = 64 * 1024;

/** A sock_diag failure with the errno it came from. */
export class SockDiagError extends TcpstateError {
  readonly errno: number;

  constructor(code: string, errno: number, message: string) {
    super(code, message);
    this.name = 'SockDiagError';
    this.errno = errno;
  }
}

function errnoError(libc: Libc, call: string, errno: number): SockDiagError {
  const name = libc.errnoName(errno);
  let advice: string;
  let code = 'E_SOCK_DIAG';
  switch (name) {
    case 'EPERM':
    case 'EACCES':
      code = 'E_PERMISSION';
      advice = 'netlink sockets are blocked here (seccomp, a container policy or an LSM); use --source proc';
      break;
    case 'EAFNOSUPPORT':
    case 'EPROTONOSUPPORT':
      code = 'E_UNSUPPORTED';
      advice = 'this kernel has no NETLINK_SOCK_DIAG (CONFIG_INET_DIAG); use --source proc';
      break;
    case 'ENOENT':
      code = 'E_UNSUPPORTED';
      advice = 'the kernel has no inet_diag handler for TCP: load it with `modprobe tcp_diag` (and inet_diag), or use --source proc';
      break;
    case 'EINVAL':
      advice = 'the kernel rejected the request; if a filter was given its bytecode may be invalid for this kernel — retry without the filter or use --source proc';
      break;
    case 'EMFILE':
    case 'ENFILE':
      advice = 'too many open files: raise the limit (ulimit -n) or close some';
      break;
    case 'ENOBUFS':
    case 'ENOMEM':
      advice = 'the kernel ran out of memory for the reply; retry, or use --source proc';
      break;
    default:
      advice = 'use --source proc to read /proc/net/tcp instead';
  }
  return new SockDiagError(code, errno, `sock_diag ${call} failed: ${name} (${errno}); ${advice}`);
}

/** The sock_diag source: a {@link SocketSource} that can also decode into one reused record. */
export interface SockDiagSource extends SocketSource {
  /**
   * Like `dump`, but every visit receives the same record object, rewritten for each
   * socket: nothing is allocated per socket. For aggregations only — the visitor must not
   * keep the record or its `local`, `remote`, `timer` and `info` objects (strings and
   * numbers read from them may be kept). Listings that keep records use `dump`.
   */
  dumpReusing(query: DumpQuery, visit: (r: SocketRecord) => void): void;
}

/** Whether `source` can decode into a reused record ({@link SockDiagSource.dumpReusing}). */
export function canReuseRecords(source: SocketSource): source is SockDiagSource {
  return typeof (source as Partial<SockDiagSource>).dumpReusing === 'function';
}

/** Opens a NETLINK_SOCK_DIAG socket in the calling thread's network namespace. */
export function openSockDiag(): SockDiagSource {
  const libc = loadLibc();
  const buf = Buffer.allocUnsafe(RECV_BUFFER);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const sockaddr = new Uint8Array(12); // struct sockaddr_nl: family, pad, pid 0 (kernel), groups 0
  new DataView(sockaddr.buffer).setUint16(0, AF_NETLINK, true);

  let fd = -1;
  let seq = Math.floor(Date.now() / 1000) >>> 0;
  let closed = false;

  const open = (): void => {
    const s = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (s < 0) throw errnoError(libc, 'socket(AF_NETLINK, NETLINK_SOCK_DIAG)', libc.errno());
    if (libc.bind(s, sockaddr, sockaddr.length) < 0) {
      const e = libc.errno();
      libc.close(s);
      throw errnoError(libc, 'bind', e);
    }
    fd = s;
  };
  const drop = (): void => {
    if (fd >= 0) libc.close(fd);
    fd = -1;
  };
  open();

  const dumpFamily = (query: DumpQuery, family: Family, visit: (r: SocketRecord) => void, reuse: ReusableRecord | undefined): void => {
    seq = (seq + 1) >>> 0;
    const req = buildDiagRequest({ family, stateMask: query.stateMask, info: query.info, seq, bytecode: query.bytecode });
    for (;;) {
      const n = libc.sendto(fd, req, req.length, 0, sockaddr, sockaddr.length);
      if (n >= 0) break;
      const e = libc.errno();
      if (e !== EINTR) throw errnoError(libc, 'sendto', e);
    }
    for (;;) {
      const n = libc.recv(fd, buf, RECV_BUFFER, 0);
      if (n < 0) {
        const e = libc.errno();
        if (e === EINTR) continue;
        throw errnoError(libc, 'recv', e);
      }
      if (n === 0) throw new SockDiagError('E_SOCK_DIAG', 0, 'sock_diag: the kernel closed the dump without NLMSG_DONE');
      const status = parseDiagReplies(view, n, seq, query.info, visit, reuse);
      if (status === DUMP_MORE) continue;
      if (status === DUMP_DONE) return;
      throw errnoError(libc, `dump (${family})`, status);
    }
  };

  const dumpAll = (query: DumpQuery, visit: (r: SocketRecord) => void, reuse: ReusableRecord | undefined): void => {
    if (closed) throw new TcpstateError('E_CLOSED', 'sock_diag source used after close()');
    if (fd < 0) open();
    for (const family of query.families) {
      try {
        dumpFamily(query, family, visit, reuse);
      } catch (e) {
        // The dump may be half read (a visitor threw, or the kernel failed): the rest of
        // it would still be queued on this socket, so start the next dump on a new one.
        drop();
        throw e;
      }
    }
  };

  return {
    name: 'sock-diag',
    dump(query: DumpQuery, visit: (r: SocketRecord) => void): void {
      dumpAll(query, visit, undefined);
    },
    dumpReusing(query: DumpQuery, visit: (r: SocketRecord) => void): void {
      dumpAll(query, visit, createReusableRecord());
    },
    close(): void {
      closed = true;
      drop();
    },
  };
}
