/**
 * Shared helpers of the tests that work in a private network namespace: the root gate
 * (skip loudly without root, fail when CI=true), creating and deleting namespaces,
 * running helper processes inside them and killing them again, and reading `ss` and the
 * kernel counters inside a namespace with the system's own tools.
 *
 * Cleanup: delete what a suite creates in its afterAll — vitest runs afterAll even when
 * beforeAll threw — with {@link killAll} for the processes first, then {@link deleteNetns},
 * which never throws.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';

export const IS_ROOT = process.getuid?.() === 0;
export const IN_CI = process.env['CI'] === 'true';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `cmd ARGS` to completion (bounded); returns stdout, throws with stderr when it fails. */
export function run(cmd: string, args: readonly string[], timeoutMs = 15_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------
// The root gate

/** True when `cmd ARGS` (default `cmd -V`) runs and exits 0 within 5 s. */
export function hasTool(cmd: string, ...args: readonly string[]): boolean {
  return spawnSync(cmd, args.length === 0 ? ['-V'] : args, { stdio: 'ignore', timeout: 5000 }).status === 0;
}

export interface Requirements {
  /** Why the test needs root (default: ip netns needs CAP_SYS_ADMIN). */
  readonly rootFor?: string;
  /** The iproute2 tools it runs (default: ip and ss). */
  readonly iproute2?: readonly string[];
  /** Other tools: command, its version argument, the package it comes in. */
  readonly tools?: readonly (readonly [command: string, versionArg: string, pkg: string])[];
}

/** What this machine lacks for a namespace test, or null when it has everything. */
export function missingForNetns(req: Requirements = {}): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (!IS_ROOT) return `not root (${req.rootFor ?? 'ip netns needs CAP_SYS_ADMIN'})`;
  for (const tool of req.iproute2 ?? ['ip', 'ss']) if (!hasTool(tool)) return `${tool} (iproute2) not found`;
  for (const [cmd, arg, pkg] of req.tools ?? []) if (!hasTool(cmd, arg)) return `${cmd} (${pkg}) not found`;
  return null;
}

export interface Gate {
  /** What is missing, or null when the suite can run. */
  readonly missing: string | null;
  /** Something is missing and CI is not set: skip the suite (a loud warning was printed). */
  readonly skip: boolean;
  /** Throws when something is missing: call it first in beforeAll, so that under CI=true the suite fails. */
  require(): void;
}

/**
 * The root gate of a namespace suite, checked once at load: `describe.skipIf(gate.skip)`,
 * then `gate.require()` first in its beforeAll. `what` names the suite in the messages
 * ("the ss oracle test for filters"); `hint` ends the skip warning.
 */
export function netnsGate(what: string, req: Requirements = {}, hint = ''): Gate {
  const missing = missingForNetns(req);
  const skip = missing !== null && !IN_CI;
  if (skip) console.warn(`\n!!! SKIPPING ${what}: ${missing}.${hint === '' ? '' : ` ${hint}`} !!!\n`);
  return {
    missing,
    skip,
    require(): void {
      if (missing !== null) throw new Error(`CI=true but ${what} cannot run: ${missing}`);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Namespaces

/**
 * `ip netns add NS`, lo up (unless `lo` is false), then `ip -n NS ...` for each command of
 * `setup` (`['addr', 'add', '127.0.0.2/8', 'dev', 'lo']`). Throws when a step fails; the
 * suite's afterAll deletes the namespace all the same.
 */
export function createNetns(ns: string, setup: readonly (readonly string[])[] = [], { lo = true }: { lo?: boolean } = {}): void {
  run('ip', ['netns', 'add', ns]);
  if (lo) run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  for (const args of setup) run('ip', ['-n', ns, ...args]);
}

/** `ip netns del` each name; never throws (the name may never have been created). */
export function deleteNetns(...names: readonly string[]): void {
  for (const ns of names) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 });
}

/** The named namespaces (`ip netns list`). */
export function netnsNames(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

// ---------------------------------------------------------------------------------------
// Processes inside a namespace

/**
 * Starts `ip netns exec NS ARGV...` (ip execs into the command). `detached` (the default)
 * gives it a process group of its own, which {@link killAll} kills whole.
 */
export function spawnInNetns(ns: string, argv: readonly string[], opts: { detached?: boolean; stdio?: StdioOptions } = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...argv], {
    detached: opts.detached ?? true,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Waits (bounded) until `child` prints `ready` on stdout or stderr and resolves with the
 * text that matched (for a RegExp, the match). Rejects when it prints `failed` first,
 * exits first, or is not ready within `timeoutMs`, quoting what it printed.
 */
export function waitForReady(
  child: ChildProcess,
  what: string,
  ready: string | RegExp,
  { failed, timeoutMs = 15_000 }: { failed?: string; timeoutMs?: number } = {},
): Promise<string> {
  let output = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready within ${timeoutMs / 1000} s: ${output}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const hit = typeof ready === 'string' ? (output.includes(ready) ? ready : null) : (ready.exec(output)?.[0] ?? null);
      if (hit !== null) {
        clearTimeout(timer);
        resolve(hit);
      } else if (failed !== undefined && output.includes(failed)) {
        clearTimeout(timer);
        reject(new Error(`${what} failed: ${output}`));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${String(code)}: ${output}`));
    });
  });
}

/**
 * SIGKILLs every child still running — its whole process group when it leads one — and
 * waits (bounded by `waitMs`) until they have exited.
 */
export async function killAll(children: readonly ChildProcess[], waitMs = 3000): Promise<void> {
  const exits: Promise<void>[] = [];
  for (const child of children) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
    exits.push(new Promise<void>((r) => child.once('exit', () => r())));
    try {
      process.kill(-child.pid, 'SIGKILL'); // its process group: ip netns exec execs into the command
    } catch {
      child.kill('SIGKILL'); // not a group leader (spawned without `detached`)
    }
  }
  await Promise.race([Promise.all(exits), sleep(waitMs)]);
}

// ---------------------------------------------------------------------------------------
// Reading a namespace with the system's tools

/** `ip netns exec NS ss FLAGS ARGS` (flags `-tanH` unless given): the raw output. */
export function ssText(ns: string, args: readonly string[] = [], flags = '-tanH'): string {
  return run('ip', ['netns', 'exec', ns, 'ss', flags, ...args]);
}

/** The non-blank lines of `ss -tanH ARGS` in NS. */
export function ssLinesIn(ns: string, args: readonly string[] = []): string[] {
  return ssText(ns, args)
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** One line of `ss -tanH`, its columns as printed. */
export interface SsLine {
  readonly state: string;
  readonly recvQ: number;
  readonly sendQ: number;
  readonly local: string;
  readonly peer: string;
}

/** Parses `ss -tanH` output (with its State column). */
export function parseSsLines(text: string): SsLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return { state: f[0] ?? '', recvQ: Number(f[1]), sendQ: Number(f[2]), local: f[3] ?? '', peer: f[4] ?? '' };
    });
}

/** `ip netns exec NS ss -tanH ARGS`, parsed. */
export function ssIn(ns: string, args: readonly string[] = []): SsLine[] {
  return parseSsLines(ssText(ns, args));
}

/** Sockets per ss state name (`TIME-WAIT`) in `ss -tanH` output. */
export function ssStateCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of text.split('\n')) {
    const s = l.split(/\s+/)[0] ?? '';
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return counts;
}

/**
 * Polls `ss -tanH` in NS (every 100 ms, at most `timeoutMs`) until `ready(text)` holds;
 * throws with what ss showed last otherwise.
 */
export async function waitForSs(ns: string, ready: (text: string) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = ssText(ns);
    if (ready(text)) return;
    if (Date.now() > deadline) throw new Error(`sockets not in place after ${timeoutMs / 1000} s:\n${text}`);
    await sleep(100);
  }
}

/** TcpExt counters of a namespace, from its own /proc/net/netstat (read by cat inside it). */
export function tcpExtIn(ns: string): Map<string, number> {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/netstat'], { encoding: 'utf8', timeout: 10_000 });
  const out = new Map<string, number>();
  const lines = r.stdout.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const h = (lines[i] ?? '').split(/\s+/);
    const v = (lines[i + 1] ?? '').split(/\s+/);
    if (h[0] !== 'TcpExt:') continue;
    for (let j = 1; j < h.length; j++) out.set(h[j] ?? '', Number(v[j]));
  }
  return out;
}
