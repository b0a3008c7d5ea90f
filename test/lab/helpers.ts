/**
 * Shared helpers of the lab's end-to-end tests: the lab's root gate (skip loudly on a
 * laptop, fail under CI), running the built CLI in the background with bounded waits, and
 * finding and removing the namespaces lab runs leave. Reading `ss` and the counters inside
 * a namespace is in ../helpers/netns.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { CLI as BUILT_CLI } from '../cli/run-cli.js';
import { deleteNetns, IN_CI, IS_ROOT, netnsNames } from '../helpers/netns.js';

/** The built CLI; TCPSTATE_TEST_CLI points the lab tests at another entry point (a partial build). */
export const CLI = process.env['TCPSTATE_TEST_CLI'] ?? BUILT_CLI;

/** Call at the top of a lab test file: returns true when the suite may run. */
export function labAvailable(file: string): boolean {
  if (IS_ROOT) return true;
  if (IN_CI) throw new Error(`${file}: the lab tests need root (network namespaces, TUN) and CI=true: failing instead of skipping`);
  console.warn(`\n*** SKIPPING ${file}: the lab needs root (network namespaces and a TUN device); run the tests with sudo ***\n`);
  return false;
}

export interface Background {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (or -1 when killed). */
  readonly done: Promise<number>;
}

const ENV = { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', LANG: 'C.UTF-8' };

/** Starts `tcpstate ARGS` in the background. */
export function startCli(args: readonly string[]): Background {
  const child = spawn(process.execPath, [CLI, ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const bg: Background = {
    child,
    pid: child.pid ?? -1,
    stdout: '',
    stderr: '',
    done: new Promise<number>((resolve) => {
      child.on('exit', (code) => resolve(code ?? -1));
    }),
  };
  child.stdout?.on('data', (d: Buffer) => {
    bg.stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    bg.stderr += d.toString();
  });
  return bg;
}

/** Runs `tcpstate ARGS` to completion (bounded), asynchronously so several can run at once. */
export async function runCliAsync(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const bg = startCli(args);
  const timer = setTimeout(() => bg.child.kill('SIGKILL'), timeoutMs);
  const code = await bg.done;
  clearTimeout(timer);
  return { code, stdout: bg.stdout, stderr: bg.stderr };
}

/** Waits (bounded) until the background run printed the `ip netns exec NAME` hint; returns NAME. */
export async function waitForNamespace(bg: Background, timeoutMs = 15_000): Promise<string> {
  const start = Date.now();
  for (;;) {
    const m = /ip netns exec (tcpstate-lab-\d+-\d+)/.exec(bg.stdout + bg.stderr);
    if (m?.[1] !== undefined) return m[1];
    if (bg.child.exitCode !== null) throw new Error(`lab exited (${bg.child.exitCode}) before holding: ${bg.stderr}`);
    if (Date.now() - start > timeoutMs) throw new Error(`no namespace announced within ${timeoutMs} ms: ${bg.stdout}${bg.stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function labNamespaces(): string[] {
  return netnsNames().filter((n) => n.startsWith('tcpstate-lab-'));
}

/** Lab namespaces created by one of these pids. */
export function namespacesOf(pids: readonly number[]): string[] {
  return labNamespaces().filter((n) => pids.some((p) => n.startsWith(`tcpstate-lab-${p}-`)));
}

/** TUN devices in the caller's (host) namespace. */
export function hostTunDevices(): string[] {
  const r = spawnSync('ip', ['-o', 'link', 'show', 'type', 'tun'], { encoding: 'utf8', timeout: 10_000 });
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/** Kills what is still running and removes what they left (afterAll, even after a failure). */
export async function reap(bgs: readonly Background[]): Promise<void> {
  for (const bg of bgs) if (bg.child.exitCode === null && bg.child.signalCode === null) bg.child.kill('SIGTERM');
  await Promise.race([Promise.all(bgs.map((b) => b.done)), new Promise((r) => setTimeout(r, 5000))]);
  for (const bg of bgs) if (bg.child.exitCode === null && bg.child.signalCode === null) bg.child.kill('SIGKILL');
  deleteNetns(...namespacesOf(bgs.map((b) => b.pid)));
}
