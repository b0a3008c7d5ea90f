/**
 * fin-wait-2-orphans: many FIN_WAIT_2 sockets. Our FIN was acknowledged; we wait for the
 * peer's. Two kinds: orphans (the application closed: no file, inode 0), which Linux
 * ends after net.ipv4.tcp_fin_timeout with a timer; and half-closed sockets
 * (shutdown(SHUT_WR), the application still holds the file), which have no timer and
 * wait for the peer as long as it takes.
 *
 * Limitations: an orphan's timer may show as `timewait` (the kernel reuses that timer);
 * orphan/half-closed is told by the inode, which the /proc source also reports.
 */
import { n } from '../../format/number.js';
import { byLevels, type Rule } from '../types.js';
import { peerTable, timerTable } from './detail-tables.js';

export const finWait2Orphans: Rule<'fin-wait-2-orphans'> = {
  id: 'fin-wait-2-orphans',
  check({ now }, t, texts) {
    const d = now.detail.FIN_WAIT_2;
    if (d === undefined) return null;
    const severity = byLevels(d.count, t);
    if (severity === null) return null;
    const halfClosed = d.count - d.orphans;
    return {
      rule: 'fin-wait-2-orphans',
      severity,
      title: texts.title.finWait2({ count: d.count, orphans: d.orphans, halfClosed }),
      evidence: {
        facts: { finWait2: d.count, orphans: d.orphans, halfClosed, finTimeout: now.sysctls['net.ipv4.tcp_fin_timeout'] ?? null },
        tables: [
          {
            title: 'FIN_WAIT_2',
            columns: ['measure', 'value'],
            rows: [
              ['FIN_WAIT_2', n(d.count)],
              ['orphans (closed, end after tcp_fin_timeout)', n(d.orphans)],
              ['half-closed by shutdown() (no timer, wait for the peer)', n(halfClosed)],
              ['net.ipv4.tcp_fin_timeout', `${now.sysctls['net.ipv4.tcp_fin_timeout'] ?? '?'} s`],
            ],
          },
          timerTable(d),
          peerTable(d, 'FIN_WAIT_2'),
        ],
      },
      advice: texts.advice['fin-wait-2-orphans'],
    };
  },
};
