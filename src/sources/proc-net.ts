/**
 * The socket table from /proc/net/tcp and /proc/net/tcp6: the fallback when netlink
 * sock_diag is unavailable. Files are read synchronously, so /proc/net resolves to the
 * network namespace of the calling thread; pass `/proc/PID/net` as the root to read the
 * namespace of another process.
 *
 * The state mask is applied here (the kernel prints every socket); inet_diag bytecode is
 * ignored (the caller filters). tcp_info is not available from these files (`info` is
 * always null).
 *
 * Limitations: the kernel prints 0 as the send queue of a listener (inet_diag gives the
 * backlog); timer expiry has 10 ms resolution; the files are generated in chunks, so a
 * socket that changes state during the read can be seen twice or not at all.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { TcpstateError } from '../core/errors.js';
import type { DumpQuery, Family, SocketRecord, SocketSource } from '../records/socket.js';
import { parseProcNetTcp, ProcParseError, type ProcLineIssue } from '../wire/proc-net-tcp.js';

export interface ProcNetOptions {
  /**
   * Called for each malformed line (which is skipped). Without it, a dump that met
   * malformed lines throws ProcParseError after every good line was visited.
   */
  readonly onMalformed?: (file: string, issue: ProcLineIssue) => void;
}

const FILES: Readonly<Record<Family, string>> = { ipv4: 'tcp', ipv6: 'tcp6' };

export function openProcNet(root = '/proc/net', options: ProcNetOptions = {}): SocketSource {
  let buf: Buffer = Buffer.allocUnsafe(256 * 1024);
  let closed = false;

  /** Reads a whole file into `buf` (grown as needed); null when it does not exist. */
  const readAll = (path: string): number | null => {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      const advice = code === 'EACCES' || code === 'EPERM' ? ': reading another process’s namespace needs root (or the same user)' : '';
      throw new TcpstateError('E_PROC_READ', `cannot open ${path}: ${code ?? String(e)}${advice}`);
    }
    try {
      let len = 0;
      for (;;) {
        if (buf.length - len < 64 * 1024) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, len);
          buf = bigger;
        }
        const n = readSync(fd, buf, len, buf.length - len, null);
        if (n === 0) return len;
        len += n;
      }
    } finally {
      closeSync(fd);
    }
  };

  return {
    name: 'proc',
    dump(query: DumpQuery, visit: (r: SocketRecord) => void): void {
      if (closed) throw new TcpstateError('E_CLOSED', 'proc source used after close()');
      for (const family of query.families) {
        const path = join(root, FILES[family]);
        const len = readAll(path);
        if (len === null) {
          // No tcp6 when IPv6 is disabled: no IPv6 sockets. No tcp at all: a wrong root.
          if (family === 'ipv6') continue;
          throw new TcpstateError('E_PROC_READ', `${path} does not exist: is /proc mounted, and is ${root} a net directory?`);
        }
        const issues = parseProcNetTcp(buf, len, family, query.stateMask, visit);
        if (issues.length > 0) {
          const report = options.onMalformed;
          if (report === undefined) throw new ProcParseError(path, issues);
          for (const i of issues) report(path, i);
        }
      }
    },
    close(): void {
      closed = true;
      buf = Buffer.alloc(0);
    },
  };
}
