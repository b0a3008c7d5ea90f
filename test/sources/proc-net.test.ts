/**
 * The /proc/net/tcp{,6} source: the shared live suite (common.case.ts), then its file
 * handling against files written here (no root needed).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SocketRecord } from '../../src/records/socket.js';
import { openProcNet } from '../../src/sources/proc-net.js';
import { ProcParseError } from '../../src/wire/proc-net-tcp.js';
import { defineSourceSuite } from './common.case.js';

defineSourceSuite('proc');

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const HEADER6 = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const line4 = (sl: number, port: number, st: string): string =>
  `${String(sl).padStart(4)}: 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000     0        0 ${1000 + sl} 1 0000000000000000 100 0 0 10 0\n`;
const LINE6 =
  '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0\n';

const dirs: string[] = [];
function root(files: Readonly<Record<string, string>>): string {
  const d = mkdtempSync(join(tmpdir(), 'tcpstate-procnet-'));
  dirs.push(d);
  mkdirSync(join(d, 'net'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, 'net', name), text);
  return join(d, 'net');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ALL = { families: ['ipv4', 'ipv6'] as const, stateMask: 0x1ffe, info: false };
const dumpAll = (src: ReturnType<typeof openProcNet>, q: Parameters<typeof src.dump>[0] = ALL): SocketRecord[] => {
  const out: SocketRecord[] = [];
  src.dump(q, (r) => out.push(r));
  return out;
};

describe('proc source on files', () => {
  it('reads tcp then tcp6 under the root, applying the state mask and ignoring bytecode', () => {
    const src = openProcNet(root({ tcp: HEADER + line4(0, 22, '0A') + line4(1, 5000, '01'), tcp6: HEADER6 + LINE6 }));
    expect(dumpAll(src).map((r) => `${r.family} ${r.state} ${r.local.address} ${r.local.port} ${r.inode}`)).toEqual([
      'ipv4 LISTEN 127.0.0.1 22 1000',
      'ipv4 ESTABLISHED 127.0.0.1 5000 1001',
      'ipv6 LISTEN ::1 8080 77',
    ]);
    const listeners = dumpAll(src, { families: ['ipv4', 'ipv6'], stateMask: 1 << 10, info: true, bytecode: Uint8Array.from([1, 4, 8, 0]) });
    expect(listeners.map((r) => r.local.port)).toEqual([22, 8080]);
    expect(listeners.every((r) => r.info === null)).toBe(true);
  });

  it('treats a missing tcp6 as no IPv6 sockets (IPv6 disabled) but a missing tcp as an error', () => {
    expect(dumpAll(openProcNet(root({ tcp: HEADER + line4(0, 22, '0A') }))).length).toBe(1);
    const r = root({});
    expect(() => dumpAll(openProcNet(r))).toThrow(`${join(r, 'tcp')} does not exist`);
  });

  it('delivers the good lines, then throws ProcParseError naming file, line and column', () => {
    const bad = '   1: 0100007F:0016 00000000:0000 0A 00000000:0000000Z 00:00000000 00000000     0        0 1 1\n';
    const r = root({ tcp: HEADER + line4(0, 22, '0A') + bad + line4(2, 23, '0A') });
    const seen: number[] = [];
    let err: unknown = null;
    try {
      openProcNet(r).dump(ALL, (rec) => seen.push(rec.local.port));
    } catch (e) {
      err = e;
    }
    expect(seen).toEqual([22, 23]);
    expect(err).toBeInstanceOf(ProcParseError);
    expect((err as ProcParseError).message).toContain(`${join(r, 'tcp')}:3:${bad.indexOf('Z') + 1}: expected a hex digit in rx_queue`);
  });

  it('hands malformed lines to onMalformed instead of throwing when given one', () => {
    const r = root({ tcp: HEADER + '   0: garbage\n' + line4(1, 22, '0A') });
    const issues: string[] = [];
    const src = openProcNet(r, { onMalformed: (file, i) => issues.push(`${file}:${i.line}:${i.column}`) });
    expect(dumpAll(src).length).toBe(1);
    expect(issues).toEqual([`${join(r, 'tcp')}:2:7`]);
  });

  it('reads files larger than its first buffer (20,000 lines)', () => {
    let text = HEADER;
    for (let i = 0; i < 20_000; i++) text += line4(i, 1024 + i, i % 2 === 0 ? '01' : '06');
    expect(text.length).toBeGreaterThan(1024 * 1024);
    const recs = dumpAll(openProcNet(root({ tcp: text })));
    expect(recs.length).toBe(20_000);
    expect(recs[19_999]?.local.port).toBe(1024 + 19_999);
    expect(recs.filter((r) => r.state === 'TIME_WAIT').length).toBe(10_000);
  });

  it('reads another process’s namespace through /proc/PID/net (here: our own listener)', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const recs = dumpAll(openProcNet(`/proc/${process.pid}/net`), { families: ['ipv4'], stateMask: 1 << 10, info: false });
      expect(recs.some((r) => r.local.port === port && r.local.address === '127.0.0.1' && r.inode > 0)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('refuses to dump after close()', () => {
    const src = openProcNet(root({ tcp: HEADER }));
    src.close();
    expect(() => dumpAll(src)).toThrow(/after close/);
  });
});
