/**
 * Benchmark of `tcpstate trace` (issue 5): churns connections on loopback in a private
 * network namespace at increasing rates (bench/trace-load.c, 10 transitions per
 * connection) while the built CLI traces them with `--summary --json`, and reports for
 * each rate: transitions expected / seen, lost events (per-CPU overrun counters), and the
 * tracer's CPU time per 10k events (utime+stime from /proc/PID/stat).
 *
 * Run as root: npm run build && tsc -p bench/tsconfig.json && node build/bench/trace.js [SECONDS] [RATES...]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const LOAD_SRC = fileURLToPath(new URL('../../bench/trace-load.c', import.meta.url));
const LOAD = fileURLToPath(new URL('./trace-load', import.meta.url));
const NS = `tcpstate-bench-trace-${process.pid}`;
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || '100');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** [user, kernel] CPU ms of a process (utime, stime of /proc/PID/stat). */
function cpuMs(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) * TICK_MS, Number(f[12]) * TICK_MS];
}

interface Row {
  rate: number;
  connectionsPerS: number;
  expected: number;
  seen: number;
  perSecond: number;
  lost: number;
  cpuMs: number;
  /** Of cpuMs: user time (our JavaScript) and kernel time (trace_pipe formatting, reads). */
  userMs: number;
  kernelMs: number;
  cpuMsPer10k: number;
  lagMs: number;
}

async function step(rate: number, seconds: number, port: number): Promise<Row> {
  const tracer = spawn(process.execPath, [CLI, 'trace', '--summary', '--json', `sport = :${port} or dport = :${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  tracer.stdout.on('data', (d: Buffer) => (out += d.toString()));
  tracer.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<void>((r) => tracer.on('exit', () => r()));
  const on = `/sys/kernel/tracing/instances/tcpstate-${tracer.pid}/tracing_on`;
  const enable = `/sys/kernel/tracing/instances/tcpstate-${tracer.pid}/events/sock/inet_sock_set_state/enable`;
  const is1 = (f: string): boolean => existsSync(f) && readFileSync(f, 'utf8').trim() === '1';
  // A new instance starts with tracing_on = 1: wait for the events too (set just before it).
  for (let i = 0; i < 400 && !(is1(enable) && is1(on)); i++) await sleep(25);
  const cpu0 = cpuMs(tracer.pid ?? 0);
  const load = sh('ip', ['netns', 'exec', NS, LOAD, String(rate), String(seconds), String(port)]);
  await sleep(500);
  const cpu1 = cpuMs(tracer.pid ?? 0);
  const stopAt = performance.now();
  tracer.kill('SIGINT');
  await done;
  // The tracer drains what the ring buffer still holds before exiting: its lag behind the load.
  const lagMs = Math.round(performance.now() - stopAt);
  const m = /connections (\d+) failed (\d+) elapsed_s ([\d.]+)/.exec(load);
  const connections = Number(m?.[1] ?? 0) - Number(m?.[2] ?? 0);
  const elapsed = Number(m?.[3] ?? seconds);
  const summary = JSON.parse(out) as { transitions: number; lost: number };
  if (err.trim() !== '' && !err.includes('lost')) process.stderr.write(err);
  const userMs = cpu1[0] - cpu0[0];
  const kernelMs = cpu1[1] - cpu0[1];
  const cpu = userMs + kernelMs;
  return {
    rate,
    connectionsPerS: Math.round(connections / elapsed),
    expected: connections * 10 + 2, // + the listener's CLOSED → LISTEN → CLOSED
    seen: summary.transitions,
    perSecond: Math.round(summary.transitions / elapsed),
    lost: summary.lost,
    cpuMs: Math.round(cpu),
    userMs: Math.round(userMs),
    kernelMs: Math.round(kernelMs),
    lagMs,
    cpuMsPer10k: summary.transitions > 0 ? Math.round((cpu / summary.transitions) * 10_000 * 10) / 10 : 0,
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the trace benchmark needs root (tracefs, ip netns)');
  const seconds = Number(process.argv[2] ?? '5');
  const rates = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1000, 2000, 3000, 4000, 6000, 8000];
  console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  sh('gcc', ['-O2', '-o', LOAD, LOAD_SRC]);
  sh('ip', ['netns', 'add', NS]);
  try {
    sh('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    sh('ip', ['netns', 'exec', NS, 'sysctl', '-qw', 'net.ipv4.ip_local_port_range=1024 65535']);
    const rows: Row[] = [];
    let port = 47201;
    for (const rate of rates) {
      const r = await step(rate, seconds, port++);
      rows.push(r);
      console.log(JSON.stringify(r));
    }
    const ok = rows.filter((r) => r.lost === 0 && r.seen >= r.expected && r.lagMs < 1500);
    const best = ok.reduce<Row | null>((b, r) => (b === null || r.perSecond > b.perSecond ? r : b), null);
    console.log(`\nmachine: ${sh('uname', ['-r']).trim()}, ${sh('nproc', []).trim()} CPUs, ${readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?'}`);
    console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log('| load conn/s | transitions expected | seen | seen/s | lost | tracer CPU ms (user + kernel) | CPU ms per 10k events | drain lag after load ms |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.connectionsPerS} | ${r.expected} | ${r.seen} | ${r.perSecond} | ${r.lost} | ${r.cpuMs} (${r.userMs} + ${r.kernelMs}) | ${r.cpuMsPer10k} | ${r.lagMs} |`);
    console.log(`\nhighest sustained with zero lost, nothing missing and the reader keeping up (drain lag < 1.5 s): ${best === null ? 'none' : `${best.perSecond} transitions/s`}`);
  } finally {
    spawnSync('ip', ['netns', 'del', NS]);
  }
}

await main();
