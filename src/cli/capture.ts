/**
 * `tcpstate capture FILE|- [FILTER]`: every TCP connection of a pcap/pcapng capture with
 * both endpoints' states, Zeek and Wireshark labels and anomalies; `--conn ID` draws one.
 *
 * The progress bar is a dozen lines here rather than a dependency (cli-progress): it
 * only needs "octets read of the file size" redrawn at most 10 times a second on a TTY
 * stderr, and the package and lockfile stay untouched.
 */
import { closeSync, fstatSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { BadOptionError, TcpstateError } from '../core/errors.js';
import { isProfileName, profileByName } from '../core/profile.js';
import { CaptureAnalyzer, type CaptureCounters } from '../capture/analyzer.js';
import { ByteSink, type FlushTarget } from '../capture/bytes-out.js';
import { recordToJson, type Connection, type ConnectionRecord, type SideAnomalies } from '../capture/connection.js';
import { renderConnectionDiagram, renderConnectionSvg } from '../capture/diagram.js';
import { connectionMatches } from '../capture/filter.js';
import { captureNdjsonPipeline } from '../capture/pipeline.js';
import { readCaptureFileAsync, readCaptureStream } from '../capture/reader.js';
import { StatsCollector } from '../capture/stats.js';
import { parseFilter, type Filter } from '../filter/index.js';
import { CaptureFormatError } from '../wire/pcap.js';
import { colours, printJson } from './output.js';
import { csvLine, renderTable, type Column } from './table.js';

interface CaptureFlags {
  readonly json?: boolean;
  readonly ndjson?: boolean;
  readonly csv?: boolean;
  readonly zeek?: boolean;
  readonly stats?: boolean;
  readonly conn?: string;
  readonly svg?: string;
  readonly timeline?: boolean;
  readonly idleTimeout?: string;
  readonly profile?: string;
  readonly progress?: boolean;
  readonly threads?: string;
}

export function register(program: Command): void {
  program
    .command('capture')
    .description("both endpoints' states for every TCP connection of a pcap/pcapng file ('-' reads stdin, e.g. tcpdump -U -w - | tcpstate capture -)")
    .argument('<file>', 'capture file (pcap or pcapng), or - for standard input')
    .argument('[filter...]', "ss filter over either endpoint, e.g. state time-wait or dport = :443")
    .option('--json', 'one JSON document: connections and totals')
    .option('--ndjson', 'one JSON record per connection, streamed as connections finish')
    .option('--csv', 'CSV with a header line')
    .option('--zeek', "Zeek conn.log (TSV with Zeek's header lines)")
    .option('--stats', 'aggregates: final state pairs, conn_state, resets, handshake RTT')
    .option('--conn <id>', "one connection's timeline and sequence diagram")
    .option('--svg <file>', 'with --conn: also write the sequence diagram as SVG')
    .option('--timeline', 'include every connection\'s transition timeline in JSON output')
    .option('--idle-timeout <seconds>', 'finish connections idle this long in capture time (memory bound)', '300')
    .option('--profile <name>', 'timer profile for TIME_WAIT: linux (60 s) or rfc9293 (4 min)', 'linux')
    .option('--threads <n>', 'with --ndjson on a file: threads in all, 1 to 9 (the main one writes the lines, the others share the connections; default: 2 on a multi-core machine for files over 64 MiB, else 1)')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (file: string, words: string[], flags: CaptureFlags) => {
      await runCapture(file, words, flags);
    });
}

async function runCapture(file: string, words: readonly string[], flags: CaptureFlags): Promise<void> {
  const modes = [flags.json && flags.stats !== true, flags.ndjson, flags.csv, flags.zeek, flags.stats].filter((x) => x === true).length;
  if (modes > 1) throw new BadOptionError('output', 'several of --json --ndjson --csv --zeek --stats', 'at most one of them (--stats --json is allowed)');
  const idle = Number(flags.idleTimeout ?? '300');
  if (!Number.isFinite(idle) || idle <= 0) throw new BadOptionError('--idle-timeout', String(flags.idleTimeout), 'a positive number of seconds');
  const profileName = flags.profile ?? 'linux';
  if (!isProfileName(profileName)) throw new BadOptionError('--profile', profileName, 'linux or rfc9293');
  let connId: number | undefined;
  if (flags.conn !== undefined) {
    connId = Number(flags.conn);
    if (!Number.isInteger(connId) || connId < 1) throw new BadOptionError('--conn', flags.conn, 'a connection id (a positive integer, see the ID column)');
  }
  if (flags.svg !== undefined && connId === undefined) throw new BadOptionError('--svg', flags.svg, 'used together with --conn ID');
  const filter: Filter | null = words.length > 0 ? parseFilter(words) : null;
  if (flags.threads !== undefined && !/^[1-9]$/.test(flags.threads)) throw new BadOptionError('--threads', flags.threads, 'a number of threads from 1 to 9');

  const out = new BufferedOut();
  const stats = new StatsCollector();
  const kept: ConnectionRecord[] = [];
  let chosen: { record: ConnectionRecord; conn: Connection } | null = null;
  const withTimeline = flags.timeline === true;
  const onConnection = (r: ConnectionRecord, c: Connection | null): void => {
    if (connId !== undefined) {
      if (r.id === connId && c !== null) chosen = { record: r, conn: c };
      return;
    }
    if (filter !== null && !connectionMatches(filter, r)) return;
    if (flags.stats === true) stats.add(r);
    else if (flags.ndjson === true) out.write(recordToJson(r) + '\n');
    else if (flags.zeek === true) out.write(zeekLine(r) + '\n');
    else kept.push(r);
  };
  // Plain --ndjson: lines are written from the connections into one reused buffer, no records.
  const direct = flags.ndjson === true && filter === null && !withTimeline && connId === undefined ? new ByteSink(1 << 20, stdoutTarget()) : null;
  const analyzer = new CaptureAnalyzer({
    profile: profileByName(profileName),
    idleTimeoutSec: idle,
    timeline: withTimeline,
    ...(connId !== undefined ? { logConnection: connId } : {}),
    ...(direct !== null ? { ndjson: direct } : { onConnection }),
  });
  const flushOut = (): void => {
    out.flush();
    direct?.flush();
  };
  if (flags.zeek === true) process.stdout.write(zeekHeader(file) + '\n');

  let failure: TcpstateError | null = null;
  const bar = flags.progress !== false && file !== '-' && process.stderr.isTTY === true ? new ProgressBar() : null;
  if (file !== '-') checkReadable(file);
  const threads = direct !== null && file !== '-' ? threadsFor(file, flags.threads) : 1;
  if (direct !== null && threads > 1) {
    // The same lines in the same order, the analysis on a worker thread (src/capture/pipeline.ts).
    try {
      const result = await captureNdjsonPipeline(file, threads - 1, { profile: profileName, idleTimeoutSec: idle }, direct, bar === null ? undefined : (d, t) => bar.update(d, t));
      if (result.failure !== null) throw damaged(result.failure, result.packets);
    } finally {
      bar?.done();
    }
    return;
  }
  try {
    if (file === '-') {
      // A live pipe: records go out as soon as their connection is finished.
      await readCaptureStream(process.stdin, (p) => analyzer.packet(p), flushOut);
    } else {
      await readCaptureFileAsync(file, (p) => analyzer.packet(p), bar === null ? undefined : (d, t) => bar.update(d, t));
    }
  } catch (err: unknown) {
    if (err instanceof CaptureFormatError) failure = err;
    else if (err instanceof Error && 'code' in err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BadOptionError('FILE', file, 'an existing pcap or pcapng file, or - for standard input');
    } else throw err;
  } finally {
    bar?.done();
  }
  analyzer.end();
  flushOut();
  const counters = analyzer.counters;

  if (connId !== undefined) {
    printConnection(connId, chosen, flags.svg);
  } else if (flags.stats === true) {
    printStats(stats, counters, flags.json === true);
  } else if (flags.json === true) {
    kept.sort((a, b) => a.id - b.id);
    printJson({ file, counters: countersJson(counters), connections: kept });
  } else if (flags.csv === true) {
    kept.sort((a, b) => a.id - b.id);
    process.stdout.write([csvLine(CSV_HEADER), ...kept.map(csvRow)].join('\n') + '\n');
  } else if (flags.ndjson !== true && flags.zeek !== true) {
    kept.sort((a, b) => a.id - b.id);
    printTable(kept, counters);
  }
  if (flags.zeek === true) process.stdout.write(`#close\t${zeekTime(Date.now() / 1000)}\n`);
  // Everything before the damage has been printed; the error ends the run (exit 1).
  if (failure !== null) throw damaged(failure, counters.packets);
}

function damaged(failure: TcpstateError, packets: number): TcpstateError {
  return new TcpstateError(
    failure.code,
    `${failure.message}; the ${packets} packets before it were analysed. The file is damaged or was cut short: copy it again, or use what was read.`,
  );
}

/** The capture file exists, is not a directory, and can be opened for reading: else a usage error naming it. */
function checkReadable(file: string): void {
  let what = 'an existing pcap or pcapng file, or - for standard input';
  try {
    if (statSync(file).isDirectory()) {
      what = 'a pcap or pcapng file, not a directory';
      throw new Error('directory');
    }
    what = 'a file you can read (check its permissions)';
    closeSync(openSync(file, 'r'));
  } catch {
    throw new BadOptionError('FILE', file, what);
  }
}

/** `--ndjson` on a file: threads in all, as asked, else 2 on a multi-core machine for files over 64 MiB (below that, starting a worker costs more than it saves). */
function threadsFor(file: string, asked: string | undefined): number {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new BadOptionError('FILE', file, 'an existing pcap or pcapng file, or - for standard input');
  }
  if (asked !== undefined) return Number(asked);
  return availableParallelism() > 1 && size >= 64 << 20 ? 2 : 1;
}

function countersJson(c: CaptureCounters): object {
  return {
    packets: c.packets,
    tcpPackets: c.tcpPackets,
    connections: c.connections,
    nonIp: c.nonIp,
    nonTcp: c.nonTcp,
    fragments: c.fragments,
    truncated: c.truncated,
    malformed: c.malformed,
    unsupportedLink: c.unsupportedLink,
    firstTime: Number.isNaN(c.firstTime) ? null : c.firstTime,
    lastTime: Number.isNaN(c.lastTime) ? null : c.lastTime,
  };
}

function endpoint(a: ConnectionRecord['originator'], family: string): string {
  return family === 'ipv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function clock(t: number): string {
  const d = new Date(t * 1000);
  return `${d.toISOString().slice(11, 23)}`;
}

/** Short anomaly tags for the table. */
export function anomalyTags(r: ConnectionRecord): string {
  const a = r.anomalies;
  const tags: string[] = [];
  for (const x of a.resets) tags.push(`rst-by-${x.by}(${x.state})`);
  const sum = (k: keyof SideAnomalies): number => a.orig[k] + a.resp[k];
  if (a.unansweredSyn) tags.push('unanswered-syn');
  if (sum('synRetransmissions') > 0) tags.push(`syn-rexmit×${sum('synRetransmissions')}`);
  if (sum('finRetransmissions') > 0) tags.push(`fin-rexmit×${sum('finRetransmissions')}`);
  if (sum('retransmissions') > 0) tags.push(`rexmit×${sum('retransmissions')}`);
  if (sum('outOfOrder') > 0) tags.push(`ooo×${sum('outOfOrder')}`);
  if (sum('zeroWindow') > 0) tags.push(`zero-window×${sum('zeroWindow')}`);
  if (sum('missedBytes') > 0) tags.push(`missed ${sum('missedBytes')} B`);
  if (sum('dataAfterFin') > 0) tags.push('data-after-fin');
  if (a.simultaneousOpen) tags.push('simultaneous-open');
  if (a.simultaneousClose) tags.push('simultaneous-close');
  if (a.halfClose) tags.push('half-close');
  if (a.midStream) tags.push('mid-stream');
  if (a.truncatedPackets > 0) tags.push(`truncated×${a.truncatedPackets}`);
  return tags.join(' ');
}

function printTable(records: readonly ConnectionRecord[], counters: CaptureCounters): void {
  const c = colours();
  const columns: Column[] = [
    { header: 'ID', align: 'right' },
    { header: 'Start' },
    { header: 'Dur(s)', align: 'right' },
    { header: 'Originator' },
    { header: 'Responder' },
    { header: 'Pkts o/r', align: 'right' },
    { header: 'Bytes o/r', align: 'right' },
    { header: 'Orig state' },
    { header: 'Resp state' },
    { header: 'Zeek' },
    { header: 'History' },
    { header: 'RTT ms', align: 'right' },
    { header: 'Anomalies' },
  ];
  const rows = records.map((r) => [
    String(r.id),
    clock(r.start),
    r.duration.toFixed(3),
    endpoint(r.originator, r.family) + (r.originatorInferred ? '?' : ''),
    endpoint(r.responder, r.family),
    `${r.packets.orig}/${r.packets.resp}`,
    `${r.bytes.orig}/${r.bytes.resp}`,
    r.states.orig,
    r.states.resp,
    r.zeek.connState,
    r.zeek.history,
    r.anomalies.handshakeRttMs === null ? '' : r.anomalies.handshakeRttMs.toFixed(3),
    c.yellow(anomalyTags(r)),
  ]);
  process.stdout.write(renderTable(columns, rows).join('\n') + '\n');
  process.stdout.write(c.dim(summaryLine(counters, records.length)) + '\n');
}

function summaryLine(c: CaptureCounters, shown: number): string {
  const skipped: string[] = [];
  if (c.nonTcp > 0) skipped.push(`${c.nonTcp} non-TCP`);
  if (c.nonIp > 0) skipped.push(`${c.nonIp} non-IP`);
  if (c.fragments > 0) skipped.push(`${c.fragments} fragments`);
  if (c.truncated > 0) skipped.push(`${c.truncated} truncated`);
  if (c.malformed > 0) skipped.push(`${c.malformed} malformed`);
  if (c.unsupportedLink > 0) skipped.push(`${c.unsupportedLink} unsupported link type`);
  const span = Number.isNaN(c.firstTime) ? 0 : c.lastTime - c.firstTime;
  return `${shown} of ${c.connections} connections, ${c.tcpPackets} TCP packets of ${c.packets}${skipped.length > 0 ? ` (${skipped.join(', ')})` : ''}, ${span.toFixed(3)} s; "?" = originator inferred (no SYN seen)`;
}

const CSV_HEADER = [
  'id', 'start', 'duration', 'family', 'orig_address', 'orig_port', 'resp_address', 'resp_port', 'originator_inferred',
  'orig_packets', 'resp_packets', 'orig_bytes', 'resp_bytes', 'orig_state', 'resp_state', 'zeek_conn_state',
  'zeek_history', 'completeness', 'handshake_rtt_ms', 'anomalies',
];

function csvRow(r: ConnectionRecord): string {
  return csvLine([
    r.id, r.start, r.duration, r.family, r.originator.address, r.originator.port, r.responder.address, r.responder.port,
    r.originatorInferred ? 'true' : 'false', r.packets.orig, r.packets.resp, r.bytes.orig, r.bytes.resp, r.states.orig,
    r.states.resp, r.zeek.connState, r.zeek.history, r.completeness, r.anomalies.handshakeRttMs, anomalyTags(r),
  ]);
}

// ---- Zeek conn.log ----

const ZEEK_FIELDS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes',
  'resp_bytes', 'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes',
  'resp_pkts', 'resp_ip_bytes', 'tunnel_parents',
];
const ZEEK_TYPES = [
  'time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval', 'count', 'count', 'string', 'bool',
  'bool', 'count', 'string', 'count', 'count', 'count', 'count', 'set[string]',
];

function zeekTime(t: number): string {
  return t.toFixed(6);
}

function zeekHeader(file: string): string {
  return [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tconn',
    `#open\t${zeekTime(Date.now() / 1000)}`,
    `#fields\t${ZEEK_FIELDS.join('\t')}`,
    `#types\t${ZEEK_TYPES.join('\t')}`,
  ].join('\n') + (file === '' ? '' : '');
}

/** A stable per-run uid in Zeek's shape (C + base62); Zeek's own are random. */
function zeekUid(id: number): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = '';
  let n = id;
  do {
    s = (alphabet[n % 62] as string) + s;
    n = Math.floor(n / 62);
  } while (n > 0);
  return `C${s.padStart(17, '0')}`;
}

function zeekLine(r: ConnectionRecord): string {
  const z = r.zeek;
  const hasDuration = z.duration > 0;
  const missed = r.anomalies.orig.missedBytes + r.anomalies.resp.missedBytes;
  return [
    zeekTime(r.start), zeekUid(r.id), r.originator.address, r.originator.port, r.responder.address, r.responder.port,
    'tcp', '-', hasDuration ? z.duration.toFixed(6) : '-', hasDuration ? z.origBytes : '-', hasDuration ? z.respBytes : '-',
    z.connState, '-', '-', missed, z.history === '' ? '-' : z.history, r.packets.orig, r.ipBytes.orig, r.packets.resp,
    r.ipBytes.resp, '-',
  ].join('\t');
}

// ---- --stats ----

function printStats(collector: StatsCollector, counters: CaptureCounters, json: boolean): void {
  const s = collector.result();
  if (json) {
    printJson({ counters: countersJson(counters), ...s });
    return;
  }
  const c = colours();
  const lines: string[] = [];
  lines.push(c.bold(summaryLine(counters, s.connections).replace(/; ".*$/, '')));
  lines.push('');
  lines.push(c.bold('final states (originator/responder)'));
  for (const [k, v] of Object.entries(s.statePairs).sort((a, b) => b[1] - a[1])) lines.push(`  ${k.padEnd(32)} ${String(v).padStart(8)}`);
  lines.push('');
  lines.push(c.bold('zeek conn_state'));
  for (const [k, v] of Object.entries(s.zeekConnStates).sort((a, b) => b[1] - a[1])) lines.push(`  ${k.padEnd(32)} ${String(v).padStart(8)}`);
  lines.push('');
  lines.push(c.bold('resets'));
  lines.push(`  connections with a RST          ${String(s.resets.connections).padStart(8)}`);
  lines.push(`  sent by the originator          ${String(s.resets.byOriginator).padStart(8)}`);
  lines.push(`  sent by the responder           ${String(s.resets.byResponder).padStart(8)}`);
  lines.push('');
  lines.push(c.bold('anomalies'));
  for (const [k, v] of Object.entries(s.anomalies)) if (v > 0) lines.push(`  ${k.padEnd(32)} ${String(v).padStart(8)}`);
  lines.push('');
  const h = s.handshakeRttMs;
  lines.push(c.bold('handshake RTT (SYN → ACK), ms'));
  if (h.count === 0) lines.push('  no complete handshake seen');
  else lines.push(`  n ${h.count}  min ${h.min}  p50 ${h.p50}  p90 ${h.p90}  p99 ${h.p99}  max ${h.max}  mean ${h.mean}`);
  process.stdout.write(lines.join('\n') + '\n');
}

// ---- --conn ----

function printConnection(id: number, chosen: { record: ConnectionRecord; conn: Connection } | null, svg: string | undefined): void {
  if (chosen === null) throw new BadOptionError('--conn', String(id), 'the ID of a connection in this capture (see the ID column)');
  const { record: r, conn } = chosen;
  const c = colours();
  const log = conn.log ?? [];
  const timeline = r.timeline ?? [];
  const lines: string[] = [];
  lines.push(c.bold(`connection ${r.id}: ${endpoint(r.originator, r.family)} → ${endpoint(r.responder, r.family)}`) + (r.originatorInferred ? c.dim('  (originator inferred: no SYN seen)') : ''));
  lines.push(`start ${new Date(r.start * 1000).toISOString()}, ${r.duration.toFixed(6)} s, packets ${r.packets.orig}/${r.packets.resp}, payload bytes ${r.bytes.orig}/${r.bytes.resp}`);
  lines.push(`zeek ${r.zeek.connState} ${r.zeek.history}, tcp.completeness ${r.completeness}${anomalyTags(r) === '' ? '' : `, ${anomalyTags(r)}`}`);
  lines.push('');
  lines.push(c.bold('timeline'));
  for (const t of timeline) {
    lines.push(`  ${((t.at - r.start) * 1000).toFixed(3).padStart(10)} ms  ${t.side.padEnd(4)}  ${t.from.padEnd(12)} → ${t.to.padEnd(12)}  ${t.rule}${t.inferred ? ' (inferred)' : ''}${t.packet > 0 ? `  #${t.packet}` : '  (timer)'}`);
  }
  lines.push('');
  lines.push(...renderConnectionDiagram(r, log, timeline, c));
  process.stdout.write(lines.join('\n') + '\n');
  if (svg !== undefined) writeFileSync(svg, renderConnectionSvg(r, log, timeline));
}

/**
 * Where the NDJSON buffer goes: a file or /dev/null is written synchronously from the
 * buffer itself; a pipe or a TTY through process.stdout with a copy (the write may finish
 * later, and the buffer is reused at once).
 */
function stdoutTarget(): FlushTarget {
  let direct = false;
  try {
    const st = fstatSync(1);
    direct = st.isFile() || (st.isCharacterDevice() && process.stdout.isTTY !== true);
  } catch {
    direct = false;
  }
  if (direct) {
    return (b, n) => {
      for (let at = 0; at < n; ) at += writeSync(1, b, at, n - at);
    };
  }
  return (b, n) => {
    process.stdout.write(Buffer.from(b.subarray(0, n)));
  };
}

/** Streamed lines collected into ~64 KiB writes: one write per record costs more than the record. */
class BufferedOut {
  private parts: string[] = [];
  private size = 0;

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 65536) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    process.stdout.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

/** A one-line progress bar on stderr, redrawn at most every 100 ms. */
class ProgressBar {
  private last = 0;
  private shown = false;

  update(done: number, total: number): void {
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    this.shown = true;
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const full = Math.round(frac * width);
    process.stderr.write(`\r[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${(done / 1048576).toFixed(1)}/${(total / 1048576).toFixed(1)} MiB`);
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\u001b[K');
  }
}
