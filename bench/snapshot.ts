/**
 * Live snapshot benchmark (issue 3): the built CLI (dist/cli/main.js) against ss and
 * netstat on a table of ≈112,000 TCP sockets in a private network namespace, measured
 * in the same run.
 *
 * The load comes from bench/socket-load.c (compiled here with gcc): 50,000 established
 * pairs, 1,000 half-closed pairs (FIN_WAIT_2 + CLOSE_WAIT), 10,000 TIME_WAIT, 8
 * listeners. TIME_WAIT lasts 60 s, so each round runs inside the life of one TIME_WAIT
 * batch: when the next round would outlive the batch, the driver waits for it to
 * expire and asks the generator for a fresh one. The TIME_WAIT count each tool saw is
 * reported.
 *
 * Every tool runs as `/usr/bin/time -f %M -o FILE ip netns exec NS TOOL...` with its
 * stdout sent to a file: wall-clock from process.hrtime around the whole thing, peak
 * RSS in kB from GNU time (for a pipeline, the largest of its processes). Each command
 * gets one warm-up round and N measured rounds; the tool order rotates every round so
 * the tools share the machine's noise. Every run's output is parsed into per-state
 * counts, and tcpstate's counts must equal ss's counts of the same round.
 *
 * Then the scaling check: the same commands on ≈10,000 sockets in a second namespace —
 * summary's peak RSS there against the figures above (`ls --json`, which keeps every
 * record, for contrast), and how the ratios change with the table's size.
 *
 * Needs root, ip, ss, netstat, gcc, /usr/bin/time, and a built CLI (npx tsc -p tsconfig.json).
 * Usage: node build/bench/snapshot.js [--rounds 7] [--pairs 50000] [--time-wait 10000]
 *        [--half 1000] [--small-pairs 4500] [--no-scaling] [--cli dist/cli/main.js] [--write]
 * --write replaces the "Live snapshot (issue 3)" section of bench/RESULTS.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const STATES = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT',
  'CLOSING', 'LAST_ACK', 'TIME_WAIT',
] as const;
type Counts = Record<string, number>;

/** ss's and netstat's spellings → our state ids. Unknown spellings are kept as they are, so they show up as mismatches. */
const SS_NAMES: Readonly<Record<string, string>> = {
  ESTAB: 'ESTABLISHED', 'SYN-SENT': 'SYN_SENT', 'SYN-RECV': 'SYN_RECEIVED', 'FIN-WAIT-1': 'FIN_WAIT_1',
  'FIN-WAIT-2': 'FIN_WAIT_2', 'TIME-WAIT': 'TIME_WAIT', UNCONN: 'CLOSED', 'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK', LISTEN: 'LISTEN', CLOSING: 'CLOSING',
};
const NETSTAT_NAMES: Readonly<Record<string, string>> = {
  ESTABLISHED: 'ESTABLISHED', SYN_SENT: 'SYN_SENT', SYN_RECV: 'SYN_RECEIVED', FIN_WAIT1: 'FIN_WAIT_1',
  FIN_WAIT2: 'FIN_WAIT_2', TIME_WAIT: 'TIME_WAIT', CLOSE: 'CLOSED', CLOSE_WAIT: 'CLOSE_WAIT', LAST_ACK: 'LAST_ACK',
  LISTEN: 'LISTEN', CLOSING: 'CLOSING',
};

// ---------------------------------------------------------------- options and paths

function option(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} wants a non-negative integer`);
  return v;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const ROUNDS = option('rounds', 7);
const LARGE = { pairs: option('pairs', 50_000), timeWait: option('time-wait', 10_000), half: option('half', 1_000) };
const SMALL_PAIRS = option('small-pairs', 4_500);
const SMALL = {
  pairs: SMALL_PAIRS,
  timeWait: Math.round((SMALL_PAIRS * LARGE.timeWait) / Math.max(1, LARGE.pairs)),
  half: Math.round((SMALL_PAIRS * LARGE.half) / Math.max(1, LARGE.pairs)),
};
const LISTENERS = 8; // socket-load.c
const socketsOf = (s: typeof LARGE): number => 2 * s.pairs + 2 * s.half + s.timeWait + LISTENERS;

const HERE = dirname(fileURLToPath(import.meta.url)); // build/bench
const ROOT = resolve(HERE, '..', '..');
const CLI = (() => {
  const i = process.argv.indexOf('--cli'); // another build of the CLI, e.g. to compare two versions
  return i >= 0 && process.argv[i + 1] !== undefined ? resolve(process.argv[i + 1] as string) : join(ROOT, 'dist', 'cli', 'main.js');
})();
const GENERATOR_SOURCE = join(ROOT, 'bench', 'socket-load.c');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const NS_PREFIX = 'tcpstate-bench-';
const TIME_WAIT_MS = 60_000;

// ---------------------------------------------------------------- small helpers

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (msg: string): void => void process.stderr.write(`snapshot-bench: ${msg}\n`);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
}

function tryRun(cmd: string, args: readonly string[]): string | null {
  try {
    return run(cmd, args);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- cleanup, always

const cleanups = new Map<string, () => void>();
let currentChild: ChildProcess | null = null;

function runCleanups(): void {
  if (currentChild !== null && currentChild.exitCode === null) currentChild.kill('SIGKILL');
  for (const [name, fn] of [...cleanups].reverse()) {
    try {
      fn();
    } catch (err: unknown) {
      log(`cleanup of ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    cleanups.delete(name);
  }
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    runCleanups();
    process.exit(code);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills what is left in a namespace (processes it holds) and deletes it. */
function deleteNamespace(ns: string): void {
  const pids = (tryRun('ip', ['netns', 'pids', ns]) ?? '').split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  tryRun('ip', ['netns', 'delete', ns]);
}

/** Namespaces left by a run that died without cleaning up (its pid is no longer alive). */
function removeStaleNamespaces(): void {
  const names = (tryRun('ip', ['netns', 'list']) ?? '').split('\n').map((l) => l.split(' ')[0] ?? '');
  for (const ns of names) {
    const m = /^tcpstate-bench-(\d+)(?:-\w+)?$/.exec(ns);
    if (m === null) continue;
    if (Number(m[1]) !== process.pid && alive(Number(m[1]))) continue; // another run in progress
    log(`removing stale namespace ${ns}`);
    deleteNamespace(ns);
  }
}

// ---------------------------------------------------------------- the load generator

interface LoadSize {
  readonly pairs: number;
  readonly timeWait: number;
  readonly half: number;
}

class Load {
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private exited: string | null = null;
  private stderr = '';
  private pids: number[] = [];
  /** When the current TIME_WAIT batch started and finished being created. */
  twStart = 0;
  twEnd = 0;

  private constructor(
    readonly ns: string,
    readonly size: LoadSize,
    private readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      this.waiter?.();
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.on('exit', (code, signal) => {
      this.exited = `exited with ${code ?? signal}: ${this.stderr.trim()}`;
      this.waiter?.();
    });
  }

  static async start(ns: string, bin: string, size: LoadSize): Promise<Load> {
    run('ip', ['netns', 'add', ns]);
    cleanups.set(`namespace ${ns}`, () => deleteNamespace(ns));
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const child = spawn('ip', ['netns', 'exec', ns, bin, String(size.pairs), String(size.timeWait), String(size.half)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const load = new Load(ns, size, child);
    cleanups.set(`generator in ${ns}`, () => load.stop());
    const t = nowMs();
    const ready = await load.next('ready', 180_000);
    load.twEnd = nowMs();
    load.twStart = t; // conservative: the batch is younger than the whole build
    load.pids = (/pids=([\d,]+)/.exec(ready)?.[1] ?? '').split(',').filter(Boolean).map(Number);
    log(`${ns}: ${ready} (built in ${((nowMs() - t) / 1000).toFixed(1)} s)`);
    return load;
  }

  private async next(prefix: string, timeoutMs: number): Promise<string> {
    const deadline = nowMs() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return this.lines.splice(0, i + 1).pop() as string;
      if (this.exited !== null) throw new Error(`socket-load in ${this.ns} ${this.exited}`);
      const left = deadline - nowMs();
      if (left <= 0) throw new Error(`socket-load in ${this.ns}: no "${prefix}" within ${timeoutMs / 1000} s`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.waiter = null;
    }
  }

  /** Makes sure the current TIME_WAIT batch outlives the next `needMs`; else replaces it. */
  async ensureTimeWait(needMs: number): Promise<void> {
    if (this.size.timeWait === 0 || nowMs() + needMs < this.twStart + TIME_WAIT_MS - 2_000) return;
    const wait = this.twEnd + TIME_WAIT_MS + 1_000 - nowMs();
    log(`${this.ns}: waiting ${(Math.max(0, wait) / 1000).toFixed(0)} s for the TIME_WAIT batch to expire`);
    if (wait > 0) await sleep(wait);
    for (let i = 0; i < 40 && this.countTimeWait() > 0; i++) await sleep(500);
    const left = this.countTimeWait();
    if (left > 0) log(`${this.ns}: ${left} TIME_WAIT sockets still present after waiting`);
    this.twStart = nowMs();
    this.child.stdin!.write('tw\n');
    log(`${this.ns}: ${await this.next('tw', 60_000)}`);
    this.twEnd = nowMs();
  }

  countTimeWait(): number {
    const out = run('ip', ['netns', 'exec', this.ns, 'ss', '-tanH', 'state', 'time-wait']);
    return out.split('\n').filter((l) => l.trim() !== '').length;
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL'); // workers die with the main process anyway (PR_SET_PDEATHSIG)
      } catch {
        // gone
      }
    }
  }
}

// ---------------------------------------------------------------- tools and output parsers

interface Parsed {
  readonly counts: Counts;
  /** Sockets shown with an owning process (only for -p runs). */
  readonly attributed: number | null;
  /** The time tcpstate itself reports for reading the table (its `ms`), when it prints one. */
  readonly internalMs?: number;
}

interface Tool {
  readonly name: string;
  readonly tcpstate: boolean;
  /** The command after `ip netns exec NS` (null: run as is, e.g. with --netns). */
  readonly argv: (ns: string) => { readonly viaIpNetns: boolean; readonly argv: readonly string[] };
  readonly parse: (out: string) => Parsed;
}

function tally(names: Iterable<string>, map: Readonly<Record<string, string>> | null): Counts {
  const c: Counts = {};
  for (const raw of names) {
    const s = map === null ? raw : (map[raw] ?? raw);
    c[s] = (c[s] ?? 0) + 1;
  }
  return c;
}

function* firstWords(out: string, skip: number, keep: (l: string) => boolean = () => true): Generator<string> {
  let start = 0;
  let line = 0;
  while (start < out.length) {
    let end = out.indexOf('\n', start);
    if (end < 0) end = out.length;
    const l = out.slice(start, end);
    start = end + 1;
    if (line++ < skip || l.trim() === '' || !keep(l)) continue;
    yield l.trimStart().split(/\s/, 1)[0] as string;
  }
}

/** `NAME count` lines printed by the awk pipelines. */
function parseAwk(out: string, map: Readonly<Record<string, string>>): Parsed {
  const counts: Counts = {};
  for (const l of out.split('\n')) {
    const [name, n] = l.trim().split(/\s+/);
    if (name === undefined || name === '' || n === undefined) continue;
    const s = map[name] ?? name;
    counts[s] = (counts[s] ?? 0) + Number(n);
  }
  return { counts, attributed: null };
}

function parseSummaryText(out: string): Parsed {
  const counts: Counts = {};
  const ms = /^TCP sockets: .*?([\d.]+) ms/.exec(out);
  for (const l of out.split('\n')) {
    const m = /^\s+([A-Z_12]+)\s+([\d,]+)(?:\s|$)/.exec(l);
    if (m !== null && (STATES as readonly string[]).includes(m[1] as string)) {
      const n = Number((m[2] as string).replaceAll(',', ''));
      if (n > 0) counts[m[1] as string] = n;
    }
  }
  return { counts, attributed: null, ...(ms !== null ? { internalMs: Number(ms[1]) } : {}) };
}

function parseSummaryJson(out: string): Parsed {
  const doc = JSON.parse(out) as { states: Counts; ms?: number };
  const counts: Counts = {};
  for (const [s, n] of Object.entries(doc.states)) if (n > 0) counts[s] = n;
  return { counts, attributed: null, ...(typeof doc.ms === 'number' ? { internalMs: doc.ms } : {}) };
}

function parseLsJson(out: string): Parsed {
  const rows = JSON.parse(out) as { state: string }[];
  return { counts: tally((function* () { for (const r of rows) yield r.state; })(), null), attributed: null };
}

/** A table with a header line whose rows name their owner with `marker`. */
function parseProcessTable(out: string, marker: string, names: Readonly<Record<string, string>> | null): Parsed {
  let attributed = 0;
  const counted = (l: string): boolean => {
    if (l.includes(marker)) attributed++;
    return true;
  };
  const counts = tally(firstWords(out, 1, counted), names);
  return { counts, attributed };
}
const parseLsProcesses = (out: string): Parsed => parseProcessTable(out, 'pid=', null);
const parseSsProcesses = (out: string): Parsed => parseProcessTable(out, 'users:((', SS_NAMES);

function parseNetstatProcesses(out: string): Parsed {
  const states: string[] = [];
  let attributed = 0;
  for (const l of out.split('\n')) {
    if (!l.startsWith('tcp')) continue;
    const f = l.trim().split(/\s+/);
    states.push(f[5] ?? '?');
    if (/^\d+\//.test(f[6] ?? '')) attributed++;
  }
  return { counts: tally(states, NETSTAT_NAMES), attributed };
}

const node = process.execPath;
const viaNs = (argv: readonly string[]) => () => ({ viaIpNetns: true, argv });
const SS_AWK = `ss -tan | awk 'NR>1 {++S[$1]} END {for (a in S) print a, S[a]}'`;
const NETSTAT_AWK = `netstat -tan | awk '/^tcp/ {++S[$NF]} END {for (a in S) print a, S[a]}'`;

const TOOLS = {
  summary: { name: 'tcpstate summary', tcpstate: true, argv: viaNs([node, CLI, 'summary']), parse: parseSummaryText },
  summaryJson: { name: 'tcpstate summary --json', tcpstate: true, argv: viaNs([node, CLI, 'summary', '--json']), parse: parseSummaryJson },
  summaryNetns: {
    name: 'tcpstate summary --netns NS',
    tcpstate: true,
    argv: (ns: string) => ({ viaIpNetns: false, argv: [node, CLI, 'summary', '--netns', ns] }),
    parse: parseSummaryText,
  },
  ssAwk: { name: 'ss -tan | awk', tcpstate: false, argv: viaNs(['sh', '-c', SS_AWK]), parse: (o: string) => parseAwk(o, SS_NAMES) },
  netstatAwk: { name: 'netstat -tan | awk', tcpstate: false, argv: viaNs(['sh', '-c', NETSTAT_AWK]), parse: (o: string) => parseAwk(o, NETSTAT_NAMES) },
  lsJson: { name: 'tcpstate ls --json', tcpstate: true, argv: viaNs([node, CLI, 'ls', '--json']), parse: parseLsJson },
  ssH: { name: 'ss -tanH', tcpstate: false, argv: viaNs(['ss', '-tanH']), parse: (o: string) => ({ counts: tally(firstWords(o, 0), SS_NAMES), attributed: null }) },
  lsP: { name: 'tcpstate ls -p', tcpstate: true, argv: viaNs([node, CLI, 'ls', '-p']), parse: parseLsProcesses },
  ssP: { name: 'ss -tanp', tcpstate: false, argv: viaNs(['ss', '-tanp']), parse: parseSsProcesses },
  netstatP: { name: 'netstat -tanp', tcpstate: false, argv: viaNs(['netstat', '-tanp']), parse: parseNetstatProcesses },
} as const satisfies Record<string, Tool>;

interface Group {
  readonly title: string;
  readonly tools: readonly Tool[];
  /** The tcpstate tool and the peer whose counts it must equal. */
  readonly subject: Tool;
  readonly reference: Tool;
}

const GROUPS: readonly Group[] = [
  {
    title: 'summary (count per state)',
    tools: [TOOLS.summary, TOOLS.summaryJson, TOOLS.summaryNetns, TOOLS.ssAwk, TOOLS.netstatAwk],
    subject: TOOLS.summary,
    reference: TOOLS.ssAwk,
  },
  { title: 'ls --json (every socket)', tools: [TOOLS.lsJson, TOOLS.ssH], subject: TOOLS.lsJson, reference: TOOLS.ssH },
  { title: 'ls -p (with processes)', tools: [TOOLS.lsP, TOOLS.ssP, TOOLS.netstatP], subject: TOOLS.lsP, reference: TOOLS.ssP },
];

// ---------------------------------------------------------------- measuring

interface Sample {
  readonly ms: number;
  readonly rssKb: number;
  readonly parsed: Parsed;
}

async function measure(tool: Tool, ns: string, dir: string): Promise<Sample> {
  const outFile = join(dir, 'out.txt');
  const errFile = join(dir, 'err.txt');
  const timeFile = join(dir, 'time.txt');
  const { viaIpNetns, argv } = tool.argv(ns);
  const full = ['-f', '%M', '-o', timeFile, ...(viaIpNetns ? ['ip', 'netns', 'exec', ns] : []), ...argv];
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  let ms: number;
  let code: number | null;
  try {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', full, { stdio: ['ignore', out, err], env: { ...process.env, NO_COLOR: '1' } });
    currentChild = child;
    code = await new Promise<number | null>((res, rej) => {
      child.on('error', rej);
      child.on('exit', (c) => res(c));
    });
    ms = Number(process.hrtime.bigint() - start) / 1e6;
    currentChild = null;
  } finally {
    closeSync(out);
    closeSync(err);
  }
  if (code !== 0) {
    throw new Error(`${tool.name} exited with ${code}: ${readFileSync(errFile, 'utf8').trim().slice(0, 2000)}`);
  }
  const timeLines = readFileSync(timeFile, 'utf8').trim().split('\n');
  const rssKb = Number(timeLines[timeLines.length - 1]);
  return { ms, rssKb, parsed: tool.parse(readFileSync(outFile, 'utf8')) };
}

interface ToolResult {
  readonly tool: Tool;
  readonly samples: Sample[];
}

interface GroupResult {
  readonly group: Group;
  readonly sockets: number;
  readonly results: ToolResult[];
  readonly mismatches: string[];
  /** Last round's counts of the subject and the reference, for the report. */
  lastCounts: { subject: Counts; reference: Counts; attributed: Map<string, number | null> } | null;
}

function countsEqual(a: Counts, b: Counts): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
}

const showCounts = (c: Counts): string =>
  Object.entries(c)
    .sort()
    .map(([s, n]) => `${s}=${n}`)
    .join(' ');

async function runGroup(group: Group, load: Load, dir: string, rounds: number): Promise<GroupResult> {
  const results: ToolResult[] = group.tools.map((tool) => ({ tool, samples: [] }));
  const gr: GroupResult = { group, sockets: socketsOf(load.size), results, mismatches: [], lastCounts: null };
  let roundMs = 30_000; // before the warm-up tells us better
  for (let round = -1; round < rounds; round++) {
    await load.ensureTimeWait(roundMs);
    const started = nowMs();
    const k = results.length;
    const shift = ((round % k) + k) % k;
    const order = [...results.slice(shift), ...results.slice(0, shift)];
    const seen = new Map<Tool, Parsed>();
    const took: string[] = [];
    for (const r of order) {
      const s = await measure(r.tool, load.ns, dir);
      seen.set(r.tool, s.parsed);
      took.push(`${r.tool.name} ${Math.round(s.ms)} ms`);
      if (round >= 0) r.samples.push(s);
    }
    roundMs = Math.max(roundMs * (round < 0 ? 0 : 1), (nowMs() - started) * 1.25 + 2_000);
    const ref = seen.get(group.reference) as Parsed;
    for (const [tool, p] of seen) {
      if (!countsEqual(p.counts, ref.counts)) {
        gr.mismatches.push(`round ${round + 1}: ${tool.name}: ${showCounts(p.counts)} ≠ ${group.reference.name}: ${showCounts(ref.counts)}`);
      }
    }
    gr.lastCounts = {
      subject: (seen.get(group.subject) as Parsed).counts,
      reference: ref.counts,
      attributed: new Map([...seen].map(([t, p]) => [t.name, p.attributed])),
    };
    log(
      `${load.ns}: ${group.title}: ${round < 0 ? 'warm-up' : `round ${round + 1}/${rounds}`} in ${((nowMs() - started) / 1000).toFixed(1)} s` +
        ` (${took.join(', ')})`,
    );
  }
  return gr;
}

async function withLoad<T>(ns: string, bin: string, size: LoadSize, fn: (load: Load) => Promise<T>): Promise<T> {
  const load = await Load.start(ns, bin, size);
  try {
    return await fn(load);
  } finally {
    load.stop();
    cleanups.delete(`generator in ${ns}`);
    deleteNamespace(ns);
    cleanups.delete(`namespace ${ns}`);
  }
}

// ---------------------------------------------------------------- report

const fmtMs = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const fmtMb = (kb: number): string => (kb / 1024).toFixed(1);
const fmtN = (x: number): string => x.toLocaleString('en');
const stat = (r: ToolResult, f: (s: Sample) => number): number => median(r.samples.map(f));
const range = (r: ToolResult, f: (s: Sample) => number): [number, number] => {
  const xs = r.samples.map(f);
  return [Math.min(...xs), Math.max(...xs)];
};

function machine(): string[] {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const ss = (tryRun('ss', ['-V']) ?? '?').trim();
  const netstat = ((tryRun('netstat', ['-V']) ?? '?').split('\n')[0] ?? '?').trim();
  return [
    `${os.availableParallelism()} CPUs (nproc), ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    `Linux ${os.release()}, Node ${process.version}, ${ss}, ${netstat}`,
  ];
}

function groupTable(grs: readonly GroupResult[]): string[] {
  const lines = [
    '| command | tool | median ms | min–max ms | of which reading the table (tcpstate\'s `ms`) | peak RSS MB (median) | TIME_WAIT seen | tcpstate speed-up (peer ÷ tcpstate) | RSS ratio (tcpstate ÷ peer) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const gr of grs) {
    const subject = gr.results.find((r) => r.tool === gr.group.subject) as ToolResult;
    const sMs = stat(subject, (s) => s.ms);
    const sRss = stat(subject, (s) => s.rssKb);
    for (const r of gr.results) {
      const ms = stat(r, (s) => s.ms);
      const rss = stat(r, (s) => s.rssKb);
      const [lo, hi] = range(r, (s) => s.ms);
      const [twLo, twHi] = range(r, (s) => s.parsed.counts['TIME_WAIT'] ?? 0);
      const vs = r.tool.tcpstate ? '' : `${(ms / sMs).toFixed(2)}×`;
      const rssVs = r.tool.tcpstate ? '' : `${(sRss / rss).toFixed(1)}×`;
      const own = r.samples.flatMap((s) => (s.parsed.internalMs === undefined ? [] : [s.parsed.internalMs]));
      const ownMs = own.length > 0 ? fmtMs(median(own)) : '';
      lines.push(
        `| ${gr.group.title} @ ${fmtN(gr.sockets)} | \`${r.tool.name.replaceAll('|', '\\|')}\` | ${fmtMs(ms)} | ${fmtMs(lo)}–${fmtMs(hi)} | ${ownMs} | ${fmtMb(rss)} | ` +
          `${twLo === twHi ? fmtN(twLo) : `${fmtN(twLo)}–${fmtN(twHi)}`} | ${vs} | ${rssVs} |`,
      );
    }
  }
  return lines;
}

function find(grs: readonly GroupResult[], tool: Tool): ToolResult | undefined {
  for (const gr of grs) for (const r of gr.results) if (r.tool === tool) return r;
  return undefined;
}

/** Median over rounds of peer ÷ subject within the same round: robust to noise that hits a whole round. */
function pairedRatio(grs: readonly GroupResult[], subject: Tool, peer: Tool): number {
  const a = find(grs, subject);
  const b = find(grs, peer);
  if (a === undefined || b === undefined) return NaN;
  return median(a.samples.map((s, i) => (b.samples[i]?.ms ?? NaN) / s.ms));
}

function verdicts(large: readonly GroupResult[], small: readonly GroupResult[]): string[] {
  const out: string[] = [];
  const ms = (t: Tool, grs = large): number => {
    const r = find(grs, t);
    return r === undefined ? NaN : stat(r, (s) => s.ms);
  };
  const rss = (t: Tool, grs: readonly GroupResult[]): number => {
    const r = find(grs, t);
    return r === undefined ? NaN : stat(r, (s) => s.rssKb);
  };
  const sum = ms(TOOLS.summary);
  const ssAwk = ms(TOOLS.ssAwk);
  out.push(
    `- summary faster than the ss pipeline: \`tcpstate summary\` ${fmtMs(sum)} ms vs \`ss -tan | awk\` ${fmtMs(ssAwk)} ms ` +
      `= ${(ssAwk / sum).toFixed(2)}× (median of per-round ratios ${pairedRatio(large, TOOLS.summary, TOOLS.ssAwk).toFixed(2)}×) → ` +
      `**${sum < ssAwk ? 'met' : 'MISSED'}**`,
  );
  const lsP = ms(TOOLS.lsP);
  const ssP = ms(TOOLS.ssP);
  out.push(
    `- \`ls -p\` at least 5× faster than \`ss -tanp\`: ${fmtMs(lsP)} ms vs ${fmtMs(ssP)} ms = ${(ssP / lsP).toFixed(2)}× ` +
      `(median of per-round ratios ${pairedRatio(large, TOOLS.lsP, TOOLS.ssP).toFixed(2)}×) → ` +
      `**${ssP / lsP >= 5 ? 'met' : 'MISSED'}**`,
  );
  if (small.length > 0) {
    const a = rss(TOOLS.summary, small);
    const b = rss(TOOLS.summary, large);
    const la = rss(TOOLS.lsJson, small);
    const lb = rss(TOOLS.lsJson, large);
    const dSockets = socketsOf(LARGE) - socketsOf(SMALL);
    const perSocket = ((b - a) * 1024) / dSockets;
    // "Does not grow": less than 10 % more memory for 11× the sockets.
    const flat = b <= a * 1.1;
    out.push(
      `- summary memory does not grow with socket count: peak RSS ${fmtMb(a)} MB at ${fmtN(socketsOf(SMALL))} sockets vs ` +
        `${fmtMb(b)} MB at ${fmtN(socketsOf(LARGE))} (${b >= a ? '+' : ''}${fmtMb(b - a)} MB, ${perSocket.toFixed(0)} bytes per extra socket; ` +
        `\`ls --json\`, which keeps every record, for contrast: ${fmtMb(la)} → ${fmtMb(lb)} MB) → ` +
        `**${flat ? 'met' : 'MISSED'}** (criterion: < 10 % growth for ${(socketsOf(LARGE) / socketsOf(SMALL)).toFixed(0)}× the sockets)`,
    );
  }
  return out;
}

function countsTable(grs: readonly GroupResult[]): string[] {
  const lines: string[] = [];
  for (const gr of grs) {
    const c = gr.lastCounts;
    if (c === null) continue;
    lines.push(`${gr.group.title} @ ${fmtN(gr.sockets)}, last round — ${gr.group.subject.name} vs ${gr.group.reference.name}:`);
    for (const s of STATES) {
      const a = c.subject[s] ?? 0;
      const b = c.reference[s] ?? 0;
      if (a === 0 && b === 0) continue;
      lines.push(`  ${s.padEnd(13)} ${fmtN(a).padStart(9)} ${fmtN(b).padStart(9)}${a === b ? '' : '  MISMATCH'}`);
    }
    const attributed = [...c.attributed].filter(([, n]) => n !== null);
    if (attributed.length > 0) lines.push(`  with a process: ${attributed.map(([t, n]) => `${t} ${fmtN(n as number)}`).join(', ')}`);
    lines.push(`  ${gr.mismatches.length === 0 ? 'all tools agreed in every round' : `${gr.mismatches.length} MISMATCHES:`}`);
    for (const m of gr.mismatches.slice(0, 10)) lines.push(`    ${m}`);
  }
  return lines;
}

const SECTION = '## Live snapshot (issue 3)';

function writeResults(section: string): void {
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
  const start = old.indexOf(`${SECTION}\n`); // the exact heading: hand-written sections may share its prefix
  let next: string;
  if (start < 0) {
    next = `${old.trimEnd()}\n\n${section}`;
  } else {
    const after = old.indexOf('\n## ', start + SECTION.length);
    next = old.slice(0, start) + section + (after < 0 ? '' : `\n${old.slice(after + 1)}`);
  }
  writeFileSync(RESULTS, next.trimEnd() + '\n');
  log(`updated ${RESULTS}`);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('snapshot bench skipped: needs root (private network namespaces, other processes\' fds)');
    return;
  }
  for (const [cmd, args] of [['ip', ['-V']], ['ss', ['-V']], ['netstat', ['-V']], ['gcc', ['--version']], ['/usr/bin/time', ['-V']]] as const) {
    if (tryRun(cmd, args) === null && !(cmd === '/usr/bin/time' && existsSync(cmd))) {
      throw new Error(`${cmd} is needed (install iproute2, net-tools, gcc, time)`);
    }
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the CLI first (npx tsc -p tsconfig.json)`);
  removeStaleNamespaces();
  const dir = mkdtempSync(join(os.tmpdir(), 'tcpstate-bench-'));
  cleanups.set('temporary directory', () => rmSync(dir, { recursive: true, force: true }));
  try {
    const bin = join(dir, 'socket-load');
    run('gcc', ['-O2', '-Wall', '-o', bin, GENERATOR_SOURCE]);
    const started = new Date();
    const loadBefore = os.loadavg();
    const large = await withLoad(`${NS_PREFIX}${process.pid}`, bin, LARGE, async (load) => {
      const out: GroupResult[] = [];
      for (const g of GROUPS) out.push(await runGroup(g, load, dir, ROUNDS));
      return out;
    });
    const small = flag('no-scaling')
      ? []
      : await withLoad(`${NS_PREFIX}${process.pid}-small`, bin, SMALL, async (load) => {
          const out: GroupResult[] = [];
          for (const g of GROUPS) {
            out.push(await runGroup({ ...g, tools: g.tools.filter((t) => t !== TOOLS.summaryNetns) }, load, dir, ROUNDS));
          }
          return out;
        });

    const loadAfter = os.loadavg();
    const loadavg = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
    const command = `node build/bench/snapshot.js${process.argv.slice(2).length > 0 ? ' ' + process.argv.slice(2).join(' ') : ''}`;
    const body = [
      SECTION,
      '',
      `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine().join('; ')}.`,
      '',
      'Reproduce (root): `npx tsc -p tsconfig.json && npx tsc -p bench/tsconfig.json; ' + command.replace(' --write', '') + '`',
      '',
      `Load (bench/socket-load.c, private namespace): ${fmtN(LARGE.pairs)} established pairs, ${fmtN(LARGE.half)} half-closed pairs ` +
        `(FIN_WAIT_2 + CLOSE_WAIT), ${fmtN(LARGE.timeWait)} TIME_WAIT, ${LISTENERS} listeners = ${fmtN(socketsOf(LARGE))} sockets; ` +
        `scaling check at ${fmtN(socketsOf(SMALL))}. Each tool ran as \`/usr/bin/time -f %M ip netns exec NS …\` ` +
        `(the \`--netns\` row without \`ip netns exec\`) with stdout to a file; medians of ${ROUNDS} rounds after one warm-up, ` +
        'tool order rotated every round, TIME_WAIT batch renewed so that each round ran within its 60 s. ' +
        'Peak RSS of a pipeline is its largest process. Speed-up > 1 means tcpstate was faster. ' +
        `Load average (1/5/15 min) at start ${loadavg(loadBefore)}, at end ${loadavg(loadAfter)} ` +
        '(the machine is shared; rotating the order spreads that noise over every tool).',
      '',
      ...groupTable([...large, ...small]),
      '',
      'Targets:',
      '',
      ...verdicts(large, small),
      '',
      'Counts (tcpstate vs ss, same round):',
      '',
      '```',
      ...countsTable([...large, ...small]),
      '```',
      '',
    ].join('\n');
    console.log(body);
    if (flag('write')) writeResults(body);
  } finally {
    runCleanups();
  }
}

try {
  await main();
} catch (err: unknown) {
  runCleanups();
  process.stderr.write(`snapshot-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
