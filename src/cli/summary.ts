/**
 * `tcpstate` / `tcpstate summary`: counts for all 11 states with bars, families, top
 * ports and peers for the states that matter, the kernel counters that signal trouble,
 * and a one-line verdict from the doctor's rule engine (one look, default thresholds).
 */
import type { Command } from 'commander';
import { n } from '../format/number.js';
import { TCP_STATES } from '../core/states.js';
import type { Filter } from '../filter/index.js';
import { SummaryAggregator, WATCHED_STATES, type Summary } from '../analysis/summary.js';
import { quickVerdict, type Verdict } from '../analysis/verdict.js';
import { DoctorAggregator, parsePortRange, readKernelEnv } from '../doctor/observe.js';
import { streamSnapshot, type SnapshotReport } from '../live/snapshot.js';
import { colours, printJson } from './output.js';
import { addSnapshotOptions, baseSnapshotOptions, printNotices, type SnapshotFlags } from './snapshot-options.js';

interface SummaryFlags extends SnapshotFlags {
  readonly json?: boolean;
}

/** Counters worth a line when non-zero. */
export const TROUBLE_COUNTERS = [
  'ListenOverflows',
  'ListenDrops',
  'TCPTimeWaitOverflow',
  'TCPAbortOnMemory',
  'TCPAbortOnTimeout',
  'TCPAbortOnData',
  'TCPAbortOnClose',
  'TCPReqQFullDrop',
  'TCPReqQFullDoCookies',
  'SyncookiesSent',
  'SyncookiesFailed',
  'TCPOrphanQueued',
] as const;

export interface SummaryDocument extends Summary {
  readonly counters: {
    readonly orphans: number | null;
    readonly timeWaitBuckets: number | null;
    readonly memoryPages: number | null;
    readonly tcpExt: Record<string, number>;
  };
  readonly sysctls: Record<string, string | null>;
  readonly verdict: Verdict;
  readonly source: string;
  readonly netns: readonly string[];
  readonly ms: number;
}

export function buildSummary(
  flags: SummaryFlags,
  filter: Filter | null,
): { doc: SummaryDocument; notices: readonly string[] } {
  const agg = new SummaryAggregator();
  // Both aggregators keep only numbers and strings of a record: let the source reuse one.
  const options = { ...baseSnapshotOptions(flags), filter, reuseRecords: true };
  // Counters and most net.* sysctls are per namespace: read them from inside it.
  const env = readKernelEnv(options.netns);
  const { counters, sysctls } = env;
  const doctor = new DoctorAggregator(parsePortRange(sysctls['net.ipv4.ip_local_port_range']));
  const report: SnapshotReport = streamSnapshot(options, (r) => {
    agg.add(r);
    doctor.add(r);
  });
  const summary = agg.result();
  const tcpExt: Record<string, number> = {};
  for (const k of TROUBLE_COUNTERS) {
    const v = counters.tcpExt[k];
    if (v !== undefined) tcpExt[k] = v;
  }
  const doc: SummaryDocument = {
    ...summary,
    counters: {
      orphans: counters.sockstat?.orphan ?? null,
      timeWaitBuckets: counters.sockstat?.timeWait ?? null,
      memoryPages: counters.sockstat?.memPages ?? null,
      tcpExt,
    },
    sysctls,
    verdict: quickVerdict(doctor.finish(env, null)),
    source: report.source,
    netns: report.namespaces,
    ms: Math.round(report.ms * 10) / 10,
  };
  return { doc, notices: report.notices };
}

const BAR_WIDTH = 40;

export function renderSummary(doc: SummaryDocument, paint = colours()): string[] {
  const lines: string[] = [];
  lines.push(
    paint.bold(`TCP sockets: ${n(doc.total)}`) +
      `  (ipv4 ${n(doc.families.ipv4)}, ipv6 ${n(doc.families.ipv6)})` +
      paint.dim(`  ${doc.source}, ${doc.ms} ms${doc.netns.length > 1 ? `, ${doc.netns.length} namespaces` : ''}`),
  );
  const max = Math.max(1, ...TCP_STATES.map((s) => doc.states[s]));
  const countWidth = Math.max(...TCP_STATES.map((s) => n(doc.states[s]).length));
  for (const s of TCP_STATES) {
    const c = doc.states[s];
    const len = c === 0 ? 0 : Math.max(1, Math.round((c / max) * BAR_WIDTH));
    const bar = '█'.repeat(len);
    lines.push(`  ${s.padEnd(13)} ${n(c).padStart(countWidth)}  ${c === 0 ? '' : paint.cyan(bar)}`.trimEnd());
  }
  const watched = WATCHED_STATES.filter((s) => doc.states[s] > 0);
  if (watched.length > 0) {
    lines.push('');
    for (const s of watched) {
      const ports = (doc.ports[s] ?? []).map((p) => `${p.port} (${n(p.count)})`).join(', ');
      const peers = (doc.peers[s] ?? []).map((p) => `${p.address} (${p.approximate ? '≈' : ''}${n(p.count)})`).join(', ');
      lines.push(`  ${paint.bold(s)}: local ports ${ports}; peers ${peers}`);
    }
  }
  const k = doc.counters;
  const kernel: string[] = [];
  if (k.orphans !== null) kernel.push(`orphans ${n(k.orphans)}/${doc.sysctls['net.ipv4.tcp_max_orphans'] ?? '?'}`);
  if (k.timeWaitBuckets !== null) kernel.push(`tw buckets ${n(k.timeWaitBuckets)}/${doc.sysctls['net.ipv4.tcp_max_tw_buckets'] ?? '?'}`);
  for (const [name, v] of Object.entries(k.tcpExt)) if (v > 0) kernel.push(`${name} ${n(v)}`);
  lines.push('');
  lines.push(`  kernel: ${kernel.join(', ')}`);
  lines.push(
    `  sysctl: fin_timeout ${doc.sysctls['net.ipv4.tcp_fin_timeout'] ?? '?'}s, tw_reuse ${doc.sysctls['net.ipv4.tcp_tw_reuse'] ?? '?'}, ` +
      `syncookies ${doc.sysctls['net.ipv4.tcp_syncookies'] ?? '?'}, somaxconn ${doc.sysctls['net.core.somaxconn'] ?? '?'}, ` +
      `port range ${doc.sysctls['net.ipv4.ip_local_port_range'] ?? '?'}`,
  );
  lines.push('');
  const v = doc.verdict;
  const paintV = v.severity === 'ok' ? paint.green : v.severity === 'info' ? paint.cyan : v.severity === 'warning' ? paint.yellow : paint.red;
  lines.push(paintV(v.text));
  return lines;
}

export function register(program: Command): void {
  const cmd = program
    .command('summary', { isDefault: true })
    .description('counts per state, top ports and peers, kernel counters and a verdict (the default command)')
    .argument('[filter...]', 'optional ss filter expression to count only matching sockets')
    .option('--json', 'print { total, states, families, ports, peers, counters, sysctls, verdict }');
  addSnapshotOptions(cmd).action(async (words: string[], flags: SummaryFlags) => {
    // The filter language (six modules) is loaded only when a filter is given.
    const filter = words.length > 0 ? (await import('../filter/index.js')).parseFilter(words) : null;
    const { doc, notices } = buildSummary(flags, filter);
    printNotices(notices);
    if (flags.json === true) {
      printJson(doc);
      return;
    }
    process.stdout.write(renderSummary(doc).join('\n') + '\n');
  });
}
