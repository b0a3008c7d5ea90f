/** Evidence tables shared by the rules that look at one state's details. */
import { n } from '../../format/number.js';
import type { StateDetail } from '../observe.js';
import type { EvidenceTable } from '../types.js';

export function timerTable(d: StateDetail): EvidenceTable {
  const rows = Object.entries(d.timers)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [k, n(v)]);
  rows.push(['most retransmissions / probes', n(d.maxRetransmits)]);
  return { title: 'timers', columns: ['timer', 'sockets'], rows };
}

export function peerTable(d: StateDetail, state: string): EvidenceTable {
  return {
    title: 'top peers',
    columns: ['peer', state],
    rows: d.peers.top(5).map((e) => [e.key, `${e.error > 0 ? '≈' : ''}${n(e.count)}`]),
  };
}
