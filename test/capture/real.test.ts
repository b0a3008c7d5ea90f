/**
 * Captures of real kernel traffic (test/fixtures/pcap/real-*, made by make-real.sh):
 * each scenario's end states and Zeek labels, and, on the same files, packet and byte
 * counts against `tshark -z conv,tcp`, tcp.completeness against tshark's (two-pass,
 * first packet of each stream), complete/reset counts against tcptrace.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ConnectionRecord } from '../../src/capture/connection.js';
import { runCli } from '../cli/run-cli.js';
import { need } from './tools.js';

const dir = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
const FILES = ['real-lo-ns.pcap', 'real-any.pcap', 'real-lo.pcapng'];

function records(file: string): ConnectionRecord[] {
  const r = runCli(['capture', dir + file, '--json']);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { connections: ConnectionRecord[] }).connections;
}

const EXPECTED: Record<number, { states: [string, string]; zeek: string; extra?: (r: ConnectionRecord) => void }> = {
  7001: { states: ['TIME_WAIT', 'CLOSED'], zeek: 'SF' },
  7002: { states: ['CLOSED', 'TIME_WAIT'], zeek: 'SF' },
  7004: { states: ['CLOSED', 'CLOSED'], zeek: 'REJ', extra: (r) => expect(r.anomalies.resets[0]?.by).toBe('resp') },
  7005: { states: ['CLOSED', 'CLOSED'], zeek: 'RSTO', extra: (r) => expect(r.anomalies.resets[0]).toMatchObject({ by: 'orig', state: 'ESTABLISHED' }) },
  7006: { states: ['CLOSED', 'CLOSED'], zeek: 'RSTR', extra: (r) => expect(r.anomalies.resets[0]).toMatchObject({ by: 'resp', state: 'ESTABLISHED' }) },
  7007: { states: ['TIME_WAIT', 'CLOSED'], zeek: 'SF', extra: (r) => expect(r.anomalies.halfClose).toBe(true) },
  7008: { states: ['CLOSED', 'CLOSED'], zeek: 'RSTR', extra: (r) => expect(r.bytes.orig).toBe(500) },
  7009: { states: ['CLOSED', 'TIME_WAIT'], zeek: 'SF', extra: (r) => expect(r.originator.port).toBe(45999) },
  7101: { states: ['TIME_WAIT', 'CLOSED'], zeek: 'SF', extra: (r) => expect(r.family).toBe('ipv6') },
  7201: { states: ['SYN_SENT', 'CLOSED'], zeek: 'S0', extra: (r) => expect(r.anomalies.unansweredSyn).toBe(true) },
};

describe.each(FILES)('%s', (file) => {
  const recs = records(file);

  it('every scenario ends in the states the kernel was in, with Zeek labels', () => {
    const ports = new Set(recs.map((r) => r.responder.port));
    for (const p of [7001, 7002, 7004, 7005, 7006, 7007, 7008, 7009, 7101]) expect(ports.has(p), `port ${p}`).toBe(true);
    for (const r of recs) {
      const want = EXPECTED[r.responder.port];
      expect(want, `unexpected connection to ${r.responder.port}`).toBeDefined();
      if (want === undefined) continue;
      expect([r.states.orig, r.states.resp], `port ${r.responder.port}`).toEqual(want.states);
      expect(r.zeek.connState, `port ${r.responder.port}`).toBe(want.zeek);
      want.extra?.(r);
    }
    expect(recs.filter((r) => r.responder.port === 7009)).toHaveLength(2); // port reuse
  });

  it('packets and bytes per connection equal tshark -z conv,tcp', (ctx) => {
    if (need('tshark') !== null) return ctx.skip();
    const t = spawnSync('tshark', ['-r', dir + file, '-q', '-z', 'conv,tcp'], { encoding: 'utf8', timeout: 60_000 });
    const rows = t.stdout.split('\n').filter((l) => l.includes('<->'));
    expect(rows).toHaveLength(recs.length);
    // "A:pa <-> B:pb  framesB→A bytesB→A  framesA→B bytesA→B ... relStart"
    const ours = recs.map((r) => ({ r, used: false }));
    for (const row of rows) {
      const m = /^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+(\d+) bytes\s+(\d+)\s+(\d+) bytes/.exec(row.replace(/ kB/g, '000 bytes'));
      expect(m, row).not.toBeNull();
      if (m === null) continue;
      const [, a, pa, b, pb, fBA, bBA, fAB, bAB] = m;
      const match = ours.find(({ r, used }) => !used && ((r.originator.port === Number(pa) && r.responder.port === Number(pb) && r.originator.address === a) || (r.originator.port === Number(pb) && r.responder.port === Number(pa) && r.originator.address === b)));
      expect(match, row).toBeDefined();
      if (match === undefined) continue;
      match.used = true;
      const aIsOrig = match.r.originator.port === Number(pa) && match.r.originator.address === a;
      const fromA = aIsOrig ? 'orig' : 'resp';
      const fromB = aIsOrig ? 'resp' : 'orig';
      expect(match.r.packets[fromA]).toBe(Number(fAB));
      expect(match.r.packets[fromB]).toBe(Number(fBA));
      expect(match.r.wireBytes[fromA]).toBe(Number(bAB));
      expect(match.r.wireBytes[fromB]).toBe(Number(bBA));
    }
  });

  it('completeness equals tshark tcp.completeness (two-pass, first packet of each stream)', (ctx) => {
    if (need('tshark') !== null) return ctx.skip();
    const t = spawnSync('tshark', ['-2', '-r', dir + file, '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.completeness'], { encoding: 'utf8', timeout: 60_000 });
    const first = new Map<number, number>();
    for (const line of t.stdout.trim().split('\n')) {
      const [s, c] = line.split('\t');
      if (!first.has(Number(s))) first.set(Number(s), Number(c));
    }
    expect(first.size).toBe(recs.length);
    // tshark numbers streams in order of their first packet, as our ids are.
    for (const r of recs) expect(r.completeness, `connection ${r.id}`).toBe(first.get(r.id - 1));
  });

  it('complete and reset connections agree with tcptrace', (ctx) => {
    // tcptrace reads pcap only, and knows no LINUX_SLL2 (what tcpdump -i any writes).
    if (file.endsWith('.pcapng') || file === 'real-any.pcap') return ctx.skip();
    if (need('tcptrace') !== null) return ctx.skip();
    const t = spawnSync('tcptrace', ['-n', dir + file], { encoding: 'utf8', timeout: 60_000 });
    const lines = t.stdout.split('\n').filter((l) => /^\s*\d+: /.test(l));
    expect(lines).toHaveLength(recs.length);
    const complete = lines.filter((l) => l.includes('(complete)')).length;
    const reset = lines.filter((l) => l.includes('(reset)')).length;
    const ourReset = recs.filter((r) => r.anomalies.resets.length > 0).length;
    const ourComplete = recs.filter((r) => r.anomalies.resets.length === 0 && r.zeek.connState === 'SF' && /S/.test(r.zeek.history) && /h/.test(r.zeek.history)).length;
    expect(ourReset).toBe(reset);
    expect(ourComplete).toBe(complete);
  });
});
