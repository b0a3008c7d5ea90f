/**
 * Process attribution: one linear pass over /proc/PID/fd into a map from socket inode to
 * the owning process, like `ss -p` but without re-reading /proc per socket.
 *
 * Processes that exit during the scan are skipped; directories we may not read (other
 * users' processes without root) are counted so the caller can say what it could not see.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ProcessRef } from '../records/socket.js';

export interface ProcessScan {
  /** Socket inode → the first process found holding it (lowest pid, lowest fd). */
  readonly byInode: ReadonlyMap<number, ProcessRef>;
  /** Processes whose fd directory we could not read (permission). */
  readonly unreadable: number;
  /** Processes scanned. */
  readonly scanned: number;
}

const SOCKET_PREFIX = 'socket:[';

function isPid(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function readComm(procRoot: string, pid: string): string {
  try {
    return readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return '?';
  }
}

/**
 * Scans `procRoot` (normally /proc). `wanted`, when given, limits the map to those
 * inodes, which keeps memory proportional to the sockets asked for.
 */
export function scanProcesses(procRoot = '/proc', wanted?: ReadonlySet<number>): ProcessScan {
  const byInode = new Map<number, ProcessRef>();
  let unreadable = 0;
  let scanned = 0;
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter(isPid);
  } catch {
    return { byInode, unreadable: 0, scanned: 0 };
  }
  pids.sort((x, y) => Number(x) - Number(y));
  for (const pid of pids) {
    const fdDir = `${procRoot}/${pid}/fd`;
    let fds: string[];
    try {
      fds = readdirSync(fdDir);
    } catch (err: unknown) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') unreadable++;
      continue; // ENOENT/ESRCH: the process is gone
    }
    scanned++;
    let command: string | undefined;
    fds.sort((x, y) => Number(x) - Number(y));
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${fdDir}/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      if (!target.startsWith(SOCKET_PREFIX)) continue;
      const inode = Number(target.slice(SOCKET_PREFIX.length, -1));
      if (wanted !== undefined && !wanted.has(inode)) continue;
      if (byInode.has(inode)) continue;
      command ??= readComm(procRoot, pid);
      byInode.set(inode, { pid: Number(pid), command, fd: Number(fd) });
    }
  }
  return { byInode, unreadable, scanned };
}
