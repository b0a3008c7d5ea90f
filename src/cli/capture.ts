/**
 * `tcpstate capture FILE|- [FILTER]`: every TCP connection of a pcap/pcapng capture with
 * both endpoints' states, Zeek and Wireshark labels and anomalies; `--conn ID` draws one.
 * This module checks the options and, for plain --ndjson on a large file, hands the file
 * to the pipeline of threads (src/capture/pipeline.ts); everything else is analysed and
 * printed by ./capture-report.ts, loaded only then, so that the pipeline's worker starts
 * without waiting for the analyzer and the reports to load.
 */
import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { BadOptionError, TcpstateError } from '../core/errors.js';
import { isProfileName } from '../core/profile.js';
import { ByteSink, type FlushTarget } from '../capture/bytes-out.js';
import { captureNdjsonPipeline } from '../capture/pipeline.js';
import { dropPrestartedWorker } from '../capture/pipeline-start.js';
import type { Filter } from '../filter/index.js';
import { captureThreads } from './capture-threads.js';
import { ProgressBar } from './progress-bar.js';

export interface CaptureFlags {
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
      try {
        await runCapture(file, words, flags);
      } finally {
        dropPrestartedWorker();
      }
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
  const filter: Filter | null = words.length > 0 ? (await import('../filter/index.js')).parseFilter(words) : null;
  if (flags.threads !== undefined && !/^[1-9]$/.test(flags.threads)) throw new BadOptionError('--threads', flags.threads, 'a number of threads from 1 to 9');

  const withTimeline = flags.timeline === true;
  // Plain --ndjson: lines are written from the connections into one reused buffer, no records.
  const direct = flags.ndjson === true && filter === null && !withTimeline && connId === undefined ? new ByteSink(1 << 20, stdoutTarget()) : null;
  if (file !== '-') checkReadable(file);
  const threads = direct !== null && file !== '-' ? threadsFor(file, flags.threads) : 1;
  const bar = flags.progress !== false && file !== '-' && process.stderr.isTTY === true ? new ProgressBar() : null;
  const progress = bar === null ? undefined : (done: number, total: number): void => bar.update(done, total);
  let result: { readonly packets: number; readonly failure: TcpstateError | null };
  if (direct !== null && threads > 1) {
    // The same lines in the same order, the analysis on a worker thread (src/capture/pipeline.ts).
    try {
      result = await captureNdjsonPipeline(file, threads - 1, { profile: profileName, idleTimeoutSec: idle }, direct, progress);
    } finally {
      bar?.done();
    }
  } else {
    dropPrestartedWorker();
    // Loaded only here: the pipeline's thread starts its worker without waiting for the analyzer and the reports to load.
    const { analyseHere } = await import('./capture-report.js');
    try {
      result = await analyseHere(file, flags, { profileName, idle, filter, connId, direct, progress });
    } finally {
      bar?.done();
    }
  }
  // Everything before the damage has been printed; the error ends the run (exit 1).
  if (result.failure !== null) throw damaged(result.failure, result.packets);
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

/** `--ndjson` on a file: threads in all (./capture-threads.ts). */
function threadsFor(file: string, asked: string | undefined): number {
  const threads = captureThreads(file, asked);
  if (threads === null) throw new BadOptionError('FILE', file, 'an existing pcap or pcapng file, or - for standard input');
  return threads;
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
