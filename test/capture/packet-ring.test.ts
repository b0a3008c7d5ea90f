/**
 * The packet ring (src/capture/packet-ring.ts): every field of what the decoder hands its
 * sink comes out of the ring as it went in, IPv4 and IPv6, ticks without a segment, and
 * the end; and the pipeline, whose ring is smaller than a big capture, gives the lines
 * of one thread when the ring has wrapped many times.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DecodedSegment } from '../../src/capture/decoder.js';
import { newPacketRing, PacketRingReader, PacketRingWriter } from '../../src/capture/packet-ring.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { CLI } from '../cli/run-cli.js';
import { exchange, type CraftedPacket } from './craft.js';
import { closedExchange, rawPcap } from './helpers.js';
import { Recorder } from './recorder.js';

function segment(fields: Partial<Omit<DecodedSegment, 'src' | 'dst'>>, src: number[], dst: number[]): DecodedSegment {
  const s = Object.assign(new DecodedSegment(), fields);
  s.src.set(src);
  s.dst.set(dst);
  return s;
}

describe('packet ring', () => {
  it('replays ticks and segments with every field as written', () => {
    const memory = newPacketRing(1024);
    const writer = new PacketRingWriter(memory);
    const direct = new Recorder();
    const inputs: [number, DecodedSegment | null][] = [
      [1_700_000_000.123456, segment({ family: 'ipv4', sp: 40000, dp: 443, flags: 0x02, seq: 4294967295, ack: 0, win: 65535, len: 0, wscale: 7, wireLen: 74, ipLen: 60, time: 1_700_000_000.123456, truncated: false }, [0xc0a80001, 0, 0, 0], [0x0a000002, 0, 0, 0])],
      [1_700_000_000.5, null], // not TCP: a tick only
      [1_700_000_001.000001, segment({ family: 'ipv6', sp: 65535, dp: 1, flags: 0x3f, seq: 1, ack: 2 ** 31, win: 0, len: 65000, wscale: -1, wireLen: 1514, ipLen: 1500, time: 1_700_000_001.000001, truncated: true }, [0x20010db8, 0, 0xffffffff, 1], [0xfe800000, 0, 0, 0x12345678])],
    ];
    for (const [time, s] of inputs) {
      writer.tick(time);
      direct.tick(time);
      if (s !== null) {
        writer.segment(s);
        direct.segment(s);
      }
    }
    writer.finish();
    const replayed = new Recorder();
    let packets = 0;
    new PacketRingReader(memory).run(replayed, new DecodedSegment(), () => packets++, () => undefined);
    expect(packets).toBe(3);
    expect(replayed.seen).toEqual(direct.seen);
  });

  it("an IPv6 segment's two slots split by the end of the ring", () => {
    const memory = newPacketRing(1024);
    // Both sides start at the last slot: the first segment's second slot is slot 0.
    const header = new Int32Array(memory.header);
    header[0] = 1023;
    header[1] = 1023;
    const writer = new PacketRingWriter(memory);
    const direct = new Recorder();
    const v6 = (n: number): DecodedSegment =>
      segment({ family: 'ipv6', sp: 1000 + n, dp: 443, flags: 0x18, seq: n, ack: n + 1, win: 512, len: n, wscale: -1, wireLen: 100 + n, ipLen: 86 + n, time: n, truncated: false }, [0x20010db8, n, 2 * n, 3 * n], [0xfe800000, 5 * n, 6 * n, 7 * n]);
    // 400 packets, every other one an IPv6 segment: 600 slots, from slot 1,023 on round to slot 598.
    for (let n = 1; n <= 400; n++) {
      writer.tick(n);
      direct.tick(n);
      if (n % 2 === 1) {
        writer.segment(v6(n));
        direct.segment(v6(n));
      }
    }
    writer.finish();
    const replayed = new Recorder();
    new PacketRingReader(memory).run(replayed, new DecodedSegment(), () => undefined, () => undefined);
    expect(replayed.seen).toEqual(direct.seen);
    expect(replayed.seen[1]).toEqual(['segment', expect.objectContaining({ src: [0x20010db8, 1, 2, 3], dst: [0xfe800000, 5, 6, 7] })]);
  });

  describe('in the pipeline', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tcpstate-ring-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('a capture of 200,000 packets, a third IPv6 (the ring holds 65,536 slots): the lines of one thread', () => {
      const packets: CraftedPacket[] = [];
      for (let i = 0; i < 25_000; i++) {
        const a = (i * 7919) >>> 0;
        const b = (i * 104729) >>> 0;
        // Every third connection IPv6: its segments take two slots, which the wrapping ring splits at its end now and then.
        const v6 = i % 3 === 2;
        const client: [string, number] = [v6 ? `fd00::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1024 + (i % 60000)];
        packets.push(
          ...exchange(client, [v6 ? 'fd00::1' : '192.168.1.1', 80], closedExchange(a, b, 500), 1_700_000_000 + i * 0.004),
        );
      }
      packets.sort((x, y) => x.t - y.t);
      const file = join(tmp, 'big.pcap');
      writeFileSync(file, rawPcap(packets));
      // About 25 MB of lines each: compared by digest and line count.
      const run = (threads: string): { code: number | null; stderr: string; lines: number; ipv6: number; digest: string } => {
        const r = spawnSync(process.execPath, [CLI, 'capture', file, '--ndjson', '--threads', threads], { timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
        if (r.error) throw r.error;
        const out = r.stdout;
        let lines = 0;
        for (const b of out) if (b === 10) lines++;
        const ipv6 = out.toString('latin1').split('"address":"fd00::1"').length - 1;
        return { code: r.status, stderr: r.stderr.toString(), lines, ipv6, digest: createHash('sha256').update(out).digest('hex') };
      };
      const one = run('1');
      expect(one.code).toBe(0);
      expect(one.lines).toBe(25_000);
      expect(one.ipv6).toBe(8_333);
      const two = run('2');
      expect(two.stderr).toBe('');
      expect(two).toEqual(one);
    });
  });
});
