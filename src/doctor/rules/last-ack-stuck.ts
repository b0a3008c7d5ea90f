/**
 * last-ack-stuck: LAST_ACK sockets piling up. We received the peer's FIN, closed, sent
 * our FIN, and the peer never acknowledges it: it vanished (crashed, rebooted, a
 * middlebox dropped the flow). The FIN is retransmitted until tcp_orphan_retries
 * (orphans) or tcp_retries2 give up.
 *
 * Limitations: a burst of closes on a slow path shows LAST_ACK briefly; the retransmission
 * count tells stuck sockets from passing ones.
 */
import { n } from '../../format/number.js';
import { byLevels, type Rule } from '../types.js';
import { peerTable, timerTable } from './detail-tables.js';

export const lastAckStuck: Rule<'last-ack-stuck'> = {
  id: 'last-ack-stuck',
  check({ now }, t, texts) {
    const d = now.detail.LAST_ACK;
    if (d === undefined) return null;
    const severity = byLevels(d.count, t);
    if (severity === null) return null;
    const peers = d.peers.top(5);
    return {
      rule: 'last-ack-stuck',
      severity,
      title: texts.title.lastAck({ count: d.count, peers: peers.length, topPeer: peers[0]?.key ?? null }),
      evidence: {
        facts: { lastAck: d.count, orphans: d.orphans, maxRetransmits: d.maxRetransmits, topPeer: peers[0]?.key ?? null },
        tables: [
          {
            title: 'LAST_ACK',
            columns: ['measure', 'value'],
            rows: [
              ['LAST_ACK', n(d.count)],
              ['orphans (closed by the application)', n(d.orphans)],
              ['net.ipv4.tcp_orphan_retries', now.sysctls['net.ipv4.tcp_orphan_retries'] ?? '?'],
            ],
          },
          timerTable(d),
          peerTable(d, 'LAST_ACK'),
        ],
      },
      advice: texts.advice['last-ack-stuck'],
    };
  },
};
