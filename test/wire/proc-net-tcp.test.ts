/**
 * /proc/net/tcp{,6} parsing: lines in the kernel's exact format (seq_printf of
 * get_tcp4_sock / get_timewait4_sock / get_tcp6_sock), malformed lines, and the real files
 * captured with the netlink fixture (test/fixtures/sock-diag/README.md).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Family, SocketRecord } from '../../src/records/socket.js';
import { parseProcNetTcp, ProcParseError, USER_HZ, type ProcLineIssue } from '../../src/wire/proc-net-tcp.js';
import { parseSs, ssKey } from '../sources/common.case.js';

const HEADER4 =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n';
const HEADER6 =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

function parse(
  text: string,
  family: Family = 'ipv4',
  mask = 0x1ffe,
  le?: boolean,
): { recs: SocketRecord[]; issues: ProcLineIssue[] } {
  const bytes = Buffer.from(text, 'latin1');
  const recs: SocketRecord[] = [];
  const issues = parseProcNetTcp(bytes, bytes.length, family, mask, (r) => recs.push(r), le);
  return { recs, issues };
}

const LISTEN = '   0: 0100007F:1B5B 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 219500 3 000000002b423230 100 0 0 10 0\n';
const ESTAB = '   1: 0100007F:1B59 0100007F:AB52 01 000002BC:000003E8 00:00000000 00000000 65534        0 219506 1 00000000ace591cf 20 4 32 10 -1\n';
const TIMEWAIT = '   2: 0100007F:803C 0100007F:1B5D 06 00000000:00000000 03:000016BA 00000000     0        0 0 3 00000000872d05d7\n';
const SYNSENT = '   3: 0100007F:DA76 0100007F:1B5B 02 00000001:00000000 01:00000015 00000001 65534        0 219519 2 000000002093e1e2 100 0 0 1 -1\n';
const KEEPALIVE = '   4: 0A000001:0016 0A000002:C350 01 00000000:00000000 02:0006DDD0 00000000  1000        2 5555 1 0000000000000000 20 4 30 10 -1\n';
const PERSIST = '   5: 0A000001:0016 0A000002:C351 01 00001000:00000000 04:00000032 00000000  1000        5 5556 1 0000000000000000 20 4 30 10 -1\n';

describe('parseProcNetTcp (IPv4)', () => {
  it('reads a listener: accept queue in rx_queue, tx_queue 0 (the kernel prints no backlog here)', () => {
    const { recs, issues } = parse(HEADER4 + LISTEN);
    expect(issues).toEqual([]);
    expect(recs).toEqual([
      {
        state: 'LISTEN',
        linuxState: 10,
        family: 'ipv4',
        local: { address: '127.0.0.1', port: 7003 },
        remote: { address: '0.0.0.0', port: 0 },
        recvQueue: 2,
        sendQueue: 0,
        uid: 0,
        inode: 219500,
        timer: null,
        netns: null,
        process: null,
        info: null,
      },
    ]);
  });

  it('reads queues, uid and inode of an established socket', () => {
    const r = parse(HEADER4 + ESTAB).recs[0];
    expect(r).toMatchObject({
      state: 'ESTABLISHED',
      local: { address: '127.0.0.1', port: 7001 },
      remote: { address: '127.0.0.1', port: 43858 },
      sendQueue: 700,
      recvQueue: 1000,
      uid: 65534,
      inode: 219506,
    });
  });

  it('converts tm->when from clock_t (USER_HZ = 100) to ms and maps tr like idiag_timer', () => {
    expect(USER_HZ).toBe(100);
    const { recs } = parse(HEADER4 + TIMEWAIT + SYNSENT + KEEPALIVE + PERSIST);
    expect(recs.map((r) => [r.state, r.timer])).toEqual([
      ['TIME_WAIT', { kind: 'timewait', expiresMs: 58_180, retransmits: 0 }],
      ['SYN_SENT', { kind: 'on', expiresMs: 210, retransmits: 1 }],
      // keepalive and persist count probes (the `timeout` column), as inet_diag does
      ['ESTABLISHED', { kind: 'keepalive', expiresMs: 4_500_000, retransmits: 2 }],
      ['ESTABLISHED', { kind: 'persist', expiresMs: 500, retransmits: 5 }],
    ]);
    expect(recs[0]).toMatchObject({ uid: 0, inode: 0 });
  });

  it('applies the state mask', () => {
    const all = HEADER4 + LISTEN + ESTAB + TIMEWAIT + SYNSENT;
    expect(parse(all, 'ipv4', 1 << 6).recs.map((r) => r.state)).toEqual(['TIME_WAIT']);
    expect(parse(all, 'ipv4', (1 << 10) | (1 << 1)).recs.map((r) => r.state)).toEqual(['LISTEN', 'ESTABLISHED']);
    expect(parse(all, 'ipv4', 0).recs).toEqual([]);
  });

  it('reads words written by a big-endian host when told so', () => {
    const line = '   0: 7F000001:1F90 0A000002:0050 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0\n';
    const r = parse(HEADER4 + line, 'ipv4', 0x1ffe, false).recs[0];
    expect(r?.local).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(r?.remote).toEqual({ address: '10.0.0.2', port: 80 });
  });

  it('accepts an empty table and blank lines', () => {
    expect(parse(HEADER4)).toEqual({ recs: [], issues: [] });
    expect(parse('')).toEqual({ recs: [], issues: [] });
    expect(parse(HEADER4 + '\n' + LISTEN + '\n\n').recs).toHaveLength(1);
  });
});

describe('parseProcNetTcp (IPv6)', () => {
  it('reads the four host-order words of each address', () => {
    const lines = [
      '   0: B80D0120000000000000010001000000:1B5C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 219503 1 00000000ab2d0151 100 0 0 10 0',
      '   1: 00000000000000000000000001000000:B2B2 00000000000000000000000001000000:1B5A 01 00000000:00000000 00:00000000 00000000 65534        0 219507 1 00000000685a2f02 20 0 0 10 -1',
      '   2: 0000000000000000FFFF00000100007F:1B5A 0000000000000000FFFF00000100007F:9862 01 00000000:00000000 00:00000000 00000000 65534        0 219510 1 00000000120edc46 20 0 0 10 -1',
      '   3: 000080FE00000000FF0000020300FEFF:0016 000080FE000000000000000000000000:0001 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0',
    ];
    const { recs, issues } = parse(HEADER6 + lines.join('\n') + '\n', 'ipv6');
    expect(issues).toEqual([]);
    expect(recs.map((r) => `${r.local.address} ${r.local.port} ${r.remote.address} ${r.remote.port}`)).toEqual([
      '2001:db8::1:0:0:1 7004 :: 0',
      '::1 45746 ::1 7002',
      '::ffff:127.0.0.1 7002 ::ffff:127.0.0.1 39010',
      'fe80::200:ff:fffe:3 22 fe80:: 1',
    ]);
    expect(recs.every((r) => r.family === 'ipv6')).toBe(true);
  });
});

describe('parseProcNetTcp: malformed lines', () => {
  it('skips a bad line, names its line and column, and keeps the good ones', () => {
    const bad = '   1: 0100007F:1B59 0100007F:AB52 01 0000G2BC:000003E8 00:00000000 00000000 65534        0 219506 1 0 20 4 32 10 -1\n';
    const { recs, issues } = parse(HEADER4 + LISTEN + bad + TIMEWAIT);
    expect(recs.map((r) => r.state)).toEqual(['LISTEN', 'TIME_WAIT']);
    expect(issues).toEqual([{ line: 3, column: bad.indexOf('G') + 1, message: 'expected a hex digit in tx_queue' }]);
  });

  it('reports a line cut short, an unknown state and an unknown timer', () => {
    const cut = '   1: 0100007F:1B59 0100007F:AB52 01 00000000:00000000\n';
    const st = '   2: 0100007F:1B59 0100007F:AB52 1F 00000000:00000000 00:00000000 00000000 0 0 1\n';
    const tr = '   3: 0100007F:1B59 0100007F:AB52 01 00000000:00000000 07:00000000 00000000 0 0 1\n';
    const { recs, issues } = parse(HEADER4 + cut + st + tr + ESTAB);
    expect(recs).toHaveLength(1);
    expect(issues).toEqual([
      { line: 2, column: cut.length, message: 'expected tr:tm->when' },
      { line: 3, column: st.indexOf('1F') + 1, message: 'unknown state number 31' },
      { line: 4, column: tr.indexOf(' 07:') + 2, message: 'unknown timer kind 7' },
    ]);
  });

  it('reports an IPv4 line in the IPv6 file at the address', () => {
    const { issues } = parse(HEADER6 + LISTEN, 'ipv6');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 2, column: LISTEN.indexOf('0100007F') + 9 });
  });

  it('ProcParseError names file, line and column of the first issue', () => {
    const e = new ProcParseError('/proc/net/tcp', [
      { line: 7, column: 12, message: 'expected a hex digit in tx_queue' },
      { line: 9, column: 1, message: 'x' },
    ]);
    expect(e.code).toBe('E_PROC_PARSE');
    expect(e.message).toMatch(/\/proc\/net\/tcp:7:12: expected a hex digit in tx_queue \(and 1 more malformed line\(s\)\)/);
  });
});

describe('the real files captured with the netlink fixture', () => {
  const read = (n: string): string => readFileSync(new URL(`../fixtures/sock-diag/${n}`, import.meta.url), 'latin1');
  const v4 = parse(read('proc-net-tcp.txt'), 'ipv4');
  const v6 = parse(read('proc-net-tcp6.txt'), 'ipv6');
  const ss = parseSs(readFileSync(new URL('../fixtures/sock-diag/ss-tanHei.txt', import.meta.url), 'utf8'));

  it('parse without issues into the sockets ss printed, with its queues, uid and inode', () => {
    expect([...v4.issues, ...v6.issues]).toEqual([]);
    const recs = [...v4.recs, ...v6.recs];
    expect(recs.map(ssKey).sort()).toEqual(ss.map((s) => s.key).sort());
    const byKey = new Map(ss.map((s) => [s.key, s]));
    for (const r of recs) {
      const s = byKey.get(ssKey(r));
      expect([r.recvQueue, r.sendQueue, r.uid, r.inode, r.timer?.kind ?? null], ssKey(r)).toEqual([
        s?.recvQ,
        r.state === 'LISTEN' ? 0 : s?.sendQ,
        s?.uid,
        s?.ino,
        s?.timer?.kind ?? null,
      ]);
    }
  });
});
