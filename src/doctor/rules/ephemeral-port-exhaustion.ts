/**
 * ephemeral-port-exhaustion: connections from one local address to one remote ip:port
 * use up the ephemeral range. A connection is identified by its 4-tuple, so the limit
 * applies per (local address, remote address, remote port): at most the size of
 * net.ipv4.ip_local_port_range such connections, TIME_WAIT included.
 *
 * Limitations: sockets bound explicitly to a port inside the range are counted as if
 * the kernel had picked the port; with tcp_tw_reuse a TIME_WAIT port can be taken over
 * for a new outgoing connection, so the range is less tight than the count suggests.
 */
import { n, pct } from '../../format/number.js';
import type { DestinationUse } from '../observe.js';
import type { Rule, Severity } from '../types.js';

export const ephemeralPortExhaustion: Rule<'ephemeral-port-exhaustion'> = {
  id: 'ephemeral-port-exhaustion',
  check({ now }, t, texts) {
    const range = now.portRange;
    if (range === null) return null;
    const size = range[1] - range[0] + 1;
    const hot: DestinationUse[] = [];
    for (const d of now.destinations.values()) if (d.count / size >= t.warning) hot.push(d);
    if (hot.length === 0) return null;
    hot.sort((a, b) => b.count - a.count);
    const top = hot[0] as DestinationUse;
    const share = top.count / size;
    const severity: Severity = share >= t.critical ? 'critical' : 'warning';
    const dest = (d: DestinationUse): string => (d.remote.includes(':') ? `[${d.remote}]:${d.remotePort}` : `${d.remote}:${d.remotePort}`);
    return {
      rule: 'ephemeral-port-exhaustion',
      severity,
      title: texts.title.ephemeral({ destination: dest(top), local: top.local, used: top.count, size, pct: pct(share) }),
      evidence: {
        facts: {
          destination: dest(top),
          localAddress: top.local,
          used: top.count,
          rangeLow: range[0],
          rangeHigh: range[1],
          rangeSize: size,
          destinationsOverWarning: hot.length,
        },
        tables: [
          {
            title: `per destination vs ip_local_port_range ${range[0]}-${range[1]} (${n(size)} ports)`,
            columns: ['local address', 'destination', 'sockets', 'share of range'],
            rows: hot.slice(0, 10).map((d) => [d.local, dest(d), n(d.count), pct(d.count / size)]),
          },
          { title: 'sysctl', columns: ['name', 'value'], rows: [['net.ipv4.tcp_tw_reuse', now.sysctls['net.ipv4.tcp_tw_reuse'] ?? '?']] },
        ],
      },
      advice: texts.advice['ephemeral-port-exhaustion'],
    };
  },
};
