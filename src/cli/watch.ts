/**
 * `tcpstate watch [FILTER]`: a refreshing full-screen view of the state counts, the
 * change since the last refresh and a short history per state. Quits on q or Ctrl-C and
 * restores the terminal. When stdout is not a TTY it prints one plain line per refresh.
 */
import type { Command } from 'commander';
import { n } from '../format/number.js';
import { BadOptionError } from '../core/errors.js';
import { TCP_STATES, type TcpState } from '../core/states.js';
import { parseFilter, type Filter } from '../filter/index.js';
import { SummaryAggregator } from '../analysis/summary.js';
import { streamSnapshot, type SnapshotOptions } from '../live/snapshot.js';
import { colours } from './output.js';
import { addSnapshotOptions, baseSnapshotOptions, printNotices, type SnapshotFlags } from './snapshot-options.js';

interface WatchFlags extends SnapshotFlags {
  readonly interval?: string;
  readonly count?: string;
}

const HISTORY = 30;
const SPARKS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[]): string {
  const max = Math.max(...values, 1);
  const min = Math.min(...values);
  const span = max - min;
  return values.map((v) => (v === 0 ? ' ' : SPARKS[span === 0 ? 3 : Math.round(((v - min) / span) * 7)] ?? '█')).join('');
}

function countOnce(options: SnapshotOptions): { states: Record<TcpState, number>; total: number; ms: number; notices: readonly string[] } {
  const agg = new SummaryAggregator();
  const report = streamSnapshot(options, (r) => agg.add(r));
  const s = agg.result(0);
  return { states: s.states, total: s.total, ms: report.ms, notices: report.notices };
}

function positive(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new BadOptionError(name, text, 'a positive number');
  return v;
}

export function register(program: Command): void {
  const cmd = program
    .command('watch')
    .description('refreshing view of the state counts with changes and history (q to quit)')
    .argument('[filter...]', 'optional ss filter expression')
    .option('-n, --interval <seconds>', 'seconds between refreshes', '1')
    .option('-c, --count <n>', 'stop after n refreshes');
  addSnapshotOptions(cmd).action(async (words: string[], flags: WatchFlags) => {
    const intervalMs = positive(flags.interval, '--interval', 1) * 1000;
    const count = flags.count === undefined ? Infinity : Math.floor(positive(flags.count, '--count', 1));
    const filter: Filter | null = words.length > 0 ? parseFilter(words) : null;
    const options: SnapshotOptions = { ...baseSnapshotOptions(flags), filter };
    const tty = process.stdout.isTTY === true;
    const history = new Map<TcpState, number[]>(TCP_STATES.map((s) => [s, []]));
    let previous: Record<TcpState, number> | null = null;
    let stop = false;
    let wake: (() => void) | null = null;
    const quit = (): void => {
      stop = true;
      wake?.();
    };

    const restore = (): void => {
      if (tty) process.stdout.write('\u001b[?25h\u001b[?1049l');
      if (process.stdin.isTTY === true) {
        process.stdin.setRawMode(false);
        process.stdin.pause();
      }
    };
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
    if (tty) process.stdout.write('\u001b[?1049h\u001b[?25l');
    if (process.stdin.isTTY === true) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on('data', (b: Buffer) => {
        const k = b.toString();
        if (k === 'q' || k === 'Q' || k === '\u0003') quit();
      });
    }
    const c = colours();
    try {
      for (let i = 0; i < count && !stop; i++) {
        const snap = countOnce(options);
        if (i === 0) printNotices(snap.notices);
        for (const s of TCP_STATES) {
          const h = history.get(s) ?? [];
          h.push(snap.states[s]);
          if (h.length > HISTORY) h.shift();
        }
        const time = new Date().toISOString().slice(11, 19);
        if (tty) {
          const lines = [
            c.bold(`tcpstate watch  ${time}  total ${n(snap.total)}`) +
              c.dim(`  every ${intervalMs / 1000}s, scan ${snap.ms.toFixed(1)} ms${filter ? `, filter: ${filter.source}` : ''}  (q to quit)`),
            '',
            c.dim(`  ${'state'.padEnd(13)} ${'count'.padStart(9)} ${'change'.padStart(8)}  history`),
          ];
          for (const s of TCP_STATES) {
            const v = snap.states[s];
            const d = previous === null ? 0 : v - previous[s];
            const delta = d === 0 ? '' : d > 0 ? c.red(`+${d}`) : c.green(String(d));
            const deltaW = d === 0 ? 0 : String(d > 0 ? `+${d}` : d).length;
            lines.push(
              `  ${s.padEnd(13)} ${n(v).padStart(9)} ${' '.repeat(Math.max(0, 8 - deltaW))}${delta}  ${c.cyan(sparkline(history.get(s) ?? []))}`,
            );
          }
          process.stdout.write('\u001b[H\u001b[2J' + lines.join('\n') + '\n');
        } else {
          const parts = TCP_STATES.map((s) => {
            const d = previous === null ? 0 : snap.states[s] - previous[s];
            return `${s}=${snap.states[s]}${d === 0 ? '' : `(${d > 0 ? '+' : ''}${d})`}`;
          });
          process.stdout.write(`${time} total=${snap.total} ${parts.join(' ')}\n`);
        }
        previous = snap.states;
        if (i + 1 < count && !stop) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, intervalMs);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          wake = null;
        }
      }
    } finally {
      restore();
      process.removeListener('SIGINT', quit);
      process.removeListener('SIGTERM', quit);
    }
  });
}
