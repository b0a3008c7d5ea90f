/**
 * close-wait-leak: CLOSE_WAIT sockets that stay or grow. The peer has closed; only the
 * application here can leave CLOSE_WAIT, by calling close(). No kernel timer ends it.
 *
 * With `--sample`, growth is the increase between the two snapshots (in all and per
 * owning process), and sockets whose inode is in CLOSE_WAIT in both are at least that
 * many seconds old: a healthy application closes within milliseconds.
 *
 * Limitations: processes are found through /proc/PID/fd, which needs root for other
 * users' processes; a socket shared by several processes is credited to the lowest pid.
 */
import { n } from '../../format/number.js';
import type { ProcessCount } from '../observe.js';
import { byLevels, worst, type Rule } from '../types.js';

export const closeWaitLeak: Rule<'close-wait-leak'> = {
  id: 'close-wait-leak',
  check({ now, before, seconds }, t, texts) {
    const count = now.states.CLOSE_WAIT;
    const growth = before === null ? null : count - before.states.CLOSE_WAIT;
    let persisted: number | null = null;
    if (before !== null) {
      persisted = 0;
      for (const inode of now.closeWaitInodes) if (before.closeWaitInodes.has(inode)) persisted++;
    }
    const procs: (ProcessCount & { growth: number | null })[] = [];
    if (now.closeWaitByProcess !== null) {
      for (const p of now.closeWaitByProcess.values()) {
        const prev = before?.closeWaitByProcess?.get(p.pid);
        const g = before === null || before.closeWaitByProcess === null ? null : p.count - (prev?.count ?? 0);
        procs.push({ ...p, growth: g });
      }
    }
    procs.sort((a, b) => (b.growth ?? 0) - (a.growth ?? 0) || b.count - a.count || a.pid - b.pid);
    const maxProcGrowth = procs.reduce((m, p) => Math.max(m, p.growth ?? 0), 0);
    const grew = growth !== null && Math.max(growth, maxProcGrowth) >= t.growthWarning && t.growthWarning > 0;
    const severity = worst(byLevels(count, t), grew ? 'warning' : null);
    if (severity === null || count === 0) return null;
    const top = procs[0] ?? null;

    const counts: (string | number)[][] = [['CLOSE_WAIT', n(count)]];
    if (growth !== null) counts.push([`change over ${seconds} s`, `${growth >= 0 ? '+' : ''}${n(growth)}`]);
    if (persisted !== null) counts.push([`in CLOSE_WAIT at both looks (≥ ${seconds} s old)`, n(persisted)]);
    if (now.closeWaitByProcess !== null) counts.push(['not attributed to a process', n(now.closeWaitUnattributed)]);
    const ports = [...now.closeWaitByPort.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 5);
    const peers = now.detail.CLOSE_WAIT?.peers.top(5) ?? [];
    return {
      rule: 'close-wait-leak',
      severity,
      title: texts.title.closeWait({
        count,
        growth,
        seconds,
        owner: top === null ? null : { command: top.command, pid: top.pid, count: top.count },
      }),
      evidence: {
        facts: {
          closeWait: count,
          growth,
          persisted,
          sampledSeconds: before === null ? null : seconds,
          topPid: top?.pid ?? null,
          topCommand: top?.command ?? null,
          unattributed: now.closeWaitByProcess === null ? null : now.closeWaitUnattributed,
        },
        tables: [
          { title: 'CLOSE_WAIT', columns: ['measure', 'value'], rows: counts },
          {
            title: 'per process',
            columns: before === null ? ['pid', 'command', 'CLOSE_WAIT'] : ['pid', 'command', 'CLOSE_WAIT', `growth in ${seconds} s`],
            rows: procs
              .slice(0, 10)
              .map((p) => (before === null ? [p.pid, p.command, n(p.count)] : [p.pid, p.command, n(p.count), p.growth === null ? '?' : `${p.growth >= 0 ? '+' : ''}${n(p.growth)}`])),
          },
          { title: 'local ports', columns: ['local port', 'CLOSE_WAIT'], rows: ports.map(([p, c]) => [p, n(c)]) },
          { title: 'peers', columns: ['peer', 'CLOSE_WAIT'], rows: peers.map((e) => [e.key, n(e.count)]) },
        ].filter((tb) => tb.rows.length > 0),
      },
      advice: texts.advice['close-wait-leak'],
    };
  },
};
