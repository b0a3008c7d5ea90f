/**
 * The live snapshot: the kernel's TCP table of one or more network namespaces, filtered
 * (states and bytecode in the kernel where possible, the rest here), with processes
 * attributed and namespaces labelled. Records stream to a visitor so aggregations keep
 * constant memory; `collectSnapshot` gathers them for listings.
 */
import { TcpstateError } from '../core/errors.js';
import type { Filter } from '../filter/index.js';
import { ALL_STATES_MASK, type Family, type SocketRecord, type SourceName } from '../records/socket.js';
import { enumerateNamespaces, ownNamespace, resolveNetns, type NetnsTarget } from '../sources/namespaces.js';
import { inNetns } from '../sources/netns-switch.js';
import { openSocketSource, type SourcePreference } from '../sources/open-source.js';
import { startProcessScan, type ProcessOwners } from '../sources/processes.js';
import { canReuseRecords } from '../sources/sock-diag.js';

export interface SnapshotOptions {
  readonly filter?: Filter | null;
  readonly families?: readonly Family[];
  /** Restrict to these Linux states (bitmask); combined with the filter's. */
  readonly stateMask?: number;
  /** Attribute sockets to processes (-p). */
  readonly processes?: boolean;
  /** Ask the kernel for tcp_info (-i). */
  readonly info?: boolean;
  /** `NAME`, `PID`, `all`, or undefined for the caller's namespace. */
  readonly netns?: string;
  readonly source?: SourcePreference;
  /**
   * For aggregations that keep nothing of a record beyond the visit: the sock_diag source
   * then hands every visit the same record object, rewritten per socket, so reading the
   * table allocates nothing per socket. The visitor must not keep the record or its
   * `local`, `remote`, `timer`, `info` objects (strings and numbers from it may be kept).
   * Ignored with `processes` (the records wait for the /proc scan) and by the /proc source.
   */
  readonly reuseRecords?: boolean;
}

export interface SnapshotReport {
  readonly source: SourceName;
  readonly namespaces: readonly string[];
  /** Things the user should know: fallbacks, what could not be seen. */
  readonly notices: readonly string[];
  /** Sockets with an inode that no readable process holds (only with processes). */
  readonly unattributed: number;
  readonly ms: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function targetsFor(spec: string | undefined, notices: string[]): NetnsTarget[] {
  if (spec === undefined) return [ownNamespace()];
  if (spec === 'all') {
    const { targets, unreadable } = enumerateNamespaces();
    if (unreadable > 0) {
      notices.push(`${unreadable} processes' namespaces could not be inspected (run as root to see every namespace)`);
    }
    return targets;
  }
  return [resolveNetns(spec)];
}

/** Streams the snapshot to `visit`; returns what happened. */
export function streamSnapshot(options: SnapshotOptions, visit: (r: SocketRecord) => void): SnapshotReport {
  const started = performance.now();
  const notices: string[] = [];
  const filter = options.filter ?? null;
  const targets = targetsFor(options.netns, notices);
  const stateMask = (options.stateMask ?? ALL_STATES_MASK) & (filter?.stateMask ?? ALL_STATES_MASK);
  const query = {
    families: options.families ?? (['ipv4', 'ipv6'] as const),
    stateMask,
    info: options.info === true,
    ...(filter?.bytecode ? { bytecode: filter.bytecode } : {}),
  };
  const predicate = filter?.predicate ?? null;
  // With -p the /proc scan runs on another thread while this one reads the table; the
  // records wait in `held` until it is done, then get their owners in dump order.
  const scan = options.processes === true ? startProcessScan() : null;
  const processNoticeAt = notices.length; // where the scan's notice goes, as when it ran first
  const held: Mutable<SocketRecord>[] = [];
  const reuse = scan === null && options.reuseRecords === true;
  let unattributed = 0;
  let sourceName: SourceName = 'sock-diag';
  const labels: string[] = [];

  const readOne = (target: NetnsTarget, procRoot: string, source: SourcePreference = options.source ?? 'auto'): void => {
    const opened = openSocketSource(source, procRoot);
    if (opened.notice !== null && !notices.includes(opened.notice)) notices.push(opened.notice);
    sourceName = opened.source.name;
    const label = target.label;
    try {
      const source = opened.source;
      if (scan !== null) {
        source.dump(query, (raw) => {
          if (predicate !== null && !predicate(raw)) return;
          const r = raw as Mutable<SocketRecord>;
          r.netns = label;
          held.push(r);
        });
      } else {
        const each = (raw: SocketRecord): void => {
          if (predicate !== null && !predicate(raw)) return;
          (raw as Mutable<SocketRecord>).netns = label;
          visit(raw);
        };
        if (reuse && canReuseRecords(source)) source.dumpReusing(query, each);
        else source.dump(query, each);
      }
    } finally {
      opened.source.close();
    }
  };

  const readAll = (): void => {
    for (const target of targets) {
      labels.push(target.label);
      if (target.own) {
        readOne(target, '/proc/net');
      } else if (options.source === 'proc' && target.pid !== null) {
        readOne(target, `/proc/${target.pid}/net`); // no setns needed
      } else {
        try {
          inNetns(target.path, () => readOne(target, '/proc/thread-self/net'));
        } catch (err: unknown) {
          const denied = err instanceof TcpstateError && err.code === 'E_PERMISSION';
          if (!denied || options.netns !== 'all') throw err;
          if (target.pid !== null) {
            // Without root we cannot enter, but the process's /proc view may be readable.
            // Only /proc shows it from outside: a netlink socket would be opened in our namespace.
            notices.push(`namespace ${target.label}: ${err.message}; read through /proc/${target.pid}/net instead`);
            readOne(target, `/proc/${target.pid}/net`, 'proc');
          } else {
            // A named namespace no visible process lives in: nothing else to read it through.
            labels.pop();
            notices.push(`namespace ${target.label}: ${err.message}; skipped`);
          }
        }
      }
    }
  };

  try {
    readAll();
  } catch (e) {
    scan?.cancel(); // the dump failed: nobody will wait for the scan
    throw e;
  }
  let processes: ProcessOwners | null = null;
  if (scan !== null) {
    processes = scan.finish();
    if (processes.unreadable > 0) {
      notices.splice(processNoticeAt, 0, `${processes.unreadable} processes could not be inspected (other users' processes need root)`);
    }
    for (const r of held) {
      if (r.inode !== 0) {
        const p = processes.owner(r.inode);
        r.process = p;
        if (p === null) unattributed++;
      }
      visit(r);
    }
    held.length = 0;
  }
  if (processes !== null && unattributed > 0 && processes.unreadable > 0) {
    notices.push(`${unattributed} sockets could not be attributed to a process (run as root to see all owners)`);
  }
  return {
    source: sourceName,
    namespaces: labels,
    notices,
    unattributed,
    ms: performance.now() - started,
  };
}

export function collectSnapshot(options: SnapshotOptions): { records: SocketRecord[]; report: SnapshotReport } {
  const records: SocketRecord[] = [];
  const report = streamSnapshot(options, (r) => records.push(r));
  return { records, report };
}
