/** Runs the capture pipeline on bytes in memory: records by id, counters, and any format error. */
import { CaptureAnalyzer, type CaptureCounters } from '../../src/capture/analyzer.js';
import type { Connection, ConnectionRecord } from '../../src/capture/connection.js';
import { CaptureReader } from '../../src/capture/reader.js';
import { CaptureFormatError } from '../../src/wire/pcap.js';
import { LINK, pcapFile, ipPacket, type CraftedPacket } from './craft.js';

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
