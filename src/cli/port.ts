/**
 * `tcpstate port PORT`: what is happening on one local port — connections by state,
 * remote addresses with their counts and states, and whether anything listens there.
 */
import type { Command } from 'commander';
import { n } from '../format/number.js';
import { BadOptionError } from '../core/errors.js';
import { TCP_STATES } from '../core/states.js';
import { parseFilter } from '../filter/index.js';
import { PortAggregator, type PortStats } from '../analysis/port-stats.js';
import { streamSnapshot } from '../live/snapshot.js';
import { colours, printJson } from './output.js';
import { addSnapshotOptions, baseSnapshotOptions, printNotices, type SnapshotFlags } from './snapshot-options.js';
import { renderTable } from './table.js';

interface PortFlags extends SnapshotFlags {
  readonly json?: boolean;
  readonly top?: string;
}

export function parsePort(text: string): number {
  const port = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BadOptionError('PORT', text, 'a port number 1-65535');
  return port;
}

export function portStats(port: number, flags: SnapshotFlags): { stats: PortStats; ms: number; notices: readonly string[]; source: string } {
  const agg = new PortAggregator(port);
  // The kernel runs the port match (inet_diag bytecode) so only this port's sockets travel.
  const filter = parseFilter(['sport', '=', `:${port}`]);
  const report = streamSnapshot({ ...baseSnapshotOptions(flags), filter }, (r) => agg.add(r));
  return { stats: agg.result(), ms: report.ms, notices: report.notices, source: report.source };
}

export function register(program: Command): void {
  const cmd = program
    .command('port')
    .description('connections on one local port: by state, by remote address, and whether it listens')
    .argument('<port>', 'local port number')
    .option('--top <n>', 'remote addresses to list', '10')
    .option('--json', 'print the statistics as JSON');
  addSnapshotOptions(cmd).action((portText: string, flags: PortFlags) => {
    const port = parsePort(portText);
    const top = Number(flags.top ?? '10');
    if (!Number.isInteger(top) || top < 0) throw new BadOptionError('--top', String(flags.top), 'a whole number');
    const { stats, ms, notices, source } = portStats(port, flags);
    printNotices(notices);
    if (flags.json === true) {
      printJson({ ...stats, ms: Math.round(ms * 10) / 10, source });
      return;
    }
    const c = colours();
    const lines: string[] = [];
    lines.push(
      c.bold(`port ${port}: ${n(stats.total)} connections`) +
        `, ${stats.listening ? c.green('listening') : c.yellow('nothing listens')}` +
        c.dim(`  (${source}, ${ms.toFixed(1)} ms)`),
    );
    const byState = TCP_STATES.filter((s) => stats.states[s] > 0).map((s) => `${s} ${n(stats.states[s])}`);
    if (byState.length > 0) lines.push(`  ${byState.join(', ')}`);
    if (stats.remotes.length > 0) {
      lines.push(`  ${n(stats.remotes.length)} remote addresses; top ${stats.topRemote?.address ?? ''} with ${n(stats.topRemote?.count ?? 0)}`);
      lines.push('');
      const rows = stats.remotes.slice(0, top).map((r) => [
        r.address,
        n(r.count),
        TCP_STATES.filter((s) => (r.states[s] ?? 0) > 0)
          .map((s) => `${s} ${n(r.states[s] ?? 0)}`)
          .join(', '),
      ]);
      lines.push(...renderTable([{ header: 'Remote address' }, { header: 'Count', align: 'right' }, { header: 'States' }], rows).map((l) => `  ${l}`));
      if (stats.remotes.length > top) lines.push(c.dim(`  … ${n(stats.remotes.length - top)} more (use --top or --json)`));
    }
    process.stdout.write(lines.join('\n') + '\n');
  });
}
