/**
 * fin-wait-1-stuck: FIN_WAIT_1 sockets whose FIN cannot leave because data is still
 * queued ahead of it (Send-Q > 0) or the peer advertises a zero window (persist timer,
 * zero-window probes). The classic cause: the peer stopped reading.
 *
 * Linux bounds an orphaned FIN_WAIT_1 with tcp_orphan_retries (0 means 8) and kills
 * orphans beyond tcp_max_orphans; a FIN_WAIT_1 whose application still holds the file
 * (shutdown(SHUT_WR)) waits for the peer as long as tcp_retries2 allows.
 *
 * Limitations: Send-Q counts the FIN's sequence number, so only Send-Q > 1 means data is
 * waiting ahead of the FIN; a slow link shows Send-Q briefly without a problem, which is
 * why one such socket is only `info`.
 */
import { bytes, n } from '../../format/number.js';
import { byLevels, type Rule } from '../types.js';
import { peerTable, timerTable } from './detail-tables.js';

export const finWait1Stuck: Rule<'fin-wait-1-stuck'> = {
  id: 'fin-wait-1-stuck',
  check({ now }, t, texts) {
    const d = now.detail.FIN_WAIT_1;
    if (d === undefined) return null;
    // Stuck: data ahead of the FIN, or zero-window probing (persist timer).
    const stuck = d.queued;
    const severity = byLevels(stuck, t);
    if (severity === null) return null;
    return {
      rule: 'fin-wait-1-stuck',
      severity,
      title: texts.title.finWait1({ stuck, total: d.count, queued: bytes(d.sendQueueBytes) }),
      evidence: {
        facts: {
          finWait1: d.count,
          stuck,
          sendQueueBytes: d.sendQueueBytes,
          orphans: d.orphans,
          persistTimers: d.timers['persist'] ?? 0,
          maxRetransmits: d.maxRetransmits,
        },
        tables: [
          {
            title: 'FIN_WAIT_1',
            columns: ['measure', 'value'],
            rows: [
              ['FIN_WAIT_1', n(d.count)],
              ['with data queued or probing a zero window', n(stuck)],
              ['Send-Q in all', bytes(d.sendQueueBytes)],
              ['orphans (closed by the application)', n(d.orphans)],
              ['net.ipv4.tcp_orphan_retries', now.sysctls['net.ipv4.tcp_orphan_retries'] ?? '?'],
              ['net.ipv4.tcp_max_orphans', now.sysctls['net.ipv4.tcp_max_orphans'] ?? '?'],
            ],
          },
          timerTable(d),
          peerTable(d, 'FIN_WAIT_1'),
        ],
      },
      advice: texts.advice['fin-wait-1-stuck'],
    };
  },
};

