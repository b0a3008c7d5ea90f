/**
 * `tcpstate ls [FILTER]`: the socket table with ss's filter language.
 */
import type { Command } from 'commander';
import { BadOptionError } from '../core/errors.js';
import { STATE_INFO, TCP_STATES } from '../core/states.js';
import { parseFilter } from '../filter/index.js';
import { collectSnapshot, streamSnapshot, type SnapshotOptions } from '../live/snapshot.js';
import type { SocketRecord } from '../records/socket.js';
import { addressWidth, decimalWidth, formatAddress, formatDuration, formatProcess, formatTimer, processWidth } from './format-socket.js';
import { colours, printJson } from './output.js';
import { addSnapshotOptions, baseSnapshotOptions, printNotices, type SnapshotFlags } from './snapshot-options.js';
import { csvLine, visibleWidth, writeRows, type RowColumn } from './table.js';

interface LsFlags extends SnapshotFlags {
  readonly all?: boolean;
  readonly listening?: boolean;
  readonly processes?: boolean;
  readonly info?: boolean;
  readonly extended?: boolean;
  readonly options?: boolean;
  readonly sort?: string;
  readonly json?: boolean;
  readonly ndjson?: boolean;
  readonly csv?: boolean;
}

const STATE_ORDER = new Map(TCP_STATES.map((s, i) => [s, i]));

function compareAddress(a: SocketRecord['local'], b: SocketRecord['local']): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port;
}

export const SORT_KEYS: Readonly<Record<string, (a: SocketRecord, b: SocketRecord) => number>> = {
  state: (a, b) => (STATE_ORDER.get(a.state) ?? 0) - (STATE_ORDER.get(b.state) ?? 0),
  local: (a, b) => compareAddress(a.local, b.local),
  remote: (a, b) => compareAddress(a.remote, b.remote),
  sport: (a, b) => a.local.port - b.local.port,
  dport: (a, b) => a.remote.port - b.remote.port,
  'recv-q': (a, b) => b.recvQueue - a.recvQueue,
  'send-q': (a, b) => b.sendQueue - a.sendQueue,
  pid: (a, b) => (a.process?.pid ?? Infinity) - (b.process?.pid ?? Infinity),
  uid: (a, b) => a.uid - b.uid,
  inode: (a, b) => a.inode - b.inode,
};

/** The record as JSON: every field of the documented record, always present. */
export function recordJson(r: SocketRecord): object {
  return {
    state: r.state,
    family: r.family,
    local: r.local,
    remote: r.remote,
    recvQueue: r.recvQueue,
    sendQueue: r.sendQueue,
    uid: r.uid,
    inode: r.inode,
    timer: r.timer,
    netns: r.netns,
    process: r.process,
    info: r.info,
  };
}

const CSV_HEADER = [
  'state', 'family', 'local_address', 'local_port', 'remote_address', 'remote_port', 'recv_queue', 'send_queue',
  'uid', 'inode', 'timer', 'netns', 'pid', 'command', 'fd', 'rtt_ms', 'retransmits',
];

function csvRow(r: SocketRecord): string {
  return csvLine([
    r.state, r.family, r.local.address, r.local.port, r.remote.address, r.remote.port, r.recvQueue, r.sendQueue,
    r.uid, r.inode, formatTimer(r.timer), r.netns, r.process?.pid ?? null, r.process?.command ?? null,
    r.process?.fd ?? null, r.info?.rttMs ?? null, r.info?.totalRetrans ?? null,
  ]);
}

export function register(program: Command): void {
  const cmd = program
    .command('ls')
    .description("list TCP sockets; FILTER is ss's filter language, e.g. state time-wait dport = :443")
    .argument('[filter...]', 'ss filter expression (one quoted argument or separate words)')
    .option('-a, --all', 'all states (the default; accepted for ss habits)')
    .option('-l, --listening', 'listening sockets only')
    .option('-p, --processes', 'show the process owning each socket')
    .option('-i, --info', 'show tcp_info: rtt, retransmits, cwnd, bytes')
    .option('-e, --extended', 'show uid and inode')
    .option('-o, --options', 'show timers')
    .option('--sort <key>', `sort by ${Object.keys(SORT_KEYS).join(', ')}`)
    .option('--json', 'one JSON array of records')
    .option('--ndjson', 'one JSON record per line, streamed')
    .option('--csv', 'CSV with a header line');
  addSnapshotOptions(cmd).action((words: string[], flags: LsFlags) => {
    const sortKey = flags.sort;
    if (sortKey !== undefined && SORT_KEYS[sortKey] === undefined) {
      throw new BadOptionError('--sort', sortKey, Object.keys(SORT_KEYS).join(', '));
    }
    const filter = words.length > 0 ? parseFilter(words) : null;
    const options: SnapshotOptions = {
      ...baseSnapshotOptions(flags),
      filter,
      processes: flags.processes === true,
      info: flags.info === true,
      ...(flags.listening === true ? { stateMask: 1 << STATE_INFO.LISTEN.linux } : {}),
    };

    if (flags.ndjson === true && sortKey === undefined) {
      const report = streamSnapshot(options, (r) => process.stdout.write(JSON.stringify(recordJson(r)) + '\n'));
      printNotices(report.notices);
      return;
    }
    const { records, report } = collectSnapshot(options);
    if (sortKey !== undefined) records.sort(SORT_KEYS[sortKey]);
    printNotices(report.notices);
    if (flags.ndjson === true) {
      for (const r of records) process.stdout.write(JSON.stringify(recordJson(r)) + '\n');
    } else if (flags.json === true) {
      printJson(records.map(recordJson));
    } else if (flags.csv === true) {
      const out = [csvLine(CSV_HEADER), ...records.map(csvRow)];
      process.stdout.write(out.join('\n') + '\n');
    } else {
      const c = colours();
      type Col = RowColumn<SocketRecord>;
      const num = (header: string, value: (r: SocketRecord) => number): Col => ({
        header,
        align: 'right',
        text: (r) => String(value(r)),
        width: (r) => decimalWidth(value(r)),
      });
      const plain = (header: string, text: (r: SocketRecord) => string, align?: 'right'): Col =>
        align === undefined ? { header, text } : { header, align, text };
      const info = (text: (i: NonNullable<SocketRecord['info']>) => string, header: string, align?: 'right'): Col =>
        plain(header, (r) => (r.info === null ? '' : text(r.info)), align);
      const columns: Col[] = [
        ...(report.namespaces.length > 1 ? [plain('Netns', (r) => r.netns ?? '')] : []),
        { header: 'State', text: (r) => stateColour(c, r.state), width: (r) => r.state.length },
        num('Recv-Q', (r) => r.recvQueue),
        num('Send-Q', (r) => r.sendQueue),
        { header: 'Local Address:Port', text: (r) => formatAddress(r.local, r.family), width: (r) => addressWidth(r.local, r.family) },
        { header: 'Peer Address:Port', text: (r) => formatAddress(r.remote, r.family), width: (r) => addressWidth(r.remote, r.family) },
        ...(flags.extended === true ? [num('Uid', (r) => r.uid), num('Inode', (r) => r.inode)] : []),
        ...(flags.options === true ? [plain('Timer', (r) => formatTimer(r.timer))] : []),
        ...(flags.info === true
          ? [
              info((i) => `${i.rttMs.toFixed(1)}/${i.rttvarMs.toFixed(1)}`, 'RTT/var ms'),
              info((i) => String(i.totalRetrans), 'Retrans', 'right'),
              info((i) => String(i.cwnd), 'Cwnd', 'right'),
              info((i) => `${i.bytesAcked}/${i.bytesReceived}`, 'Sent/Rcvd bytes'),
              info((i) => `${formatDuration(i.lastSendMs)}/${formatDuration(i.lastReceiveMs)}`, 'Last snd/rcv'),
            ]
          : []),
        ...(flags.processes === true
          ? [
              {
                header: 'Process',
                text: (r: SocketRecord) => formatProcess(r.process),
                // A command name with an escape character is measured as printed.
                width: (r: SocketRecord) =>
                  r.process !== null && r.process.command.includes('\u001b') ? visibleWidth(formatProcess(r.process)) : processWidth(r.process),
              },
            ]
          : []),
      ];
      writeRows(columns, records, (chunk) => process.stdout.write(chunk));
    }
  });
}

type Paint = ReturnType<typeof colours>;

function stateColour(c: Paint, state: SocketRecord['state']): string {
  switch (state) {
    case 'ESTABLISHED':
      return c.green(state);
    case 'LISTEN':
      return c.cyan(state);
    case 'CLOSE_WAIT':
    case 'FIN_WAIT_1':
    case 'LAST_ACK':
    case 'SYN_RECEIVED':
      return c.yellow(state);
    case 'TIME_WAIT':
    case 'FIN_WAIT_2':
      return c.dim(state);
    default:
      return state;
  }
}
