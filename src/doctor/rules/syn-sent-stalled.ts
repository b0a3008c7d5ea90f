/**
 * syn-sent-stalled: connection attempts piling up towards one destination, or SYNs being
 * retransmitted. A SYN_SENT that retransmits is getting no answer: the peer is down, a
 * firewall drops the SYN silently, or the route is wrong (a RST would end it at once).
 * Linux gives up after net.ipv4.tcp_syn_retries (6: about 127 s).
 *
 * Limitations: a burst of connects to a distant host shows SYN_SENT briefly without
 * retransmissions; those only count towards the per-destination levels.
 */
import { n } from '../../format/number.js';
import { byLevels, worst, type Rule } from '../types.js';

export const synSentStalled: Rule<'syn-sent-stalled'> = {
  id: 'syn-sent-stalled',
  check({ now }, t, texts) {
    if (now.synSentByDest.size === 0) return null;
    const dests = [...now.synSentByDest.entries()]
      .map(([dest, v]) => ({ dest, ...v }))
      .sort((a, b) => b.count - a.count || b.maxRetransmits - a.maxRetransmits || a.dest.localeCompare(b.dest));
    const top = dests[0];
    if (top === undefined) return null;
    const retrying = dests.filter((d) => d.maxRetransmits >= t.retransmitsInfo && t.retransmitsInfo > 0);
    const severity = worst(byLevels(top.count, t), retrying.length > 0 ? 'info' : null);
    if (severity === null) return null;
    const lead = top.count >= t.info || retrying.length === 0 ? top : (retrying[0] ?? top);
    return {
      rule: 'syn-sent-stalled',
      severity,
      title: texts.title.synSent({ destination: lead.dest, count: lead.count, retransmits: lead.maxRetransmits }),
      evidence: {
        facts: { synSent: now.states.SYN_SENT, destination: lead.dest, count: lead.count, maxRetransmits: lead.maxRetransmits, destinations: dests.length },
        tables: [
          {
            title: 'destinations',
            columns: ['destination', 'SYN_SENT', 'most SYN retransmissions'],
            rows: dests.slice(0, 10).map((d) => [d.dest, n(d.count), n(d.maxRetransmits)]),
          },
          { title: 'sysctl', columns: ['name', 'value'], rows: [['net.ipv4.tcp_syn_retries', now.sysctls['net.ipv4.tcp_syn_retries'] ?? '?']] },
        ],
      },
      advice: texts.advice['syn-sent-stalled'],
    };
  },
};
