/**
 * Lab namespaces: `ip netns add tcpstate-lab-<pid>-<n>` (so `ip netns exec NAME ss -tan`
 * works for the user), the main thread entered with setns(2) while the lab runs (so
 * sockets and the TUN device it creates live there), and removal on every way out.
 *
 * The creating pid is part of the name: a later run removes namespaces whose creator is
 * dead (a crash, SIGKILL) and never touches those of a live lab.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { TcpstateError } from '../core/errors.js';
import { CLONE_NEWNET, sys } from './sys.js';

export const LAB_PREFIX = 'tcpstate-lab-';
const NETNS_DIR = '/run/netns';

/** The documented exit code of `tcpstate lab` without the needed privileges. */
export const EXIT_NO_PRIVILEGE = 4;

let counter = 0;
/** Namespaces of this process not yet removed: the signal and exit handlers remove them. */
const live = new Set<string>();

export class LabError extends TcpstateError {
  constructor(message: string) {
    super('E_LAB', message);
    this.name = 'LabError';
  }
}

/** Null when the process may create namespaces and TUN devices, else the reason. */
export function privilegeProblem(): string | null {
  let capEff = 0n;
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    if (m?.[1] !== undefined) capEff = BigInt(`0x${m[1]}`);
  } catch {
    return 'cannot read /proc/self/status to check capabilities';
  }
  const CAP_NET_ADMIN = 12n;
  const CAP_SYS_ADMIN = 21n;
  const missing: string[] = [];
  if (((capEff >> CAP_NET_ADMIN) & 1n) === 0n) missing.push('CAP_NET_ADMIN');
  if (((capEff >> CAP_SYS_ADMIN) & 1n) === 0n) missing.push('CAP_SYS_ADMIN');
  if (missing.length === 0) return null;
  return (
    `the lab creates a network namespace and a TUN device, which needs root (missing ${missing.join(' and ')}); ` +
    'run it with sudo. Nothing was created.'
  );
}

function run(args: readonly string[], input?: string): { ok: boolean; err: string } {
  const r = spawnSync('ip', args as string[], {
    encoding: 'utf8',
    timeout: 10_000,
    ...(input !== undefined ? { input } : {}),
  });
  if (r.error) return { ok: false, err: r.error.message };
  return { ok: r.status === 0, err: (r.stderr ?? '').trim() };
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // A recycled pid running something else does not keep a lab alive.
    return /node|tcpstate/.test(cmd);
  } catch {
    return false;
  }
}

/** Removes `tcpstate-lab-<pid>-<n>` namespaces whose creating process is gone; returns their names. */
export function removeStaleNamespaces(): string[] {
  let names: string[];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(LAB_PREFIX)) continue;
    const m = /^tcpstate-lab-(\d+)-\d+$/.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pidAlive(pid)) continue;
    if (run(['netns', 'del', name]).ok) removed.push(name);
  }
  return removed;
}

/** Names of lab namespaces that exist now (for tests and `--hold` messages). */
export function listLabNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((n) => n.startsWith(LAB_PREFIX));
  } catch {
    return [];
  }
}

export class LabNamespace {
  readonly name: string;
  readonly path: string;
  private homeFd = -1;
  private removed = false;

  private constructor(name: string) {
    this.name = name;
    this.path = `${NETNS_DIR}/${name}`;
  }

  /** `ip netns add` a fresh namespace with lo up. */
  static create(): LabNamespace {
    const name = `${LAB_PREFIX}${process.pid}-${counter++}`;
    const r = run(['netns', 'add', name]);
    if (!r.ok) throw new LabError(`cannot create network namespace ${name}: ${r.err || 'ip netns add failed'}`);
    live.add(name);
    const ns = new LabNamespace(name);
    const up = run(['-n', name, 'link', 'set', 'lo', 'up']);
    if (!up.ok) {
      ns.remove();
      throw new LabError(`cannot bring lo up in ${name}: ${up.err}`);
    }
    return ns;
  }

  /** Runs `ip -n NAME -batch -` with one command a line. */
  ip(commands: readonly string[]): void {
    const r = run(['-n', this.name, '-batch', '-'], commands.join('\n') + '\n');
    if (!r.ok) throw new LabError(`ip -n ${this.name}: ${r.err}`);
  }

  get entered(): boolean {
    return this.homeFd !== -1;
  }

  /** Moves the main thread into the namespace until `leave` (sockets opened meanwhile live there). */
  enter(): void {
    if (this.homeFd !== -1) return;
    const s = sys();
    const home = openSync('/proc/thread-self/ns/net', 'r');
    const target = openSync(this.path, 'r');
    try {
      if (s.setns(target, CLONE_NEWNET) !== 0) {
        closeSync(home);
        throw new LabError(`cannot enter ${this.name}: ${s.errnoName(s.lastErrno)}`);
      }
    } finally {
      closeSync(target);
    }
    this.homeFd = home;
    // IPv6 off: the TUN would otherwise carry router solicitations and MLD reports.
    for (const p of ['all', 'default']) {
      try {
        writeFileSync(`/proc/sys/net/ipv6/conf/${p}/disable_ipv6`, '1');
      } catch {
        // IPv6 not built in: nothing to silence
      }
    }
  }

  leave(): void {
    if (this.homeFd === -1) return;
    const s = sys();
    const ok = s.setns(this.homeFd, CLONE_NEWNET) === 0;
    closeSync(this.homeFd);
    this.homeFd = -1;
    if (!ok) throw new LabError(`cannot return to the original network namespace: ${s.errnoName(s.lastErrno)}`);
  }

  /** Writes a sysctl of this namespace (the thread must be inside). */
  sysctl(name: string, value: string): void {
    writeFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, value);
  }

  /** Leaves (if inside) and deletes the namespace; idempotent. */
  remove(): void {
    if (this.removed) return;
    try {
      this.leave();
    } finally {
      this.removed = true;
      run(['netns', 'del', this.name]);
      live.delete(this.name);
    }
  }
}

/** Last resort on exit: delete whatever this process still has (synchronous). */
export function removeAllOwnNamespaces(): void {
  for (const name of [...live]) {
    run(['netns', 'del', name]);
    live.delete(name);
  }
}
