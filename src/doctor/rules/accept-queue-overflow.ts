/**
 * accept-queue-overflow: a listener's accept queue (completed connections the
 * application has not accept()ed, the listener's Recv-Q) near or at its capacity, or
 * ListenOverflows / ListenDrops rising. Linux lets the queue hold backlog + 1
 * connections (the backlog is the listener's Send-Q: min(listen() backlog, somaxconn));
 * when it is full, the final ACK of a handshake is dropped and counted.
 *
 * Limitations: the /proc source cannot see the backlog (reports 0), so the fill check
 * needs sock-diag; counters since boot only raise `info`.
 */
import { n, pct } from '../../format/number.js';
import { counterDelta } from '../readings.js';
import { worst, type Rule, type Severity } from '../types.js';

export const acceptQueueOverflow: Rule<'accept-queue-overflow'> = {
  id: 'accept-queue-overflow',
  check({ now, before, seconds }, t, texts) {
    const listeners = now.listeners
      .filter((l) => l.backlog > 0 && l.queue > 0)
      .map((l) => ({ ...l, fill: l.queue / (l.backlog + 1) }))
      .sort((a, b) => b.fill - a.fill || b.queue - a.queue);
    const hot = listeners.filter((l) => l.fill >= t.fillWarning);
    const top = hot[0] ?? null;
    const overflows = now.counters.tcpExt['ListenOverflows'] ?? 0;
    const drops = now.counters.tcpExt['ListenDrops'] ?? 0;
    const overflowDelta = counterDelta(before?.counters ?? null, now.counters, 'ListenOverflows');
    const dropDelta = counterDelta(before?.counters ?? null, now.counters, 'ListenDrops');
    const rising = Math.max(overflowDelta ?? 0, dropDelta ?? 0);
    const severity: Severity | null = worst(
      top !== null && top.fill >= 1 && rising > 0 ? 'critical' : null,
      top !== null ? 'warning' : null,
      t.deltaWarning > 0 && rising >= t.deltaWarning ? 'warning' : null,
      overflows > 0 || drops > 0 ? 'info' : null,
    );
    if (severity === null) return null;
    const addr = (l: { address: string; port: number }): string => (l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`);
    const title =
      top !== null
        ? texts.title.acceptQueue({ listener: addr(top), queue: top.queue, capacity: top.backlog + 1, overflows: overflowDelta, seconds })
        : rising > 0
          ? texts.title.listenOverflows({ overflows: overflowDelta ?? 0, drops: dropDelta ?? 0, seconds })
          : texts.title.listenOverflowsSinceBoot({ overflows, drops });
    return {
      rule: 'accept-queue-overflow',
      severity,
      title,
      evidence: {
        facts: {
          listener: top === null ? null : addr(top),
          queue: top?.queue ?? null,
          backlog: top?.backlog ?? null,
          listenOverflows: overflows,
          listenDrops: drops,
          listenOverflowsDelta: overflowDelta,
          listenDropsDelta: dropDelta,
          somaxconn: now.sysctls['net.core.somaxconn'] ?? null,
        },
        tables: [
          {
            title: 'accept queues',
            columns: ['listener', 'Recv-Q (queue)', 'Send-Q (backlog)', 'fill'],
            rows: listeners.slice(0, 5).map((l) => [addr(l), n(l.queue), n(l.backlog), pct(l.fill)]),
          },
          {
            title: 'counters',
            columns: ['name', 'value'],
            rows: [
              ['ListenOverflows since boot', n(overflows) + (overflowDelta === null ? '' : ` (+${n(overflowDelta)} in ${seconds} s)`)],
              ['ListenDrops since boot', n(drops) + (dropDelta === null ? '' : ` (+${n(dropDelta)} in ${seconds} s)`)],
              ['net.core.somaxconn', now.sysctls['net.core.somaxconn'] ?? '?'],
            ],
          },
        ].filter((tb) => tb.rows.length > 0),
      },
      advice: texts.advice['accept-queue-overflow'],
    };
  },
};
