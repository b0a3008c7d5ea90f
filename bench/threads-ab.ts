/**
 * A/B comparison of whole commands by CPU time per thread, for a shared machine whose
 * speed drifts: wall times of the same command moved by 15–25 % between sets of rounds
 * here, the CPU time of each thread by 5–10 %. Runs each command in turn, `--rounds`
 * times, with standard output to /dev/null and NODE_EXTRA_CA_CERTS removed from the
 * environment (as bench/capture.ts does), samples /proc/PID/task/N/stat every 20 ms, and
 * prints per command the medians of: wall time, the main thread's CPU, the busiest other
 * thread's CPU (a capture's worker), and the rest (V8's compiler and GC threads), with
 * each run's steal share.
 *
 * Usage: node build/bench/threads-ab.js [--rounds N] 'LABEL=COMMAND' 'LABEL=COMMAND' ...
 *   e.g. 'base=node /tmp/base/dist/cli/main.js capture /tmp/b.pcap --ndjson'
 *        'new=node dist/cli/main.js capture /tmp/b.pcap --ndjson'
 * A command is split on spaces (no quoting); it must run one process (no shell pipes).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { machineTicks, median, stealBetween, TOOL_ENV } from './measure.js';

interface Sample {
  readonly wall: number;
  readonly main: number;
  readonly busiest: number;
  readonly rest: number;
  readonly steal: number;
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU ms of each thread of `pid` (user + system), into `into` (the last value seen wins: threads may end first). */
function threadTimes(pid: number, into: Map<string, number>): void {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name in parentheses: utime and stime are the 14th and 15th of the line.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      into.set(tid, ((Number(rest[11]) + Number(rest[12])) * 1000) / TICKS_PER_SECOND);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
}

function run(command: string): Promise<Sample> {
  const [cmd, ...args] = command.split(' ').filter((w) => w !== '');
  if (cmd === undefined) throw new Error('threads-ab: an empty command');
  const before = machineTicks();
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: TOOL_ENV });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`threads-ab: ${cmd} did not start`);
  const times = new Map<string, number>();
  const timer = setInterval(() => threadTimes(pid, times), 20);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      const wall = performance.now() - t0;
      const after = machineTicks();
      if (code !== 0) {
        reject(new Error(`threads-ab: ${command} exited with ${code}`));
        return;
      }
      const main = times.get(String(pid)) ?? 0;
      const others = [...times].filter(([tid]) => tid !== String(pid)).map(([, ms]) => ms).sort((a, b) => b - a);
      resolve({
        wall,
        main,
        busiest: others[0] ?? 0,
        rest: others.slice(1).reduce((a, b) => a + b, 0),
        steal: stealBetween(before, after),
      });
    });
  });
}

const argv = process.argv.slice(2);
const ri = argv.indexOf('--rounds');
const rounds = ri >= 0 ? Number(argv[ri + 1]) : 6;
/** Every argument but `--rounds N`: the commands. */
const commands = argv.filter((_, i) => ri < 0 || (i !== ri && i !== ri + 1));
if (!Number.isInteger(rounds) || rounds < 1 || commands.length === 0 || commands.some((c) => c.indexOf('=') < 1)) {
  console.error("usage: node build/bench/threads-ab.js [--rounds N] 'LABEL=COMMAND' ...");
  process.exit(2);
}
const results = new Map<string, Sample[]>();
for (let r = 0; r < rounds; r++) {
  for (const c of commands) {
    const label = c.slice(0, c.indexOf('='));
    const s = await run(c.slice(c.indexOf('=') + 1));
    results.set(label, [...(results.get(label) ?? []), s]);
    process.stderr.write(`round ${r + 1}: ${label} ${(s.wall / 1000).toFixed(2)} s, main ${s.main.toFixed(0)} ms, busiest other ${s.busiest.toFixed(0)} ms, rest ${s.rest.toFixed(0)} ms, ${(s.steal * 100).toFixed(0)} % steal\n`);
  }
}
console.log(`medians of ${rounds} rounds, CPU in ms (${TICKS_PER_SECOND} ticks/s)`);
console.log('| command | wall s | main thread | busiest other thread | other threads | steal per run |');
console.log('|---|---:|---:|---:|---:|---|');
for (const [label, runs] of results) {
  const m = (f: (s: Sample) => number): string => median(runs.map(f)).toFixed(0);
  console.log(`| ${label} | ${(median(runs.map((s) => s.wall)) / 1000).toFixed(2)} | ${m((s) => s.main)} | ${m((s) => s.busiest)} | ${m((s) => s.rest)} | ${runs.map((s) => `${(s.steal * 100).toFixed(0)} %`).join(' / ')} |`);
}
