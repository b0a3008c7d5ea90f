/**
 * `tcpstate trace [FILTER] [--duration S] [--json|--ndjson]`: every TCP state change the
 * kernel makes, as it happens, one line each.
 * `tcpstate trace --summary [--duration S] [--interval N] [--json]`: transition matrix,
 * dwell distributions, lifetimes, top talkers, lost events.
 *
 * Exit codes: 0 done (duration reached, or ended by SIGINT/SIGTERM after cleaning up),
 * 1 runtime failure, 2 usage error, 4 not root (tracefs needs it; nothing changed),
 * 5 no tracefs or no TCP tracepoints on this kernel.
 */
import type { Command } from 'commander';
import { BadOptionError } from '../core/errors.js';
import type { TcpState } from '../core/states.js';
import { parseFilter } from '../filter/index.js';
import { TraceError } from '../sources/tracefs.js';
import { isoMicros, transitionJson, type TransitionEvent } from '../trace/event.js';
import { traceTransitions, type TraceStream } from '../trace/index.js';
import { SummaryAggregator, type Distribution, type TraceSummary } from '../trace/summary.js';
import { colours, printJson, type Colours } from './output.js';
import { renderTable } from './table.js';

export const EXIT_TRACE_NO_PRIVILEGE = 4;
export const EXIT_TRACE_UNAVAILABLE = 5;

interface TraceFlags {
  readonly duration?: string;
  readonly json?: boolean;
  readonly ndjson?: boolean;
  readonly summary?: boolean;
  readonly interval?: string;
  readonly bufferKb?: string;
}

function positive(option: string, text: string | undefined, allowZero = false): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new BadOptionError(option, text, 'a positive number of seconds');
  return n;
}

function addr(a: { address: string; port: number }, family: string): string {
  return family === 'ipv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function clock(ms: number): string {
  return isoMicros(ms).slice(11, 26);
}

function dwell(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)}ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

function paintState(c: Colours, s: TcpState | null): string {
  if (s === null) return '-';
  if (s === 'ESTABLISHED') return c.green(s);
  if (s === 'TIME_WAIT' || s === 'FIN_WAIT_2') return c.dim(s);
  if (s === 'CLOSE_WAIT' || s === 'SYN_SENT' || s === 'SYN_RECEIVED') return c.yellow(s);
  return s;
}

const HEADER = `${'TIME'.padEnd(15)} ${'FAM'.padEnd(4)} ${'LOCAL'.padEnd(24)} ${'REMOTE'.padEnd(24)} ${'TRANSITION'.padEnd(28)} ${'IN-STATE'.padStart(9)}  RST`;

/** One human line per event (fixed columns: it streams). */
export function formatEventLine(e: TransitionEvent, c: Colours): string {
  const fam = e.family === 'ipv4' ? 'v4' : 'v6';
  let what: string;
  let rst = '';
  if (e.event === 'transition') {
    const to = `${paintState(c, e.to)}${e.inferred ? '*' : ''}`;
    const plain = `${e.from ?? '-'} → ${e.to ?? '-'}${e.inferred ? '*' : ''}`;
    what = `${paintState(c, e.from)} → ${to}${' '.repeat(Math.max(0, 28 - plain.length))}`;
    if (e.reset !== null) rst = e.reset === 'sent' ? 'sent' : 'received';
  } else {
    const plain = `RST ${e.event === 'rst-sent' ? 'sent' : 'received'} in ${e.from ?? '(no socket)'}`;
    what = c.red(plain) + ' '.repeat(Math.max(0, 28 - plain.length));
    rst = e.reason ?? '';
  }
  return `${clock(e.time)} ${fam.padEnd(4)} ${addr(e.local, e.family).padEnd(24)} ${addr(e.remote, e.family).padEnd(24)} ${what} ${dwell(e.inStateMs).padStart(9)}  ${rst}`;
}

function distRow(name: string, d: Distribution): string[] {
  const f = (ms: number): string => dwell(ms);
  return [name, String(d.count), f(d.p50Ms), f(d.p90Ms), f(d.p99Ms), f(d.maxMs)];
}

const DWELL_NOTES: Partial<Record<TcpState, string>> = {
  SYN_SENT: 'connect latency',
  SYN_RECEIVED: 'clone to ESTABLISHED (request socket time not traced)',
  CLOSE_WAIT: 'peer FIN to application close',
  FIN_WAIT_1: 'our FIN to its ACK',
  FIN_WAIT_2: 'waiting for the peer FIN',
  LAST_ACK: 'our FIN to its ACK',
  ESTABLISHED: 'data transfer phase',
};

/** The human summary report. */
export function renderSummary(s: TraceSummary, c: Colours): string[] {
  const out: string[] = [];
  out.push(c.bold(`TCP transitions: ${s.transitions} in ${s.seconds.toFixed(1)} s (${s.seconds > 0 ? (s.transitions / s.seconds).toFixed(1) : '0'}/s), new connections ${s.newConnections}, resets sent ${s.resets.sent} / received ${s.resets.received}, lost events ${s.lost}`));
  out.push('');
  out.push(c.bold('Transitions (from → to)'));
  out.push(
    ...renderTable(
      [{ header: 'From' }, { header: 'To' }, { header: 'Count', align: 'right' }, { header: '/s', align: 'right' }],
      s.matrix.map((m) => [m.from ?? '-', m.to ?? '-', String(m.count), m.perSecond.toFixed(2)]),
    ).map((l) => `  ${l}`),
  );
  out.push('  (TIME_WAIT / FIN_WAIT_2 as targets are inferred: the kernel shows → CLOSE when a mini-socket takes over)');
  out.push('');
  out.push(c.bold('Time in state (left)'));
  const dwellRows = Object.entries(s.dwell).map(([state, d]) => [...distRow(state, d), DWELL_NOTES[state as TcpState] ?? '']);
  out.push(
    ...renderTable(
      [{ header: 'State' }, { header: 'N', align: 'right' }, { header: 'p50', align: 'right' }, { header: 'p90', align: 'right' }, { header: 'p99', align: 'right' }, { header: 'max', align: 'right' }, { header: '' }],
      dwellRows,
    ).map((l) => `  ${l}`),
  );
  out.push('');
  const lt = s.lifetimes;
  out.push(c.bold('Connection lifetimes (first state to end of the full socket)'));
  out.push(
    `  ${lt.count} ended: TIME_WAIT ${lt.byOutcome.TIME_WAIT}, FIN_WAIT_2 ${lt.byOutcome.FIN_WAIT_2}, reset ${lt.byOutcome.reset}, closed ${lt.byOutcome.closed}` +
      (lt.count > 0 ? `; p50 ${dwell(lt.p50Ms)}, p90 ${dwell(lt.p90Ms)}, p99 ${dwell(lt.p99Ms)}, max ${dwell(lt.maxMs)}` : ''),
  );
  if (lt.longest.length > 0) {
    out.push(
      ...renderTable(
        [{ header: 'Local' }, { header: 'Remote' }, { header: 'Lifetime', align: 'right' }, { header: 'End' }],
        lt.longest.map((l) => [l.local, l.remote, dwell(l.lifetimeMs), l.outcome]),
      ).map((l) => `  ${l}`),
    );
  }
  out.push('');
  out.push(c.bold('Top talkers (new connections by peer)'));
  if (s.topTalkers.length === 0) out.push('  none');
  else {
    out.push(
      ...renderTable(
        [{ header: 'Peer' }, { header: 'Connections', align: 'right' }, { header: '/s', align: 'right' }],
        s.topTalkers.map((t) => [t.peer, `${t.approximate ? '≈' : ''}${t.connections}`, t.perSecond.toFixed(2)]),
      ).map((l) => `  ${l}`),
    );
  }
  if (s.lost > 0) {
    out.push('');
    out.push(c.yellow(`WARNING: the kernel overwrote ${s.lost} events before they were read; counts above are low (try --buffer-kb)`));
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('trace')
    .description('every TCP state change the kernel makes, live, from tracefs tracepoints (needs root)')
    .argument('[filter...]', "ss filter (ports go to the kernel's event filter), e.g. dport = :443")
    .option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--summary', 'print a summary (matrix, dwell times, lifetimes, top talkers) instead of each event')
    .option('--interval <seconds>', 'with --summary: print it every N seconds as well')
    .option('--json', 'one JSON document at the end')
    .option('--ndjson', 'one JSON record per event, streamed')
    .option('--buffer-kb <n>', 'per-CPU trace buffer size, KiB (default 8192)')
    .addHelpText(
      'after',
      '\nRecord (--ndjson): { time, family, local, remote, from, to, inStateMs, event } with event\n' +
        'transition | rst-sent | rst-received. TIME_WAIT (and FIN_WAIT_2 mini-sockets) are inferred: the kernel\n' +
        'shows "→ CLOSE" when a mini-socket replaces the full socket.\n' +
        'Exit codes: 0 done (also after Ctrl-C), 1 failure, 2 usage error, 4 not root, 5 no tracefs/tracepoints.',
    )
    .action(async (words: string[], flags: TraceFlags) => {
      const duration = positive('--duration', flags.duration);
      const interval = positive('--interval', flags.interval);
      const bufferKb = flags.bufferKb === undefined ? undefined : Number(flags.bufferKb);
      if (bufferKb !== undefined && (!Number.isInteger(bufferKb) || bufferKb < 64)) {
        throw new BadOptionError('--buffer-kb', flags.bufferKb ?? '', 'an integer number of KiB, 64 or more');
      }
      if (flags.json === true && flags.ndjson === true) throw new BadOptionError('--json/--ndjson', 'both', 'one of them');
      const filter = words.length > 0 ? parseFilter(words) : null;

      const ac = new AbortController();
      const onSignal = (): void => ac.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const timer = duration !== undefined ? setTimeout(() => ac.abort(), duration * 1000) : null;
      const c = colours();
      const err = colours(process.stderr);
      const started = performance.now();
      const summary = flags.summary === true ? new SummaryAggregator() : null;
      const collected: object[] = [];
      let stream: TraceStream | null = null;
      let intervalTimer: NodeJS.Timeout | null = null;
      try {
        stream = traceTransitions({
          filter,
          signal: ac.signal,
          ...(bufferKb !== undefined ? { bufferKb } : {}),
          onStart: (info) => {
            for (const s of info.staleRemoved) process.stderr.write(`tcpstate trace: removed stale trace instance ${s} of a dead run\n`);
            if (flags.json !== true && flags.ndjson !== true) {
              process.stderr.write(err.dim(`tracing TCP transitions (instance ${info.instance}, kernel filter: ${info.kernelFilter.setState}); Ctrl-C ends\n`));
              if (summary === null) process.stdout.write(c.bold(HEADER) + '\n');
            }
            if (summary !== null && interval !== undefined) {
              intervalTimer = setInterval(() => {
                const s = summary.snapshot((performance.now() - started) / 1000, stream?.stats().lost ?? 0);
                if (flags.json === true || flags.ndjson === true) process.stdout.write(JSON.stringify({ interim: true, ...s }) + '\n');
                else process.stdout.write(renderSummary(s, c).join('\n') + '\n\n');
              }, interval * 1000);
            }
          },
        });
        // One write per batch of events (a read of the trace pipe), not one per event.
        for await (const batch of stream.batches()) {
          if (summary !== null) {
            for (const e of batch) summary.add(e);
          } else if (flags.json === true) {
            for (const e of batch) collected.push(transitionJson(e));
          } else {
            let text = '';
            if (flags.ndjson === true) for (const e of batch) text += JSON.stringify(transitionJson(e)) + '\n';
            else for (const e of batch) text += formatEventLine(e, c) + '\n';
            process.stdout.write(text);
          }
        }
      } catch (e) {
        if (e instanceof TraceError && (e.code === 'E_TRACE_PRIVILEGE' || e.code === 'E_TRACE_UNAVAILABLE')) {
          process.stderr.write(`tcpstate trace: ${e.message}\n`);
          process.exit(e.code === 'E_TRACE_PRIVILEGE' ? EXIT_TRACE_NO_PRIVILEGE : EXIT_TRACE_UNAVAILABLE);
        }
        throw e;
      } finally {
        if (timer !== null) clearTimeout(timer);
        if (intervalTimer !== null) clearInterval(intervalTimer);
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
      const stats = stream.stats();
      const seconds = (performance.now() - started) / 1000;
      if (summary !== null) {
        const s = summary.snapshot(seconds, stats.lost);
        if (flags.json === true || flags.ndjson === true) printJson(s);
        else process.stdout.write(renderSummary(s, c).join('\n') + '\n');
      } else if (flags.json === true) {
        printJson(collected);
      }
      if (stats.lost > 0) process.stderr.write(err.yellow(`tcpstate trace: WARNING: ${stats.lost} events lost (the reader fell behind; try --buffer-kb)\n`));
      else if (summary === null && flags.json !== true && flags.ndjson !== true) process.stderr.write(err.dim(`${stats.yielded} events, 0 lost\n`));
    });
}
