/**
 * time-wait-pileup: many TIME_WAIT sockets, or a local port whose connections are mostly
 * in TIME_WAIT.
 *
 * TIME_WAIT lasts a fixed 60 s on Linux (TCP_TIMEWAIT_LEN), so the count divided by 60
 * estimates how many connections per second this host closes first. The side that
 * closes first is the one in TIME_WAIT: on a listening port it is a server here, on any
 * other local port a client here.
 *
 * Limitations: the churn estimate assumes a steady rate over the last minute; a RST ends
 * TIME_WAIT early and tcp_tw_reuse lets new connections take over old ones, both of
 * which make the estimate low.
 */
import { n, pct, rate } from '../../format/number.js';
import { counterDelta, sysctlNumber } from '../readings.js';
import { byLevels, worst, type Rule, type Severity } from '../types.js';

const TIME_WAIT_SECONDS = 60;

export const timeWaitPileup: Rule<'time-wait-pileup'> = {
  id: 'time-wait-pileup',
  check({ now, before, seconds }, t, texts) {
    const tw = now.states.TIME_WAIT;
    const maxTw = sysctlNumber(now.sysctls['net.ipv4.tcp_max_tw_buckets']);
    const bucketsShare = maxTw !== null && maxTw > 0 ? tw / maxTw : null;
    const overflowSinceBoot = now.counters.tcpExt['TCPTimeWaitOverflow'] ?? 0;
    const overflowDelta = counterDelta(before?.counters ?? null, now.counters, 'TCPTimeWaitOverflow');

    // Ports: the heaviest TIME_WAIT ports, and the worst share among ports with enough of them.
    const listening = new Set(now.listeners.map((l) => l.port));
    let serverClosed = 0;
    const ports: { port: number; tw: number; conns: number }[] = [];
    let shareHit: { port: number; tw: number; conns: number } | null = null;
    for (let port = 0; port < 65536; port++) {
      const c = now.timeWaitByPort[port] ?? 0;
      if (c === 0) continue;
      if (listening.has(port)) serverClosed += c;
      const conns = now.connsByPort[port] ?? 0;
      ports.push({ port, tw: c, conns });
      if (c >= t.portMin && conns > 0 && c / conns >= t.portShare && (shareHit === null || c > shareHit.tw)) shareHit = { port, tw: c, conns };
    }
    const clientClosed = tw - serverClosed;

    const severity: Severity | null = worst(
      bucketsShare !== null && bucketsShare >= t.bucketsCritical ? 'critical' : null,
      overflowDelta !== null && overflowDelta > 0 ? 'critical' : null,
      bucketsShare !== null && bucketsShare >= t.bucketsWarning ? 'warning' : null,
      byLevels(tw, { warning: t.warning, critical: Infinity }),
      shareHit !== null ? 'info' : null,
      overflowSinceBoot > 0 ? 'info' : null,
    );
    if (severity === null) return null;

    ports.sort((a, b) => b.tw - a.tw || a.port - b.port);
    const remotePorts: { port: number; tw: number }[] = [];
    for (let port = 0; port < 65536; port++) {
      const c = now.timeWaitByRemotePort[port] ?? 0;
      if (c > 0) remotePorts.push({ port, tw: c });
    }
    remotePorts.sort((a, b) => b.tw - a.tw || a.port - b.port);
    const opens = (o: typeof now | null): number | null =>
      o === null ? null : (o.counters.tcp['ActiveOpens'] ?? 0) + (o.counters.tcp['PassiveOpens'] ?? 0);
    const opensBefore = opens(before);
    const opensNow = opens(now);
    const connRate = opensBefore !== null && opensNow !== null && seconds > 0 ? Math.max(0, opensNow - opensBefore) / seconds : null;
    const twDelta = before === null ? null : tw - before.states.TIME_WAIT;
    const closedFirstPerSecond = tw / TIME_WAIT_SECONDS;
    const closer = tw === 0 ? 'none' : serverClosed >= 0.8 * tw ? 'server' : clientClosed >= 0.8 * tw ? 'client' : 'mixed';

    const title =
      tw >= t.warning || (bucketsShare !== null && bucketsShare >= t.bucketsWarning)
        ? texts.title.timeWaitMany({ count: tw, bucketsPct: bucketsShare === null ? null : pct(bucketsShare), closer })
        : overflowDelta !== null && overflowDelta > 0
          ? texts.title.timeWaitOverflow({ count: overflowDelta, seconds })
          : shareHit !== null
            ? texts.title.timeWaitPort({ port: shareHit.port, count: shareHit.tw, conns: shareHit.conns, closer })
            : texts.title.timeWaitOverflowSinceBoot({ count: overflowSinceBoot });

    const counts: (string | number)[][] = [
      ['TIME_WAIT', n(tw)],
      ['net.ipv4.tcp_max_tw_buckets', maxTw === null ? '?' : `${n(maxTw)}${bucketsShare === null ? '' : ` (${pct(bucketsShare)} used)`}`],
      ['closed first by a server here (listening port)', n(serverClosed)],
      ['closed first by a client here (other port)', n(clientClosed)],
      ['closed first per second (TIME_WAIT / 60 s)', rate(closedFirstPerSecond)],
    ];
    if (connRate !== null) counts.push([`new connections per second (Active+PassiveOpens over ${seconds} s)`, rate(connRate)]);
    if (twDelta !== null) counts.push([`TIME_WAIT change over ${seconds} s`, `${twDelta >= 0 ? '+' : ''}${n(twDelta)}`]);
    counts.push(['TCPTimeWaitOverflow since boot', n(overflowSinceBoot) + (overflowDelta === null ? '' : ` (+${n(overflowDelta)} in ${seconds} s)`)]);
    counts.push(['net.ipv4.tcp_tw_reuse', now.sysctls['net.ipv4.tcp_tw_reuse'] ?? '?']);

    return {
      rule: 'time-wait-pileup',
      severity,
      title,
      evidence: {
        facts: {
          timeWait: tw,
          maxTwBuckets: maxTw,
          closedFirstByServer: serverClosed,
          closedFirstByClient: clientClosed,
          closedFirstPerSecond: Math.round(closedFirstPerSecond * 10) / 10,
          newConnectionsPerSecond: connRate === null ? null : Math.round(connRate * 10) / 10,
          timeWaitDelta: twDelta,
          timeWaitOverflowSinceBoot: overflowSinceBoot,
          timeWaitOverflowDelta: overflowDelta,
          topPort: ports[0]?.port ?? null,
        },
        tables: [
          { title: 'TIME_WAIT', columns: ['measure', 'value'], rows: counts },
          {
            title: 'top local ports',
            columns: ['local port', 'TIME_WAIT', 'connections', 'share', 'listening'],
            rows: ports.slice(0, 5).map((p) => [p.port, n(p.tw), n(p.conns), pct(p.conns === 0 ? 0 : p.tw / p.conns), listening.has(p.port) ? 'yes' : 'no']),
          },
          { title: 'top remote ports', columns: ['remote port', 'TIME_WAIT'], rows: remotePorts.slice(0, 5).map((p) => [p.port, n(p.tw)]) },
          {
            title: 'top peers',
            columns: ['peer', 'TIME_WAIT'],
            rows: now.timeWaitPeers.top(5).map((e) => [e.key, `${e.error > 0 ? '≈' : ''}${n(e.count)}`]),
          },
        ].filter((tb) => tb.rows.length > 0),
      },
      advice: texts.advice['time-wait-pileup'],
    };
  },
};
