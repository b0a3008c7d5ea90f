/** Runs the capture pipeline on bytes in memory: records by id, counters, and any format error. */
import { CaptureAnalyzer, type CaptureCounters } from '../../src/capture/analyzer.js';
import type { Connection, ConnectionRecord } from '../../src/capture/connection.js';
import { CaptureReader } from '../../src/capture/reader.js';
import { CaptureFormatError } from '../../src/wire/pcap.js';
import { exchange, LINK, pcapFile, ipPacket, type CraftedPacket, type Step } from './craft.js';

export interface Analysis {
  records: ConnectionRecord[];
  conns: Connection[];
  counters: CaptureCounters;
  error: CaptureFormatError | null;
}

export function analyze(bytes: Uint8Array, options: { chunk?: number; idle?: number; logConnection?: number } = {}): Analysis {
  const recs: ConnectionRecord[] = [];
  const conns: Connection[] = [];
  const analyzer = new CaptureAnalyzer({
    timeline: true,
    onConnection: (r, c) => {
      recs.push(r);
      if (c !== null) conns.push(c);
    },
    ...(options.idle !== undefined ? { idleTimeoutSec: options.idle } : {}),
    ...(options.logConnection !== undefined ? { logConnection: options.logConnection } : {}),
  });
  const reader = new CaptureReader((p) => analyzer.packet(p));
  let error: CaptureFormatError | null = null;
  try {
    const step = options.chunk ?? bytes.length;
    for (let i = 0; i < bytes.length; i += step) reader.push(bytes.subarray(i, Math.min(bytes.length, i + step)));
    reader.finish();
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    error = e;
  }
  analyzer.end();
  recs.sort((a, b) => a.id - b.id);
  return { records: recs, conns, counters: analyzer.counters, error };
}

/** A raw-IP pcap of the packets. */
export function rawPcap(packets: readonly CraftedPacket[]): Uint8Array {
  return pcapFile({ little: true, nanos: false, linkType: LINK.RAW }, packets);
}

export { ipPacket };

/** Many connections over 200 s: clean closes (TIME_WAIT ends or not before the capture does), resets, port reuse. */
/**
 * A connection's steps, initial sequence numbers `a` (client) and `b` (server): the
 * handshake, a request of 100 octets, a response of `response`, and the client closes first.
 */
export function closedExchange(a: number, b: number, response = 900): Step[] {
  return [
    ['>', 'S', a, 0],
    ['<', 'S.', b, a + 1],
    ['>', '.', a + 1, b + 1],
    ['>', 'P.', a + 1, b + 1, 100],
    ['<', 'P.', b + 1, a + 101, response],
    ['>', 'F.', a + 101, b + 1 + response],
    ['<', 'F.', b + 1 + response, a + 102],
    ['>', '.', a + 102, b + 2 + response],
  ];
}

/** The handshake, then the server resets the connection. */
export function resetExchange(a: number, b: number): Step[] {
  return [
    ['>', 'S', a, 0],
    ['<', 'S.', b, a + 1],
    ['>', '.', a + 1, b + 1],
    ['<', 'R.', b + 1, a + 1],
  ];
}

export function manyConnections(): Uint8Array {
  const packets = [];
  for (let i = 0; i < 400; i++) {
    const a = 1000 + i * 100_000;
    const b = 5000 + i * 300_000;
    const close: Step[] = [
      ['>', 'S', a, 0, 0, 0.001, { mss: 1460, wscale: 7 }],
      ['<', 'S.', b, a + 1, 0, 0.002, { wscale: 7 }],
      ['>', '.', a + 1, b + 1],
      ['>', 'P.', a + 1, b + 1, 100],
      ['<', 'P.', b + 1, a + 101, 900],
      ['>', 'F.', a + 101, b + 901],
      ['<', 'F.', b + 901, a + 102],
      ['>', '.', a + 102, b + 902],
    ];
    const reset = resetExchange(a, b);
    const t0 = 1_700_000_000 + i * 0.5;
    // 30 distinct 4-tuples: each is used again 15 s later, while its last connection is in TIME_WAIT.
    const client: [string, number] = [`10.0.0.${1 + (i % 10)}`, 20000 + (i % 3)];
    packets.push(...exchange(client, ['10.9.0.1', 443], i % 9 === 0 ? reset : close, t0));
  }
  packets.sort((x, y) => x.t - y.t);
  return rawPcap(packets);
}
