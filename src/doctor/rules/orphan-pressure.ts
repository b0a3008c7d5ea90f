/**
 * orphan-pressure: sockets closed by their applications but still alive in the kernel
 * (orphans: FIN_WAIT_1, FIN_WAIT_2, CLOSING, LAST_ACK without a file) near
 * net.ipv4.tcp_max_orphans, TCP memory at the pressure or hard limit of net.ipv4.tcp_mem,
 * or TCPAbortOnMemory rising. Beyond the limits the kernel resets orphans at once
 * ("too many orphaned sockets", "out of memory -- consider tuning tcp_mem").
 *
 * Limitations: /proc/net/sockstat's orphan count and tcp_mem are global to the kernel,
 * not per namespace; TCPAbortOnMemory since boot only raises `info`.
 */
import { n, pct } from '../../format/number.js';
import { counterDelta, sysctlNumber } from '../readings.js';
import { worst, type Rule, type Severity } from '../types.js';

const ORPHAN_STATES = ['FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSING', 'LAST_ACK'] as const;

export const orphanPressure: Rule<'orphan-pressure'> = {
  id: 'orphan-pressure',
  check({ now, before, seconds }, t, texts) {
    const orphans = now.counters.sockstat?.orphan ?? null;
    const max = sysctlNumber(now.sysctls['net.ipv4.tcp_max_orphans']);
    const share = orphans !== null && max !== null && max > 0 ? orphans / max : null;
    const memPages = now.counters.sockstat?.memPages ?? null;
    const mem = now.tcpMem;
    const abortsSinceBoot = now.counters.tcpExt['TCPAbortOnMemory'] ?? 0;
    const abortDelta = counterDelta(before?.counters ?? null, now.counters, 'TCPAbortOnMemory');
    const severity: Severity | null = worst(
      share !== null && share >= t.critical ? 'critical' : null,
      memPages !== null && mem !== null && mem[2] > 0 && memPages >= mem[2] ? 'critical' : null,
      share !== null && share >= t.warning ? 'warning' : null,
      memPages !== null && mem !== null && mem[1] > 0 && memPages >= mem[1] ? 'warning' : null,
      abortDelta !== null && t.abortOnMemoryWarning > 0 && abortDelta >= t.abortOnMemoryWarning ? 'warning' : null,
      abortsSinceBoot > 0 ? 'info' : null,
    );
    if (severity === null) return null;
    const title =
      share !== null && share >= t.warning
        ? texts.title.orphans({ orphans: orphans ?? 0, max: max ?? 0, pct: pct(share) })
        : memPages !== null && mem !== null && mem[1] > 0 && memPages >= mem[1]
          ? texts.title.tcpMemory({ pages: memPages, pressure: mem[1], max: mem[2] })
          : abortDelta !== null && abortDelta > 0
            ? texts.title.abortOnMemory({ count: abortDelta, seconds })
            : texts.title.abortOnMemorySinceBoot({ count: abortsSinceBoot });
    const byState = ORPHAN_STATES.map((s) => [s, n(now.detail[s]?.orphans ?? 0)]);
    return {
      rule: 'orphan-pressure',
      severity,
      title,
      evidence: {
        facts: {
          orphans,
          maxOrphans: max,
          memoryPages: memPages,
          tcpMemPressure: mem?.[1] ?? null,
          tcpMemMax: mem?.[2] ?? null,
          abortOnMemorySinceBoot: abortsSinceBoot,
          abortOnMemoryDelta: abortDelta,
        },
        tables: [
          {
            title: 'orphans and memory',
            columns: ['measure', 'value'],
            rows: [
              ['orphans (sockstat)', orphans === null ? '?' : n(orphans)],
              ['net.ipv4.tcp_max_orphans', max === null ? '?' : `${n(max)}${share === null ? '' : ` (${pct(share)} used)`}`],
              ['TCP memory (pages)', memPages === null ? '?' : n(memPages)],
              ['net.ipv4.tcp_mem (min pressure max)', mem === null ? '?' : mem.map(n).join(' ')],
              ['TCPAbortOnMemory since boot', n(abortsSinceBoot) + (abortDelta === null ? '' : ` (+${n(abortDelta)} in ${seconds} s)`)],
            ],
          },
          { title: 'orphans in this snapshot', columns: ['state', 'orphans'], rows: byState },
        ],
      },
      advice: texts.advice['orphan-pressure'],
    };
  },
};
