/**
 * Process attribution: one linear pass over /proc/PID/fd into a map from socket inode to
 * the owning process, like `ss -p` but without re-reading /proc per socket.
 *
 * Processes that exit during the scan are skipped; directories we may not read (other
 * users' processes without root) are counted so the caller can say what it could not see.
 *
 * The pass itself (FdScan, below) lists socket descriptors into flat arrays; it can run on a
 * worker thread ({@link startProcessScan}) while the main thread reads the socket table,
 * and only the inodes the table returned are then turned into process references.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { ProcessRef } from '../records/socket.js';
import { libc, PROTOTYPES } from './libc.js';

export interface ProcessScan {
  /** Socket inode → the first process found holding it (lowest pid, lowest fd). */
  readonly byInode: ReadonlyMap<number, ProcessRef>;
  /** Processes whose fd directory we could not read (permission). */
  readonly unreadable: number;
  /** Processes scanned. */
  readonly scanned: number;
}

/**
 * Scans `procRoot` (normally /proc). `wanted`, when given, limits the map to those
 * inodes, which keeps memory proportional to the sockets asked for.
 */
export function scanProcesses(procRoot = '/proc', wanted?: ReadonlySet<number>): ProcessScan {
  const owners = new ProcessOwners([scanSocketFds(procRoot)]);
  const byInode = new Map<number, ProcessRef>();
  owners.forEach((inode, ref) => {
    if (wanted === undefined || wanted.has(inode)) byInode.set(inode, ref());
  });
  return { byInode, unreadable: owners.unreadable, scanned: owners.scanned };
}

/**
 * The findings of one scan (in parts, one per thread that took part), looked up by
 * inode: the first holder (lowest pid, then lowest fd) wins, and a process reference is
 * made only when asked for.
 */
export class ProcessOwners {
  /**
   * inode → (index in its part) × parts + part, of its first holder: an open-addressing
   * table in two typed arrays (a Map of 100,000 entries costs tens of milliseconds).
   */
  private readonly keys: Float64Array;
  private readonly at: Int32Array;
  private readonly mask: number;
  private readonly commands = new Map<number, string>();
  readonly unreadable: number;
  readonly scanned: number;

  constructor(private readonly parts: readonly FdScan[]) {
    const np = parts.length;
    let total = 0;
    for (const part of parts) total += part.count;
    let size = 16;
    while (size < total * 2) size *= 2;
    this.keys = new Float64Array(size).fill(-1);
    this.at = new Int32Array(size);
    this.mask = size - 1;
    let unreadable = 0;
    let scanned = 0;
    for (let p = 0; p < np; p++) {
      const part = parts[p] as FdScan;
      unreadable += part.unreadable;
      scanned += part.scanned;
      for (const [pid, command] of part.commands) if (!this.commands.has(pid)) this.commands.set(pid, command);
      const { inodes, pids, fds } = part;
      for (let i = 0; i < part.count; i++) {
        const inode = inodes[i] as number;
        const slot = this.slot(inode);
        if (this.keys[slot] === inode) {
          const had = this.at[slot] as number;
          const hp = parts[had % np] as FdScan;
          const hi = Math.floor(had / np);
          const hpid = hp.pids[hi] as number;
          const pid = pids[i] as number;
          if (hpid < pid || (hpid === pid && (hp.fds[hi] as number) <= (fds[i] as number))) continue;
        }
        this.keys[slot] = inode;
        this.at[slot] = i * np + p;
      }
    }
    this.unreadable = unreadable;
    this.scanned = scanned;
  }

  /** The slot holding `inode`, or the empty slot where it would go. */
  private slot(inode: number): number {
    const keys = this.keys;
    let s = Math.imul(inode >>> 0, 0x9e3779b1) & this.mask;
    for (;;) {
      const k = keys[s] as number;
      if (k === inode || k === -1) return s;
      s = (s + 1) & this.mask;
    }
  }

  /** The first process holding `inode` (lowest pid, lowest fd), or null. */
  owner(inode: number): ProcessRef | null {
    const slot = this.slot(inode);
    return this.keys[slot] === inode ? this.refAt(this.at[slot] as number) : null;
  }

  /** Every inode found (in scan order), with a maker of its owner's reference. */
  forEach(fn: (inode: number, ref: () => ProcessRef) => void): void {
    const np = this.parts.length;
    for (let p = 0; p < np; p++) {
      const part = this.parts[p] as FdScan;
      for (let i = 0; i < part.count; i++) {
        const inode = part.inodes[i] as number;
        const at = this.at[this.slot(inode)] as number;
        if (at === i * np + p) fn(inode, () => this.refAt(at));
      }
    }
  }

  private refAt(at: number): ProcessRef {
    const np = this.parts.length;
    const part = this.parts[at % np] as FdScan;
    const i = Math.floor(at / np);
    const pid = part.pids[i] as number;
    return { pid, command: this.commands.get(pid) ?? '?', fd: part.fds[i] as number };
  }
}

/** A scan under way: `finish` completes it (synchronously) and returns its result. */
export interface PendingProcessScan {
  finish(): ProcessOwners;
  /** Stops the scan if it still runs (call when the result is no longer wanted). */
  cancel(): void;
}

/** How long `finish` waits for the worker before scanning again on this thread. */
const WORKER_TIMEOUT_MS = 60_000;

const WORKER_URL = new URL('./process-scan-worker.js', import.meta.url);

/**
 * Shared control words: [CTL_DONE] the worker's state (0 running, 1 posted, 2 failed),
 * then one word per unit, set by the thread that claims it.
 */
export const CTL_DONE = 0;
const CTL_UNITS = 1;

/**
 * A claimer of units: the worker walks them from the first, this thread from the last,
 * so that the two mostly read different processes (two threads reading the same
 * process's fd directory slow each other down in the kernel). Returns the claimed unit,
 * or `unitCount` when there is none left for it.
 */
export function unitClaimer(ctl: Int32Array, unitCount: number, fromEnd: boolean): () => number {
  let next = fromEnd ? unitCount - 1 : 0;
  return () => {
    while (next >= 0 && next < unitCount) {
      const u = next;
      next += fromEnd ? -1 : 1;
      if (Atomics.compareExchange(ctl, CTL_UNITS + u, 0, 1) === 0) return u;
    }
    return unitCount;
  };
}

/**
 * Starts scanning `procRoot` on a worker thread, so the scan overlaps whatever this
 * thread does next (reading the socket table); `finish` then takes part in what is left
 * of it, unit by unit, and merges both halves. Where no worker can run (the worker
 * script is absent, as when running from TypeScript sources, or the thread fails) this
 * thread scans alone: the result is the same either way.
 */
export function startProcessScan(procRoot = '/proc'): PendingProcessScan {
  const plan = planScan(procRoot);
  const unitCount = plan.units.length / 3;
  const ctl = new Int32Array(new SharedArrayBuffer(4 * (CTL_UNITS + unitCount)));
  const claim = unitClaimer(ctl, unitCount, true);
  const alone = (): ProcessOwners => {
    const sink = new ScanSink(procRoot);
    scanUnits(plan, claim, sink);
    return new ProcessOwners([sink.result()]);
  };
  let worker: Worker | null = null;
  let port: MessagePort | null = null;
  if (unitCount > 1 && workerAvailable()) {
    const { MessageChannel, Worker } = threads();
    const channel = new MessageChannel();
    try {
      worker = new Worker(WORKER_URL, {
        workerData: { plan, ctl, port: channel.port2 },
        transferList: [channel.port2],
        stdout: true, // the scan prints nothing; do not tie the worker to our streams
        stderr: true,
      });
      worker.unref();
      port = channel.port1;
    } catch {
      channel.port1.close();
      worker = null;
    }
  }
  let done = false;
  const stop = (): void => {
    if (done) return;
    done = true;
    for (let u = 0; u < unitCount; u++) Atomics.store(ctl, CTL_UNITS + u, 1); // nothing more to claim
    port?.close();
    void worker?.terminate();
  };
  return {
    finish(): ProcessOwners {
      if (done) throw new Error('process scan finished twice');
      if (worker === null || port === null) {
        done = true;
        return alone();
      }
      try {
        const sink = new ScanSink(procRoot);
        let mine = 0;
        scanUnits(plan, () => {
          const u = claim();
          if (u < unitCount) mine++;
          return u;
        }, sink);
        if (mine === unitCount) return new ProcessOwners([sink.result()]); // the worker took none
        if (Atomics.load(ctl, CTL_DONE) === 0) Atomics.wait(ctl, CTL_DONE, 0, WORKER_TIMEOUT_MS);
        const reply = (threads().receiveMessageOnPort(port) as { message: WorkerReply } | undefined)?.message;
        if (reply !== undefined && reply.ok) return new ProcessOwners([reply.scan, sink.result()]);
      } finally {
        stop();
      }
      // The worker failed or hung with units of its own: scan everything again here.
      return new ProcessOwners([scanSocketFds(procRoot)]);
    },
    cancel: stop,
  };
}

const load = createRequire(import.meta.url);

/** node:worker_threads, loaded on first use: commands without -p do not pay for it. */
function threads(): typeof import('node:worker_threads') {
  return load('node:worker_threads') as typeof import('node:worker_threads');
}

function workerAvailable(): boolean {
  try {
    return existsSync(fileURLToPath(WORKER_URL));
  } catch {
    return false;
  }
}

type WorkerReply = { readonly ok: true; readonly scan: FdScan } | { readonly ok: false; readonly error: string };

// =======================================================================================
/*
 * The raw half (FdScan below): a pass over /proc/PID/fd that lists every socket
 * descriptor as (inode, pid, fd) into flat typed arrays — no object and, on the fast path,
 * no string per descriptor, so the arrays can be handed to another thread without
 * copying. ProcessOwners turns them into an inode → process map.
 *
 * The pass is cut into units that two threads can share: a small fd directory is one
 * unit, a large one (as counted by the size the kernel reports for /proc/PID/fd, Linux
 * 6.2+) one unit per {@link UNIT_FDS} descriptor numbers, so that even a single process
 * holding 100,000 sockets is scanned by both. Units are claimed through shared flags
 * ({@link unitClaimer}); each thread fills its own {@link FdScan}.
 *
 * The fast path calls libc through koffi: open(2) the fd directory, lseek(2) to the
 * unit's first descriptor (in /proc/PID/fd the directory position of fd N is N + 2),
 * getdents64(2) into one reused buffer and readlinkat(2) each entry relative to the
 * directory, parsing `socket:[INODE]` from bytes. Without koffi the same pass runs on
 * node:fs (readdirSync + readlinkSync), one unit per process.
 *
 * Processes that exit during the scan are skipped; fd directories we may not read (other
 * users' processes without root) are counted as unreadable.
 *
 * Limitations: a descriptor opened while the scan runs may be missed or seen, as with
 * any /proc walk (ss -p too). Where the kernel reports no size for /proc/PID/fd (before
 * 6.2) every process is one unit.
 */

export interface FdScan {
  /** Socket descriptors found. */
  readonly count: number;
  /** Per descriptor, `count` used entries each: socket inode, owning pid, fd number. */
  readonly inodes: Float64Array;
  readonly pids: Int32Array;
  readonly fds: Int32Array;
  /** pid → /proc/PID/comm (`?` when unreadable), for every pid holding a socket found here. */
  readonly commands: ReadonlyMap<number, string>;
  /** Processes whose fd directory we could not read (permission). */
  readonly unreadable: number;
  /** Processes scanned. */
  readonly scanned: number;
}

/** Descriptor numbers per unit of a large fd directory. */
export const UNIT_FDS = 4096;

/** The work of one pass: units of 3 numbers each (pid, first fd, end fd or -1 for no end). */
export interface ScanPlan {
  readonly procRoot: string;
  readonly units: Int32Array;
}

function isPid(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Lists the processes of `procRoot` and cuts their fd directories into units (in a
 * SharedArrayBuffer, for a worker to read as well). Splitting needs the fast path.
 */
export function planScan(procRoot = '/proc'): ScanPlan {
  let pids: number[];
  try {
    pids = readdirSync(procRoot)
      .filter(isPid)
      .map(Number)
      .sort((x, y) => x - y);
  } catch {
    pids = [];
  }
  const split = libcCalls() !== null;
  const units: number[] = [];
  for (const pid of pids) {
    let parts = 1;
    if (split) {
      try {
        parts = Math.max(1, Math.ceil(statSync(`${procRoot}/${pid}/fd`).size / UNIT_FDS));
      } catch {
        parts = 1; // gone or not ours: one unit finds out which
      }
    }
    for (let k = 0; k < parts; k++) units.push(pid, k * UNIT_FDS, k === parts - 1 ? -1 : (k + 1) * UNIT_FDS);
  }
  const shared = new Int32Array(new SharedArrayBuffer(Math.max(4, units.length * 4)));
  shared.set(units);
  return { procRoot, units: shared.subarray(0, units.length) };
}

/** Collects one thread's findings. */
export class ScanSink {
  count = 0;
  inodes = new Float64Array(4096);
  pids = new Int32Array(4096);
  fds = new Int32Array(4096);
  unreadable = 0;
  scanned = 0;
  private readonly commands = new Map<number, string>();

  constructor(private readonly procRoot: string) {}

  push(inode: number, pid: number, fd: number): void {
    if (this.count === this.inodes.length) {
      const n = this.count * 2;
      const inodes = new Float64Array(n);
      inodes.set(this.inodes);
      this.inodes = inodes;
      const pids = new Int32Array(n);
      pids.set(this.pids);
      this.pids = pids;
      const fds = new Int32Array(n);
      fds.set(this.fds);
      this.fds = fds;
    }
    const i = this.count++;
    this.inodes[i] = inode;
    this.pids[i] = pid;
    this.fds[i] = fd;
    if (!this.commands.has(pid)) this.commands.set(pid, readComm(this.procRoot, pid));
  }

  result(): FdScan {
    return {
      count: this.count,
      inodes: this.inodes,
      pids: this.pids,
      fds: this.fds,
      commands: this.commands,
      unreadable: this.unreadable,
      scanned: this.scanned,
    };
  }
}

function readComm(procRoot: string, pid: number): string {
  try {
    return readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return '?';
  }
}

/**
 * Scans units of `plan` into `sink` until `claim` (the next unit for this thread) returns
 * the number of units.
 */
export function scanUnits(plan: ScanPlan, claim: () => number, sink: ScanSink): void {
  const c = libcCalls();
  const unitCount = plan.units.length / 3;
  const scanner = c === null ? null : new LibcScanner(c, plan.procRoot, sink);
  for (let u = claim(); u < unitCount; u = claim()) {
    const pid = plan.units[u * 3] as number;
    const lo = plan.units[u * 3 + 1] as number;
    const hi = plan.units[u * 3 + 2] as number;
    if (scanner === null) scanWithFs(plan.procRoot, pid, sink);
    else scanner.unit(pid, lo, hi < 0 ? Infinity : hi);
  }
}

/** The whole pass on this thread. */
export function scanSocketFds(procRoot = '/proc'): FdScan {
  const plan = planScan(procRoot);
  const sink = new ScanSink(procRoot);
  let next = 0;
  scanUnits(plan, () => next++, sink);
  return sink.result();
}

// ---------------------------------------------------------------------------------------
// node:fs path

const SOCKET_PREFIX = 'socket:[';

function scanWithFs(procRoot: string, pid: number, sink: ScanSink): void {
  const fdDir = `${procRoot}/${pid}/fd`;
  let names: string[];
  try {
    names = readdirSync(fdDir);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') sink.unreadable++;
    return; // ENOENT/ESRCH: the process is gone
  }
  sink.scanned++;
  for (const name of names) {
    if (!isPid(name)) continue;
    let target: string;
    try {
      target = readlinkSync(`${fdDir}/${name}`);
    } catch {
      continue; // closed meanwhile
    }
    if (!target.startsWith(SOCKET_PREFIX) || !target.endsWith(']')) continue;
    sink.push(Number(target.slice(SOCKET_PREFIX.length, -1)), pid, Number(name));
  }
}

// ---------------------------------------------------------------------------------------
// libc path

interface LibcCalls {
  open(path: Uint8Array, flags: number, mode: number): number;
  lseek(fd: number, offset: number, whence: number): number;
  getdents64(fd: number, buf: Uint8Array, len: number): number;
  readlinkat(dirfd: number, path: Uint8Array, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  errno(): number;
  readonly EACCES: number;
  readonly EPERM: number;
}

let calls: LibcCalls | null | undefined;

/**
 * The libc calls of the fast path, or null (once and for all) when they cannot load. The
 * first call loads koffi: the scan worker calls scanUnits (which calls this) only once it
 * holds a unit (see process-scan-worker.ts), and nothing here loads it at import.
 */
function libcCalls(): LibcCalls | null {
  if (calls !== undefined) return calls;
  calls = null;
  // TCPSTATE_FD_SCAN=fs forces the node:fs path (to compare the two).
  if (process.platform !== 'linux' || process.env['TCPSTATE_FD_SCAN'] === 'fs') return null;
  try {
    const c = libc();
    const open = c.func('int open(const void *path, int flags, int mode)');
    const lseek = c.func('int64_t lseek(int fd, int64_t offset, int whence)');
    const getdents64 = c.func('intptr_t getdents64(int fd, void *buf, size_t len)');
    const readlinkat = c.func('intptr_t readlinkat(int dirfd, const void *path, void *buf, size_t len)');
    const close = c.func(PROTOTYPES.close);
    calls = {
      open: (p, f, m) => Number(open(p, f, m)),
      lseek: (fd, o, w) => Number(lseek(fd, o, w)),
      getdents64: (fd, b, l) => Number(getdents64(fd, b, l)),
      readlinkat: (d, p, b, l) => Number(readlinkat(d, p, b, l)),
      close: (fd) => Number(close(fd)),
      errno: c.errno,
      EACCES: c.errnoValue('EACCES') ?? 13,
      EPERM: c.errnoValue('EPERM') ?? 1,
    };
  } catch {
    calls = null;
  }
  return calls;
}

const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000; // the same on every Linux architecture
const SEEK_SET = 0;
/** In /proc/PID/fd, positions 0 and 1 are `.` and `..`; fd N sits at N + 2 (fs/proc/fd.c). */
const FD_POSITION = 2;
/** A dirent of a decimal fd name takes at most 32 bytes: room for a whole unit in one call. */
const DIRENT_BUFFER = UNIT_FDS * 32 + 1024;
/** `socket:[4294967295]` is 19 bytes; longer targets (paths) are cut, which is fine. */
const LINK_BUFFER = 64;
/** struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[]. */
const D_RECLEN = 16;
const D_NAME = 19;
// 's' 'o' 'c' 'k' 'e' 't' ':' '['
const SOCKET_BYTES = [115, 111, 99, 107, 101, 116, 58, 91] as const;

class LibcScanner {
  private readonly le = endianness() === 'LE';
  private readonly dents = new Uint8Array(DIRENT_BUFFER);
  private readonly dview = new DataView(this.dents.buffer);
  private readonly link = new Uint8Array(LINK_BUFFER);
  private readonly name = new Uint8Array(16);

  constructor(
    private readonly c: LibcCalls,
    private readonly procRoot: string,
    private readonly sink: ScanSink,
  ) {}

  /** Descriptors lo ≤ fd < hi of `pid`. The unit starting at 0 counts the process. */
  unit(pid: number, lo: number, hi: number): void {
    const c = this.c;
    const first = lo === 0;
    const dir = c.open(Buffer.from(`${this.procRoot}/${pid}/fd\0`, 'utf8'), O_RDONLY | O_CLOEXEC, 0);
    if (dir < 0) {
      const e = c.errno();
      if (first && (e === c.EACCES || e === c.EPERM)) this.sink.unreadable++;
      return; // gone
    }
    try {
      if (lo > 0 && c.lseek(dir, lo + FD_POSITION, SEEK_SET) < 0) return;
      const dents = this.dents;
      const dview = this.dview;
      const le = this.le;
      const want = hi === Infinity ? DIRENT_BUFFER : Math.min(DIRENT_BUFFER, (hi - lo) * 32 + 64);
      let listed = false;
      for (;;) {
        const len = c.getdents64(dir, dents, want);
        if (len <= 0) break; // the end, or the process went away under us
        if (!listed && first) this.sink.scanned++;
        listed = true;
        let off = 0;
        while (off < len) {
          const reclen = dview.getUint16(off + D_RECLEN, le);
          if (reclen === 0) break;
          let p = off + D_NAME;
          off += reclen;
          let fd = 0;
          let digits = 0;
          for (let ch = dents[p] as number; ch !== 0; ch = dents[++p] as number) {
            if (ch < 48 || ch > 57) {
              digits = -1;
              break;
            }
            fd = fd * 10 + (ch - 48);
            digits++;
          }
          if (digits <= 0 || digits > 10 || fd < lo) continue;
          if (fd >= hi) return;
          const name = this.name;
          for (let k = 0; k < digits; k++) name[k] = dents[p - digits + k] as number;
          name[digits] = 0;
          this.readOne(dir, pid, fd);
        }
      }
    } finally {
      c.close(dir);
    }
  }

  /** readlinkat(dir, name) for the fd whose NUL-terminated name is in `name`. */
  private readOne(dir: number, pid: number, fd: number): void {
    const link = this.link;
    const len = this.c.readlinkat(dir, this.name, link, LINK_BUFFER);
    if (len < SOCKET_BYTES.length + 2 || len > 20 || link[len - 1] !== 93) return; // not `socket:[N]`, or closed meanwhile
    for (let j = 0; j < SOCKET_BYTES.length; j++) if (link[j] !== SOCKET_BYTES[j]) return;
    let inode = 0;
    for (let j = SOCKET_BYTES.length; j < len - 1; j++) {
      const ch = link[j] as number;
      if (ch < 48 || ch > 57) return;
      inode = inode * 10 + (ch - 48);
    }
    this.sink.push(inode, pid, fd);
  }
}
