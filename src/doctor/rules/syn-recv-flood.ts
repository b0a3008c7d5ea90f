/**
 * syn-recv-flood: many half-open handshakes (SYN_RECEIVED request sockets) from many
 * source addresses, a listener's SYN queue full, or SYN cookies and SYN-queue drops
 * rising. The SYN queue of a listener holds at most its backlog (the kernel's
 * sk_max_ack_backlog, shown as the listener's Send-Q); beyond it the kernel answers with
 * SYN cookies (tcp_syncookies=1) or drops the SYN.
 *
 * Limitations: SYN cookies leave no socket behind, so during a flood the table shows at
 * most the queue; the counters tell the rest. Counters since boot only raise `info`.
 */
import { n } from '../../format/number.js';
import { counterDelta } from '../readings.js';
import { byLevels, worst, type Rule, type Severity } from '../types.js';

const COUNTERS = ['SyncookiesSent', 'SyncookiesRecv', 'SyncookiesFailed', 'TCPReqQFullDoCookies', 'TCPReqQFullDrop'] as const;

export const synRecvFlood: Rule<'syn-recv-flood'> = {
  id: 'syn-recv-flood',
  check({ now, before, seconds }, t, texts) {
    const count = now.states.SYN_RECEIVED;
    const sources = now.synRecvSources.size;
    const backlogOf = new Map<number, number>();
    for (const l of now.listeners) backlogOf.set(l.port, Math.max(backlogOf.get(l.port) ?? 0, l.backlog));
    const listeners = [...now.synRecvByPort.entries()]
      .map(([port, c]) => ({ port, count: c, backlog: backlogOf.get(port) ?? null }))
      .sort((a, b) => b.count - a.count || a.port - b.port);
    const full = listeners.find((l) => l.backlog !== null && l.backlog > 0 && l.count >= l.backlog) ?? null;
    const cookiesDelta = counterDelta(before?.counters ?? null, now.counters, 'SyncookiesSent');
    const dropDelta = counterDelta(before?.counters ?? null, now.counters, 'TCPReqQFullDrop');
    const cookiesSinceBoot = now.counters.tcpExt['SyncookiesSent'] ?? 0;
    const manySources = sources >= t.minSources;
    const severity: Severity | null = worst(
      dropDelta !== null && dropDelta > 0 ? 'critical' : null,
      manySources ? byLevels(count, { warning: t.warning, critical: t.critical }) : null,
      full !== null ? 'warning' : null,
      cookiesDelta !== null && cookiesDelta > 0 ? 'warning' : null,
      count >= t.info && count > 0 ? 'info' : null,
      cookiesSinceBoot > 0 ? 'info' : null,
    );
    if (severity === null) return null;
    const title =
      count > 0 && (count >= t.info || full !== null)
        ? texts.title.synRecv({ count, sources, fullPort: full?.port ?? null, backlog: full?.backlog ?? null })
        : cookiesDelta !== null && cookiesDelta > 0
          ? texts.title.synCookies({ count: cookiesDelta, seconds })
          : texts.title.synCookiesSinceBoot({ count: cookiesSinceBoot });
    const counterRows = COUNTERS.map((k) => {
      const d = counterDelta(before?.counters ?? null, now.counters, k);
      return [k, n(now.counters.tcpExt[k] ?? 0), d === null ? '' : `+${n(d)}`];
    });
    return {
      rule: 'syn-recv-flood',
      severity,
      title,
      evidence: {
        facts: {
          synReceived: count,
          sources,
          fullListenerPort: full?.port ?? null,
          syncookiesSentSinceBoot: cookiesSinceBoot,
          syncookiesSentDelta: cookiesDelta,
          reqQFullDropDelta: dropDelta,
          tcpSyncookies: now.sysctls['net.ipv4.tcp_syncookies'] ?? null,
        },
        tables: [
          {
            title: 'SYN queues',
            columns: ['local port', 'SYN_RECEIVED', 'backlog', 'full'],
            rows: listeners.slice(0, 5).map((l) => [l.port, n(l.count), l.backlog === null ? '?' : n(l.backlog), l.backlog !== null && l.backlog > 0 && l.count >= l.backlog ? 'yes' : 'no']),
          },
          {
            title: `sources (${n(sources)} distinct)`,
            columns: ['source', 'SYN_RECEIVED'],
            rows: (now.detail.SYN_RECEIVED?.peers.top(5) ?? []).map((e) => [e.key, `${e.error > 0 ? '≈' : ''}${n(e.count)}`]),
          },
          { title: 'counters', columns: ['TcpExt', 'since boot', before === null ? '' : `in ${seconds} s`], rows: counterRows },
          {
            title: 'sysctl',
            columns: ['name', 'value'],
            rows: (['net.ipv4.tcp_syncookies', 'net.ipv4.tcp_max_syn_backlog', 'net.ipv4.tcp_synack_retries', 'net.core.somaxconn'] as const).map((k) => [k, now.sysctls[k] ?? '?']),
          },
        ].filter((tb) => tb.rows.length > 0),
      },
      advice: texts.advice['syn-recv-flood'],
    };
  },
};
