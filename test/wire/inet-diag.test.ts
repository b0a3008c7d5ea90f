/**
 * inet_diag request building and reply parsing, from byte fixtures built here (layouts of
 * include/uapi/linux/{netlink,inet_diag,tcp}.h) and from real replies captured in a
 * namespace (test/fixtures/sock-diag/README.md says how).
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SocketRecord } from '../../src/records/socket.js';
import {
  buildDiagRequest,
  decodeTcpInfo,
  DUMP_DONE,
  DUMP_MORE,
  INET_DIAG_MSG_LEN,
  ipv4Text,
  ipv6TextOf,
  NetlinkParseError,
  parseDiagReplies,
  timerKind,
} from '../../src/wire/inet-diag.js';
import { parseSs, ssKey } from '../sources/common.case.js';

// ---------------------------------------------------------------------------------------
// Fixture builders

function nlmsg(type: number, seq: number, payload: Uint8Array, flags = 2): Uint8Array {
  const len = 16 + payload.length;
  const out = new Uint8Array((len + 3) & ~3);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, 4242, true);
  out.set(payload, 16);
  return out;
}

function attr(type: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array((4 + data.length + 3) & ~3);
  const v = new DataView(out.buffer);
  v.setUint16(0, 4 + data.length, true);
  v.setUint16(2, type, true);
  out.set(data, 4);
  return out;
}

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

interface MsgSpec {
  family?: number;
  state: number;
  timer?: number;
  retrans?: number;
  sport: number;
  dport: number;
  src?: readonly number[];
  dst?: readonly number[];
  expires?: number;
  rqueue?: number;
  wqueue?: number;
  uid?: number;
  inode?: number;
  attrs?: readonly Uint8Array[];
}

function diagMsg(s: MsgSpec): Uint8Array {
  const body = new Uint8Array(INET_DIAG_MSG_LEN);
  const v = new DataView(body.buffer);
  v.setUint8(0, s.family ?? 2);
  v.setUint8(1, s.state);
  v.setUint8(2, s.timer ?? 0);
  v.setUint8(3, s.retrans ?? 0);
  v.setUint16(4, s.sport, false);
  v.setUint16(6, s.dport, false);
  body.set(s.src ?? [127, 0, 0, 1], 8);
  body.set(s.dst ?? [127, 0, 0, 1], 24);
  v.setUint32(40, 1, true); // idiag_if
  v.setUint32(44, 0xdeadbeef, true); // cookie
  v.setUint32(48, 0x1, true);
  v.setInt32(52, s.expires ?? 0, true);
  v.setUint32(56, s.rqueue ?? 0, true);
  v.setUint32(60, s.wqueue ?? 0, true);
  v.setUint32(64, s.uid ?? 0, true);
  v.setUint32(68, s.inode ?? 0, true);
  return concat(body, ...(s.attrs ?? []));
}

const SEQ = 77;
const done = (seq = SEQ, status = 0): Uint8Array => {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setInt32(0, status, true);
  return nlmsg(3, seq, p);
};
const errorMsg = (errno: number, seq = SEQ): Uint8Array => {
  const p = new Uint8Array(20);
  new DataView(p.buffer).setInt32(0, -errno, true);
  return nlmsg(2, seq, p);
};
const sockMsg = (s: MsgSpec, seq = SEQ): Uint8Array => nlmsg(20, seq, diagMsg(s));

function parseAll(bytes: Uint8Array, withInfo = false, seq = SEQ): { status: number; recs: SocketRecord[] } {
  const recs: SocketRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const status = parseDiagReplies(view, bytes.length, seq, withInfo, (r) => recs.push(r));
  return { status, recs };
}

function tcpInfo(len: number, fields: Readonly<Record<number, number | bigint>>, u8: Readonly<Record<number, number>> = {}): Uint8Array {
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  for (const [off, val] of Object.entries(fields)) {
    if (typeof val === 'bigint') v.setBigUint64(Number(off), val, true);
    else v.setUint32(Number(off), val, true);
  }
  for (const [off, val] of Object.entries(u8)) v.setUint8(Number(off), val);
  return b;
}

// ---------------------------------------------------------------------------------------

describe('buildDiagRequest', () => {
  it('lays out nlmsghdr + inet_diag_req_v2 for an IPv4 dump', () => {
    const b = buildDiagRequest({ family: 'ipv4', stateMask: 0x1ffe, info: false, seq: 0x01020304 });
    const v = new DataView(b.buffer);
    expect(b.length).toBe(72);
    expect(v.getUint32(0, true)).toBe(72); // nlmsg_len
    expect(v.getUint16(4, true)).toBe(20); // SOCK_DIAG_BY_FAMILY
    expect(v.getUint16(6, true)).toBe(0x301); // NLM_F_REQUEST | NLM_F_DUMP
    expect(v.getUint32(8, true)).toBe(0x01020304);
    expect(v.getUint32(12, true)).toBe(0);
    expect([b[16], b[17], b[18], b[19]]).toEqual([2, 6, 0, 0]); // AF_INET, IPPROTO_TCP, no ext
    expect(v.getUint32(20, true)).toBe(0x1ffe);
    expect(b.subarray(24).every((x) => x === 0)).toBe(true); // id: wildcard
  });

  it('asks for INET_DIAG_INFO with ext bit 1 << (2 - 1), and AF_INET6', () => {
    const b = buildDiagRequest({ family: 'ipv6', stateMask: 1 << 6, info: true, seq: 1 });
    expect([b[16], b[17], b[18]]).toEqual([10, 6, 2]);
    expect(new DataView(b.buffer).getUint32(20, true)).toBe(64);
  });

  it('appends bytecode as a padded INET_DIAG_REQ_BYTECODE attribute', () => {
    const bc = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const b = buildDiagRequest({ family: 'ipv4', stateMask: 2, info: false, seq: 1, bytecode: bc });
    const v = new DataView(b.buffer);
    expect(b.length).toBe(72 + 12);
    expect(v.getUint32(0, true)).toBe(84);
    expect(v.getUint16(72, true)).toBe(10); // rta_len: header + 6, unpadded
    expect(v.getUint16(74, true)).toBe(1); // INET_DIAG_REQ_BYTECODE
    expect([...b.subarray(76, 82)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...b.subarray(82)]).toEqual([0, 0]);
  });

  it('refuses bytecode too long for one attribute', () => {
    expect(() => buildDiagRequest({ family: 'ipv4', stateMask: 2, info: false, seq: 1, bytecode: new Uint8Array(70_000) })).toThrow(
      /too long/,
    );
  });
});

describe('parseDiagReplies: inet_diag_msg', () => {
  it('decodes an IPv4 ESTABLISHED socket (ports big-endian, queues, uid, inode)', () => {
    const { status, recs } = parseAll(
      concat(
        sockMsg({
          state: 1,
          sport: 0x1f90,
          dport: 0xc350,
          src: [10, 0, 0, 1],
          dst: [192, 168, 200, 254],
          rqueue: 5,
          wqueue: 700,
          uid: 1000,
          inode: 123456,
        }),
      ),
    );
    expect(status).toBe(DUMP_MORE);
    expect(recs).toEqual([
      {
        state: 'ESTABLISHED',
        linuxState: 1,
        family: 'ipv4',
        local: { address: '10.0.0.1', port: 8080 },
        remote: { address: '192.168.200.254', port: 50000 },
        recvQueue: 5,
        sendQueue: 700,
        uid: 1000,
        inode: 123456,
        timer: null,
        netns: null,
        process: null,
        info: null,
      },
    ]);
  });

  it('decodes IPv6 addresses, v4-mapped included', () => {
    const src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1];
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3];
    const { recs } = parseAll(sockMsg({ family: 10, state: 1, sport: 443, dport: 1, src, dst: mapped }));
    expect(recs[0]?.family).toBe('ipv6');
    expect(recs[0]?.local).toEqual({ address: '2001:db8::1:0:0:1', port: 443 });
    expect(recs[0]?.remote).toEqual({ address: '::ffff:10.1.2.3', port: 1 });
  });

  it('maps LISTEN queues: rqueue is the accept queue, wqueue the backlog', () => {
    const { recs } = parseAll(sockMsg({ state: 10, sport: 80, dport: 0, dst: [0, 0, 0, 0], rqueue: 3, wqueue: 4096 }));
    expect(recs[0]).toMatchObject({ state: 'LISTEN', recvQueue: 3, sendQueue: 4096, remote: { address: '0.0.0.0', port: 0 } });
  });

  it.each([
    [1, 'on'],
    [2, 'keepalive'],
    [3, 'timewait'],
    [4, 'persist'],
  ] as const)('maps idiag_timer %i to %s with expires in ms and the retransmission count', (n, kind) => {
    const { recs } = parseAll(sockMsg({ state: 1, sport: 1, dport: 2, timer: n, expires: 1234, retrans: 3 }));
    expect(recs[0]?.timer).toEqual({ kind, expiresMs: 1234, retransmits: 3 });
  });

  it('has no timer for idiag_timer 0 and for unknown kinds', () => {
    expect(parseAll(sockMsg({ state: 1, sport: 1, dport: 2, timer: 0, expires: 9 })).recs[0]?.timer).toBeNull();
    expect(timerKind(5)).toBeNull();
    expect(timerKind(0)).toBeNull();
  });

  it('reads an overdue expiry as negative', () => {
    const { recs } = parseAll(sockMsg({ state: 1, sport: 1, dport: 2, timer: 1, expires: -40 }));
    expect(recs[0]?.timer?.expiresMs).toBe(-40);
  });

  it('decodes a TIME_WAIT socket (uid 0, inode 0) and a request socket (12) as SYN_RECEIVED', () => {
    const { recs } = parseAll(
      concat(
        sockMsg({ state: 6, sport: 5000, dport: 80, timer: 3, expires: 59_000 }),
        sockMsg({ state: 12, sport: 80, dport: 5001, timer: 1, expires: 900, retrans: 1 }),
      ),
    );
    expect(recs.map((r) => [r.state, r.linuxState, r.uid, r.inode, r.timer?.kind])).toEqual([
      ['TIME_WAIT', 6, 0, 0, 'timewait'],
      ['SYN_RECEIVED', 12, 0, 0, 'on'],
    ]);
  });

  it('skips a state number the state table does not know (a newer kernel)', () => {
    const { recs } = parseAll(concat(sockMsg({ state: 14, sport: 1, dport: 2 }), sockMsg({ state: 1, sport: 3, dport: 4 })));
    expect(recs.map((r) => r.local.port)).toEqual([3]);
  });
});

describe('parseDiagReplies: netlink framing', () => {
  it('returns DUMP_DONE at NLMSG_DONE after visiting every socket before it', () => {
    const { status, recs } = parseAll(
      concat(sockMsg({ state: 1, sport: 1, dport: 2 }), sockMsg({ state: 10, sport: 3, dport: 0 }), done()),
    );
    expect(status).toBe(DUMP_DONE);
    expect(recs).toHaveLength(2);
  });

  it('returns the errno of NLMSG_ERROR', () => {
    expect(parseAll(errorMsg(1)).status).toBe(1); // EPERM
    expect(parseAll(concat(sockMsg({ state: 1, sport: 1, dport: 2 }), errorMsg(2))).status).toBe(2); // ENOENT
  });

  it('ignores an NLMSG_ERROR acknowledgement (error 0)', () => {
    expect(parseAll(concat(errorMsg(0), done())).status).toBe(DUMP_DONE);
  });

  it('returns the errno a failed dump carries in NLMSG_DONE', () => {
    expect(parseAll(done(SEQ, -22)).status).toBe(22);
  });

  it('accepts an NLMSG_DONE without payload (old kernels)', () => {
    expect(parseAll(nlmsg(3, SEQ, new Uint8Array(0))).status).toBe(DUMP_DONE);
  });

  it('skips messages of another sequence number (an abandoned dump)', () => {
    const { status, recs } = parseAll(
      concat(sockMsg({ state: 1, sport: 1, dport: 2 }, 76), done(76), sockMsg({ state: 1, sport: 9, dport: 2 }), done()),
    );
    expect(status).toBe(DUMP_DONE);
    expect(recs.map((r) => r.local.port)).toEqual([9]);
  });

  it('reports a truncated message with its byte offset', () => {
    const good = sockMsg({ state: 1, sport: 1, dport: 2 });
    const cut = sockMsg({ state: 1, sport: 3, dport: 4 }).subarray(0, 40);
    const bytes = concat(good, cut);
    const err = (() => {
      try {
        parseAll(bytes);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(NetlinkParseError);
    expect((err as NetlinkParseError).offset).toBe(good.length);
    expect((err as NetlinkParseError).code).toBe('E_NETLINK_PARSE');
    expect(String((err as Error).message)).toMatch(/at byte 88: nlmsg_len 88 with 40 bytes left/);
  });

  it('reports an inet_diag_msg shorter than the struct, and trailing bytes', () => {
    expect(() => parseAll(nlmsg(20, SEQ, new Uint8Array(40)))).toThrow(/inet_diag_msg of 40 bytes/);
    expect(() => parseAll(concat(sockMsg({ state: 1, sport: 1, dport: 2 }), new Uint8Array(8)))).toThrow(/8 trailing bytes/);
  });

  it('reports nlmsg_len below the header size instead of looping', () => {
    const b = sockMsg({ state: 1, sport: 1, dport: 2 });
    new DataView(b.buffer).setUint32(0, 8, true);
    expect(() => parseAll(b)).toThrow(/nlmsg_len 8/);
  });
});

describe('INET_DIAG_INFO (struct tcp_info)', () => {
  const full = tcpInfo(
    232,
    {
      44: 1500, // last_data_sent
      52: 2500, // last_data_recv
      68: 12_345, // rtt µs
      72: 678, // rttvar µs
      80: 42, // snd_cwnd
      100: 9, // total_retrans
      120: 2n ** 40n + 5n, // bytes_acked
      128: 77n, // bytes_received
    },
    { 2: 3 }, // tcpi_retransmits
  );

  it('reads the subset at the uapi offsets (µs → ms, u64 → number)', () => {
    const v = new DataView(full.buffer);
    expect(decodeTcpInfo(v, 0, full.length)).toEqual({
      rttMs: 12.345,
      rttvarMs: 0.678,
      retransmits: 3,
      totalRetrans: 9,
      cwnd: 42,
      bytesAcked: 2 ** 40 + 5,
      bytesReceived: 77,
      lastSendMs: 1500,
      lastReceiveMs: 2500,
    });
  });

  it('reads 0 for fields an older kernel’s shorter struct lacks (104 bytes: before 3.15)', () => {
    const short = full.slice(0, 104);
    const info = decodeTcpInfo(new DataView(short.buffer), 0, short.length);
    expect(info.totalRetrans).toBe(9);
    expect(info.cwnd).toBe(42);
    expect(info.bytesAcked).toBe(0);
    expect(info.bytesReceived).toBe(0);
  });

  it('finds INET_DIAG_INFO among other attributes, only when asked', () => {
    const shutdown = attr(8, Uint8Array.from([0])); // INET_DIAG_SHUTDOWN, padded
    const nested = attr(2 | 0x8000, full.slice(0, 136)); // with NLA_F_NESTED set
    const msg = sockMsg({ state: 1, sport: 1, dport: 2, attrs: [shutdown, nested] });
    expect(parseAll(msg, true).recs[0]?.info?.cwnd).toBe(42);
    expect(parseAll(msg, true).recs[0]?.info?.bytesAcked).toBe(2 ** 40 + 5);
    expect(parseAll(msg, false).recs[0]?.info).toBeNull();
  });

  it('leaves info null when the kernel sends none (TIME_WAIT)', () => {
    expect(parseAll(sockMsg({ state: 6, sport: 1, dport: 2, timer: 3 }), true).recs[0]?.info).toBeNull();
  });

  it('stops at a malformed attribute instead of reading past the message', () => {
    const bad = new Uint8Array(8);
    new DataView(bad.buffer).setUint16(0, 200, true); // rta_len beyond the message
    const { recs } = parseAll(sockMsg({ state: 1, sport: 1, dport: 2, attrs: [bad] }), true);
    expect(recs[0]?.info).toBeNull();
  });
});

describe('address text', () => {
  it('prints dotted IPv4 from a big-endian u32', () => {
    expect(ipv4Text(0x7f000001)).toBe('127.0.0.1');
    expect(ipv4Text(0xffffffff)).toBe('255.255.255.255');
    expect(ipv4Text(0)).toBe('0.0.0.0');
  });

  const v6 = (groups: readonly number[]): Uint8Array => {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    groups.forEach((g, i) => v.setUint16(i * 2, g, false));
    return b;
  };

  it.each([
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'], // first of two equal runs
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'], // the longest run
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'], // a single 0 is not compressed
    [[0xfe80, 0, 0, 0, 0, 0, 0, 0], 'fe80::'],
    [[1, 0, 2, 0, 3, 0, 4, 0], '1:0:2:0:3:0:4:0'],
    [[0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789], 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
    [[0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], '::ffff:127.0.0.1'],
    [[0, 0, 0, 0, 0, 0xffff, 0, 0], '::ffff:0.0.0.0'],
    [[0, 0, 0, 0, 0, 0, 0x0a00, 1], '::10.0.0.1'], // glibc's IPv4-compatible form
    [[0, 0, 0, 0, 0, 0, 0, 0xffff], '::ffff'],
    [[0, 0, 0, 0, 0xffff, 0, 0, 0], '::ffff:0:0:0'],
    [[0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x221], '64:ff9b::c000:221'],
  ])('prints %j as %s', (groups, text) => {
    expect(ipv6TextOf(v6(groups))).toBe(text);
  });

  it('prints what glibc inet_ntop (and so ss) prints, for 3000 zero-heavy addresses', () => {
    type Koffi = {
      load(p: string): { func(d: string): (...a: unknown[]) => unknown };
    };
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const ntop = koffi.load('libc.so.6').func('const char *inet_ntop(int af, const void *src, _Out_ char *dst, uint32_t size)');
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const dst = Buffer.alloc(64);
    for (let i = 0; i < 3000; i++) {
      const g = Array.from({ length: 8 }, () => {
        const r = rnd() % 8;
        return r < 5 ? 0 : r === 5 ? 0xffff : rnd() & 0xffff;
      });
      const bytes = v6(g);
      const want = ntop(10, bytes, dst, 64) as string;
      expect(ipv6TextOf(bytes), JSON.stringify(g)).toBe(want);
    }
  });
});

describe('a real dump captured from the kernel (test/fixtures/sock-diag)', () => {
  const fixture = (name: string): Uint8Array => readFileSync(new URL(`../fixtures/sock-diag/${name}`, import.meta.url));
  const v4 = parseAll(fixture('dump-ipv4-seq101.bin'), true, 101);
  const v6 = parseAll(fixture('dump-ipv6-seq102.bin'), true, 102);
  const ss = parseSs(readFileSync(new URL('../fixtures/sock-diag/ss-tanHei.txt', import.meta.url), 'utf8'));
  const recs = [...v4.recs, ...v6.recs];

  it('ends each family with NLMSG_DONE', () => {
    expect(v4.status).toBe(DUMP_DONE);
    expect(v6.status).toBe(DUMP_DONE);
    expect(v4.recs.every((r) => r.family === 'ipv4')).toBe(true);
    expect(v6.recs.every((r) => r.family === 'ipv6')).toBe(true);
  });

  it('has the sockets, queues, uid, inode, timer kinds and tcp_info ss printed', () => {
    expect(recs.map(ssKey).sort()).toEqual(ss.map((s) => s.key).sort());
    const byKey = new Map(ss.map((s) => [s.key, s]));
    for (const r of recs) {
      const s = byKey.get(ssKey(r));
      expect(s, ssKey(r)).toBeDefined();
      if (s === undefined) continue;
      expect([r.recvQueue, r.sendQueue, r.uid, r.inode, r.timer?.kind ?? null], ssKey(r)).toEqual([
        s.recvQ,
        s.sendQ,
        s.uid,
        s.ino,
        s.timer?.kind ?? null,
      ]);
      if (r.state === 'TIME_WAIT') expect(r.info).toBeNull();
      else {
        expect(r.info?.cwnd, ssKey(r)).toBe(Number(s.info['cwnd']));
        expect(r.info?.bytesAcked, ssKey(r)).toBe(Number(s.info['bytes_acked'] ?? 0));
        expect(r.info?.bytesReceived, ssKey(r)).toBe(Number(s.info['bytes_received'] ?? 0));
      }
    }
  });
});
