/**
 * `tcpstate capture` analysed on this thread: the connections as a table, JSON, NDJSON
 * (one line per connection, or through a filter or with timelines), CSV, Zeek conn.log,
 * aggregates, or one connection's timeline and sequence diagram. ./capture.ts checks the
 * options and loads this module only when it does not hand the file to the pipeline.
 */
import { writeFileSync } from 'node:fs';
import { BadOptionError, type TcpstateError } from '../core/errors.js';
import { profileByName, type ProfileName } from '../core/profile.js';
import { CaptureAnalyzer, type CaptureCounters } from '../capture/analyzer.js';
import type { ByteSink } from '../capture/bytes-out.js';
import { recordToJson, type Connection, type ConnectionRecord, type SideAnomalies } from '../capture/connection.js';
import { renderConnectionDiagram, renderConnectionSvg } from '../capture/diagram.js';
import { connectionMatches } from '../capture/filter.js';
import { readCaptureFileAsync, readCaptureStream } from '../capture/reader.js';
import { StatsCollector } from '../capture/stats.js';
import type { Filter } from '../filter/index.js';
import { CaptureFormatError } from '../wire/pcap.js';
import type { CaptureFlags } from './capture.js';
import { colours, printJson } from './output.js';
import { csvLine, renderTable, type Column } from './table.js';

/** What ./capture.ts made of the options. */
export interface CaptureSetup {
  readonly profileName: ProfileName;
  readonly idle: number;
  readonly filter: Filter | null;
  readonly connId: number | undefined;
  /** Plain --ndjson: lines written from the connections into this buffer, no records. */
  readonly direct: ByteSink | null;
  readonly progress: ((done: number, total: number) => void) | undefined;
}

/** Reads `file` (or stdin for '-'), prints what the flags ask for; a damaged file's error comes back after what was read is printed. */
export async function analyseHere(file: string, flags: CaptureFlags, setup: CaptureSetup): Promise<{ readonly packets: number; readonly failure: TcpstateError | null }> {
  const { profileName, idle, filter, connId, direct, progress } = setup;
  const out = new BufferedOut();
  const stats = new StatsCollector();
  const kept: ConnectionRecord[] = [];
  let chosen: { record: ConnectionRecord; conn: Connection } | null = null;
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
  const analyzer = new CaptureAnalyzer({
    profile: profileByName(profileName),
    idleTimeoutSec: idle,
    timeline: flags.timeline === true,
    ...(connId !== undefined ? { logConnection: connId } : {}),
    ...(direct !== null ? { ndjson: direct } : { onConnection }),
  });
  const flushOut = (): void => {
    out.flush();
    direct?.flush();
  };
  if (flags.zeek === true) process.stdout.write(zeekHeader(file) + '\n');

  let failure: TcpstateError | null = null;
  try {
    if (file === '-') {
      // A live pipe: records go out as soon as their connection is finished.
      await readCaptureStream(process.stdin, (p) => analyzer.packet(p), flushOut);
    } else {
      await readCaptureFileAsync(file, (p) => analyzer.packet(p), progress);
    }
  } catch (err: unknown) {
    if (err instanceof CaptureFormatError) failure = err;
    else if (err instanceof Error && 'code' in err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BadOptionError('FILE', file, 'an existing pcap or pcapng file, or - for standard input');
    } else throw err;
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
  return { packets: counters.packets, failure };
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
