/**
 * Network namespaces: resolve `--netns NAME|PID|all` to namespace files, enumerate the
 * distinct namespaces on the host, and label them.
 *
 * A namespace is identified by the inode of its nsfs file (/proc/PID/ns/net,
 * /run/netns/NAME). Labels: the /run/netns name when it has one, `default` for the
 * caller's own namespace, otherwise `pid:N` with the lowest pid living in it.
 */
import { readdirSync, statSync } from 'node:fs';
import { TcpstateError } from '../core/errors.js';

export interface NetnsTarget {
  readonly label: string;
  /** An nsfs file to setns() into. */
  readonly path: string;
  /** nsfs inode identity. */
  readonly inode: number;
  /** A process living in it, whose /proc/PID/net shows the namespace without setns. */
  readonly pid: number | null;
  /** The caller's own namespace: nothing to enter. */
  readonly own: boolean;
}

export const NETNS_DIRS = ['/run/netns', '/var/run/netns'] as const;

function inodeOf(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

function namedNamespaces(): Map<number, { name: string; path: string }> {
  const out = new Map<number, { name: string; path: string }>();
  for (const dir of NETNS_DIRS) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = `${dir}/${name}`;
      const ino = inodeOf(path);
      if (ino !== null && !out.has(ino)) out.set(ino, { name, path });
    }
  }
  return out;
}

function ownInode(): number | null {
  return inodeOf('/proc/self/ns/net');
}

/** Resolves one `--netns` value: a /run/netns name or a PID. */
export function resolveNetns(spec: string): NetnsTarget {
  const own = ownInode();
  if (/^[0-9]+$/.test(spec)) {
    const path = `/proc/${spec}/ns/net`;
    const ino = inodeOf(path);
    if (ino === null) {
      throw new TcpstateError(
        'E_NETNS',
        `--netns ${spec}: no process ${spec}, or its namespace is not readable (other users' processes need root)`,
      );
    }
    const named = namedNamespaces().get(ino);
    return {
      label: named?.name ?? (ino === own ? 'default' : `pid:${spec}`),
      path,
      inode: ino,
      pid: Number(spec),
      own: ino === own,
    };
  }
  if (spec.includes('/') || spec === '.' || spec === '..') {
    throw new TcpstateError('E_NETNS', `--netns ${spec}: expected a name from "ip netns list", a PID, or "all"`);
  }
  for (const dir of NETNS_DIRS) {
    const path = `${dir}/${spec}`;
    const ino = inodeOf(path);
    if (ino !== null) return { label: spec, path, inode: ino, pid: null, own: ino === own };
  }
  throw new TcpstateError(
    'E_NETNS',
    `--netns ${spec}: no such named namespace in ${NETNS_DIRS.join(' or ')} (see "ip netns list"), and not a PID`,
  );
}

/**
 * Every distinct network namespace on the host: the named ones and those of every
 * process we can see. Without root, other users' processes are invisible; the count of
 * those is returned so the caller can say so.
 */
export function enumerateNamespaces(): { targets: NetnsTarget[]; unreadable: number } {
  const own = ownInode();
  const named = namedNamespaces();
  const byInode = new Map<number, NetnsTarget>();
  let unreadable = 0;
  let pids: number[] = [];
  try {
    pids = readdirSync('/proc')
      .filter((n) => /^[0-9]+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    // no /proc: only named namespaces
  }
  for (const pid of pids) {
    const path = `/proc/${pid}/ns/net`;
    let ino: number;
    try {
      ino = statSync(path).ino;
    } catch (err: unknown) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') unreadable++;
      continue;
    }
    if (byInode.has(ino)) continue;
    const n = named.get(ino);
    byInode.set(ino, {
      label: n?.name ?? (ino === own ? 'default' : `pid:${pid}`),
      path: n?.path ?? path,
      inode: ino,
      pid,
      own: ino === own,
    });
  }
  for (const [ino, n] of named) {
    if (!byInode.has(ino)) byInode.set(ino, { label: n.name, path: n.path, inode: ino, pid: null, own: ino === own });
  }
  const targets = [...byInode.values()].sort((a, b) =>
    a.own !== b.own ? (a.own ? -1 : 1) : a.label < b.label ? -1 : a.label > b.label ? 1 : 0,
  );
  return { targets, unreadable };
}

/** The caller's own namespace as a target. */
export function ownNamespace(): NetnsTarget {
  const ino = ownInode() ?? 0;
  const named = namedNamespaces().get(ino);
  return { label: named?.name ?? 'default', path: '/proc/self/ns/net', inode: ino, pid: process.pid, own: true };
}
