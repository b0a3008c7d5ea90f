/**
 * The tracefs source: our own ftrace instance (`instances/tcpstate-<pid>`, never the
 * global buffer) with the TCP tracepoints enabled and filtered in the kernel, read through
 * its `trace_pipe`, and removed on every way out.
 *
 * Lifecycle:
 * - tracefs is found at /sys/kernel/tracing (or /sys/kernel/debug/tracing) and mounted
 *   there (`mount -t tracefs nodev /sys/kernel/tracing`) when it is not;
 * - instances named `tcpstate-<pid>` whose pid is dead (a crash, SIGKILL) are removed first;
 * - mkdir of the instance allocates its ring buffer; we size it (`buffer_size_kb`, per CPU),
 *   choose the `mono` clock (CLOCK_MONOTONIC, the clock of process.hrtime), write the event
 *   filters, enable the events, and open `trace_pipe` non-blocking;
 * - `remove()` (idempotent) disables, closes and rmdirs; a process `exit` hook calls it for
 *   whatever is still live, so errors and signals handled by the caller clean up too.
 *   Only SIGKILL leaves an instance behind, which the next start removes.
 *
 * Lost events: the ring buffer overwrites its oldest events when the reader falls behind;
 * `per_cpu/cpuN/stats` counts them (`overrun`, plus `dropped events` in non-overwrite mode).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, writeFileSync } from 'node:fs';
import { TcpstateError } from '../core/errors.js';

export const INSTANCE_PREFIX = 'tcpstate-';
/** Per-CPU ring buffer size: at ~80 bytes an event, 8 MiB holds ~100k events per CPU. */
export const DEFAULT_BUFFER_KB = 8192;

const CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

export type TraceErrorCode = 'E_TRACE_PRIVILEGE' | 'E_TRACE_UNAVAILABLE' | 'E_TRACE_FORMAT' | 'E_TRACE';

export class TraceError extends TcpstateError {
  constructor(code: TraceErrorCode, message: string) {
    super(code, message);
    this.name = 'TraceError';
  }
}

export const TRACE_EVENTS = {
  setState: 'sock/inet_sock_set_state',
  sendReset: 'tcp/tcp_send_reset',
  receiveReset: 'tcp/tcp_receive_reset',
} as const;

function errCode(e: unknown): string {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : '';
}

function isRoot(): boolean {
  return process.geteuid?.() === 0;
}

const PRIVILEGE_HINT =
  'tcpstate trace reads the kernel tracepoints through tracefs, which needs root (run it with sudo); nothing was changed';

/**
 * The tracefs mount point, mounting it when `mount` is true and none is mounted.
 * Throws E_TRACE_PRIVILEGE / E_TRACE_UNAVAILABLE with what is needed.
 */
export function findTracefs(mount = true): string {
  for (const dir of CANDIDATES) if (existsSync(`${dir}/instances`)) return dir;
  if (!isRoot()) {
    throw new TraceError('E_TRACE_PRIVILEGE', `${PRIVILEGE_HINT} (tracefs is not mounted or not readable: mounting it needs root too)`);
  }
  if (mount && existsSync(CANDIDATES[0] ?? '')) {
    const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { encoding: 'utf8', timeout: 10_000 });
    if (existsSync('/sys/kernel/tracing/instances')) return '/sys/kernel/tracing';
    const why = r.error?.message ?? (r.stderr ?? '').trim();
    throw new TraceError(
      'E_TRACE_UNAVAILABLE',
      `tracefs is not mounted and "mount -t tracefs nodev /sys/kernel/tracing" failed (${why || 'no reason given'}); ` +
        'tcpstate trace needs a kernel with CONFIG_FTRACE and tracefs',
    );
  }
  throw new TraceError(
    'E_TRACE_UNAVAILABLE',
    'no tracefs found (/sys/kernel/tracing); tcpstate trace needs a kernel with CONFIG_FTRACE and tracefs mounted',
  );
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // A recycled pid running something else does not keep an instance alive.
    return cmd.includes('node') || cmd.includes('tcpstate');
  } catch {
    return false;
  }
}

/** Removes `tcpstate-<pid>` instances whose process is gone; returns their names. */
export function removeStaleInstances(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(`${root}/instances`);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(INSTANCE_PREFIX)) continue;
    const tail = name.slice(INSTANCE_PREFIX.length);
    const pid = Number(tail);
    if (!Number.isInteger(pid) || pid <= 0 || String(pid) !== tail || pidAlive(pid)) continue;
    try {
      rmdirSync(`${root}/instances/${name}`);
      removed.push(name);
    } catch {
      // busy (someone still reads it) or already gone: leave it
    }
  }
  return removed;
}

/** Names of our instances that exist now (tests, diagnostics). */
export function listInstances(root: string): string[] {
  try {
    return readdirSync(`${root}/instances`).filter((n) => n.startsWith(INSTANCE_PREFIX));
  } catch {
    return [];
  }
}

export interface InstanceOptions {
  /** Filters per event (ftrace filter syntax); omitted events are unfiltered. */
  readonly filters: Partial<Record<keyof typeof TRACE_EVENTS, string>>;
  readonly bufferKb?: number;
  /** tracefs mount point (default: found, mounted if needed). */
  readonly root?: string;
}

const live = new Set<TraceInstance>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const i of [...live]) i.remove();
  });
}

export class TraceInstance {
  readonly root: string;
  readonly name: string;
  readonly path: string;
  /** Stale instances of dead runs removed when this one was created. */
  readonly staleRemoved: readonly string[];
  /** Events that could be enabled (the reset events are optional on old kernels). */
  readonly enabled: readonly (keyof typeof TRACE_EVENTS)[];
  private fd = -1;
  private removed = false;
  private readonly cpus: number[];

  private constructor(root: string, name: string, stale: string[], enabled: (keyof typeof TRACE_EVENTS)[], cpus: number[]) {
    this.root = root;
    this.name = name;
    this.path = `${root}/instances/${name}`;
    this.staleRemoved = stale;
    this.enabled = enabled;
    this.cpus = cpus;
  }

  /** Creates, configures and starts the instance; throws TraceError. */
  static create(options: InstanceOptions): TraceInstance {
    const root = options.root ?? findTracefs();
    const stale = removeStaleInstances(root);
    if (!existsSync(`${root}/events/${TRACE_EVENTS.setState}/format`)) {
      throw new TraceError(
        'E_TRACE_UNAVAILABLE',
        `this kernel has no tracepoint ${TRACE_EVENTS.setState} (Linux ≥ 4.16 has it); tcpstate trace cannot run`,
      );
    }
    const name = `${INSTANCE_PREFIX}${process.pid}`;
    const path = `${root}/instances/${name}`;
    try {
      mkdirSync(path);
    } catch (e) {
      const code = errCode(e);
      if (code === 'EACCES' || code === 'EPERM') throw new TraceError('E_TRACE_PRIVILEGE', `${PRIVILEGE_HINT} (cannot create ${path}: ${code})`);
      if (code !== 'EEXIST') throw new TraceError('E_TRACE', `cannot create trace instance ${path}: ${e instanceof Error ? e.message : String(e)}`);
      // EEXIST: ours from an earlier call in this process; reuse it.
    }
    let cpus: number[] = [];
    try {
      cpus = readdirSync(`${path}/per_cpu`)
        .filter((d) => d.startsWith('cpu'))
        .map((d) => Number(d.slice(3)))
        .filter((n) => Number.isInteger(n));
    } catch {
      cpus = [];
    }
    const enabled: (keyof typeof TRACE_EVENTS)[] = [];
    const inst = new TraceInstance(root, name, stale, enabled, cpus);
    live.add(inst);
    installExitHook();
    try {
      inst.write('tracing_on', '0');
      inst.write('buffer_size_kb', String(options.bufferKb ?? DEFAULT_BUFFER_KB));
      try {
        inst.write('trace_clock', 'mono');
      } catch {
        throw new TraceError('E_TRACE', 'the trace clock "mono" is not available; tcpstate trace needs it to time transitions');
      }
      for (const ev of Object.keys(TRACE_EVENTS) as (keyof typeof TRACE_EVENTS)[]) {
        const dir = `events/${TRACE_EVENTS[ev]}`;
        if (!existsSync(`${path}/${dir}/enable`)) {
          if (ev === 'setState') throw new TraceError('E_TRACE_UNAVAILABLE', `no ${TRACE_EVENTS[ev]} in the trace instance`);
          continue;
        }
        const filter = options.filters[ev];
        if (filter !== undefined) {
          try {
            inst.write(`${dir}/filter`, filter);
          } catch (e) {
            throw new TraceError('E_TRACE', `the kernel refused the event filter "${filter}" for ${TRACE_EVENTS[ev]}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        inst.write(`${dir}/enable`, '1');
        enabled.push(ev);
      }
      inst.fd = openSync(`${path}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
      inst.write('tracing_on', '1');
    } catch (e) {
      inst.remove();
      if (e instanceof TraceError) throw e;
      const code = errCode(e);
      if (code === 'EACCES' || code === 'EPERM') throw new TraceError('E_TRACE_PRIVILEGE', `${PRIVILEGE_HINT} (${code} on ${path})`);
      throw new TraceError('E_TRACE', `cannot set up trace instance ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return inst;
  }

  private write(file: string, value: string): void {
    writeFileSync(`${this.path}/${file}`, value);
  }

  /** Reads the format file of one of our events (for checking the print fmt). */
  format(ev: keyof typeof TRACE_EVENTS): string {
    return readFileSync(`${this.root}/events/${TRACE_EVENTS[ev]}/format`, 'utf8');
  }

  /**
   * Reads what trace_pipe has into `buf` from `offset` (at most a page of text per call:
   * the kernel formats one page at a time); returns the byte count, 0 when nothing is
   * pending. Callers loop (see {@link readAvailable}) to take several pages at once.
   */
  read(buf: Buffer, offset = 0): number {
    if (this.fd < 0 || offset >= buf.length) return 0;
    try {
      return readSync(this.fd, buf, offset, buf.length - offset, null);
    } catch (e) {
      const code = errCode(e);
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return 0;
      throw e;
    }
  }

  /**
   * Fills `buf` from `offset` with as many reads as trace_pipe answers before it runs dry
   * (EAGAIN) or fewer than `minFree` bytes stay free; returns the new end of data.
   */
  readAvailable(buf: Buffer, offset: number, minFree = 4096): number {
    let end = offset;
    while (buf.length - end >= minFree) {
      const n = this.read(buf, end);
      if (n <= 0) break;
      end += n;
    }
    return end;
  }

  /** Events the kernel lost since the instance started, summed over CPUs. */
  lost(): number {
    let total = 0;
    for (const cpu of this.cpus) {
      let text: string;
      try {
        text = readFileSync(`${this.path}/per_cpu/cpu${cpu}/stats`, 'latin1');
      } catch {
        continue;
      }
      total += statValue(text, 'overrun:') + statValue(text, 'dropped events:');
    }
    return total;
  }

  get isLive(): boolean {
    return !this.removed;
  }

  /** Stops tracing, closes the pipe and deletes the instance; idempotent, never throws. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    live.delete(this);
    try {
      this.write('tracing_on', '0');
    } catch {
      // already gone
    }
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // closed
      }
      this.fd = -1;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        rmdirSync(this.path);
        return;
      } catch (e) {
        if (errCode(e) === 'ENOENT') return;
      }
    }
  }
}

/** `overrun: 12` in a per-CPU stats file → 12 (0 when absent). */
export function statValue(text: string, label: string): number {
  const i = text.indexOf(label);
  if (i < 0) return 0;
  const end = text.indexOf('\n', i);
  const n = Number(text.slice(i + label.length, end < 0 ? undefined : end).trim());
  return Number.isFinite(n) ? n : 0;
}
