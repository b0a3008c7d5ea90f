/**
 * The one suite both socket sources pass (zx/hono `common.case` style): in a private network
 * namespace, a helper process (helper.mjs) opens real sockets in LISTEN (IPv4, dual-stack
 * and IPv6-only), ESTABLISHED (with unread bytes), FIN_WAIT_2 / CLOSE_WAIT (half-close),
 * TIME_WAIT (client closed first), an overflowing accept queue (LISTEN Recv-Q 2, clients
 * in SYN_SENT). runner.mjs dumps the namespace with the built library (dist/, built by the
 * global setup) and `ss -tanHei` reads it right after; both must agree.
 *
 * Known, asserted differences between the sources: /proc prints 0 as the send queue of a
 * listener (inet_diag: the backlog), has no tcp_info, and ignores inet_diag bytecode.
 *
 * Needs root and iproute2: skips loudly otherwise, and fails when CI=true.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_INFO } from '../../src/core/states.js';
import type { DumpQuery, SocketRecord, SourceName } from '../../src/records/socket.js';
import { createNetns, deleteNetns, killAll, netnsGate, run, spawnInNetns, ssText, waitForReady, waitForSs } from '../helpers/netns.js';

const HELPER = fileURLToPath(new URL('./helper.mjs', import.meta.url));
const RUNNER = fileURLToPath(new URL('./runner.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist', import.meta.url));

const ALL = 0x1ffe;
const bit = (n: number): number => 1 << n;
const TIME_WAIT_BIT = bit(6);
const LISTEN_BIT = bit(10);
const ESTABLISHED_BIT = bit(1);

interface RunnerQuery {
  readonly families: DumpQuery['families'];
  readonly stateMask: number;
  readonly info: boolean;
  readonly bytecodeHex?: string;
}
interface RunnerOutput {
  readonly source?: SourceName;
  readonly notice?: string | null;
  readonly results?: SocketRecord[][];
  readonly ms?: number[];
  readonly error?: { code: string | null; message: string };
}

/** One socket line of `ss -tanHei`, with its tcp_info line. */
interface SsSocket {
  readonly key: string;
  readonly state: string;
  readonly recvQ: number;
  readonly sendQ: number;
  readonly uid: number;
  readonly ino: number;
  readonly timer: { kind: string; text: string; ms: number; granularity: number; retrans: number } | null;
  readonly info: Readonly<Record<string, string>>;
}

/** The ss spelling of a record's socket: `STATE local peer` (`*` for a zero peer port). */
export function ssKey(r: SocketRecord): string {
  const state = r.linuxState === 12 || r.linuxState === 3 ? 'SYN-RECV' : STATE_INFO[r.state].ss;
  const ep = (a: SocketRecord['local']): string => {
    const host = r.family === 'ipv6' ? `[${a.address}]` : a.address;
    return `${host}:${a.port === 0 ? '*' : String(a.port)}`;
  };
  return `${state} ${ep(r.local)} ${ep(r.remote)}`;
}

/** ss prints a dual-stack wildcard as `*`; normalise it to `[::]`. */
function ssEndpoint(t: string): string {
  if (t === '*:*') return '[::]:*';
  if (t.startsWith('*:')) return `[::]${t.slice(1)}`;
  return t;
}

/** ss's timer text (misc/ss.c print_ms_timer): `1min5sec`, `58sec`, `1.234ms` (= 1.234 s), `220ms`. */
export function parseSsTimer(text: string): { ms: number; granularity: number } {
  const m = /^(?:(\d+)min)?(?:(\d+)(sec|\.))?(?:(\d+)ms)?$/.exec(text);
  if (m === null) throw new Error(`unexpected ss timer text "${text}"`);
  const min = Number(m[1] ?? 0);
  const sec = Number(m[2] ?? 0);
  const ms = Number(m[4] ?? 0);
  const granularity = min > 9 ? 60_000 : min > 0 || sec > 9 ? 1000 : 1;
  return { ms: min * 60_000 + sec * 1000 + ms, granularity };
}

export function parseSs(out: string): SsSocket[] {
  const socks: SsSocket[] = [];
  let last: { -readonly [K in keyof SsSocket]: SsSocket[K] } | null = null;
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      if (last === null) throw new Error(`ss info line before any socket: ${line}`);
      const info: Record<string, string> = {};
      for (const tok of line.trim().split(/\s+/)) {
        const i = tok.indexOf(':');
        if (i > 0) info[tok.slice(0, i)] = tok.slice(i + 1);
      }
      last.info = info;
      continue;
    }
    const t = line.trim().split(/\s+/);
    const [state, rq, sq, local, peer] = t;
    if (state === undefined || rq === undefined || sq === undefined || local === undefined || peer === undefined) {
      throw new Error(`short ss line: ${line}`);
    }
    let uid = 0;
    let ino = -1;
    let timer: SsSocket['timer'] = null;
    for (const tok of t.slice(5)) {
      if (tok.startsWith('uid:')) uid = Number(tok.slice(4));
      else if (tok.startsWith('ino:')) ino = Number(tok.slice(4));
      else if (tok.startsWith('timer:(')) {
        const [kind, text, retrans] = tok.slice(7, -1).split(',');
        const p = parseSsTimer(text ?? '');
        timer = { kind: kind ?? '', text: text ?? '', ms: p.ms, granularity: p.granularity, retrans: Number(retrans) };
      }
    }
    last = {
      key: `${state} ${ssEndpoint(local)} ${ssEndpoint(peer)}`,
      state,
      recvQ: Number(rq),
      sendQ: Number(sq),
      uid,
      ino,
      timer,
      info: {},
    };
    socks.push(last);
  }
  return socks;
}

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const it of items) {
    const k = key(it);
    if (m.has(k)) throw new Error(`two sockets with the same key ${k}`);
    m.set(k, it);
  }
  return m;
}

/** inet_diag bytecode for `sport >= port` (what ss builds for `sport >= :PORT`). */
export function sportGeBytecode(port: number): string {
  const b = Buffer.alloc(8);
  b.writeUInt8(2, 0); // INET_DIAG_BC_S_GE
  b.writeUInt8(8, 1); // yes: next op (the end: accept)
  b.writeUInt16LE(12, 2); // no: past the end + 4 (reject)
  b.writeUInt16LE(port, 6); // the port sits in the `no` field of the following op
  return b.toString('hex');
}

export function defineSourceSuite(name: SourceName): void {
  const other: SourceName = name === 'sock-diag' ? 'proc' : 'sock-diag';
  const gate = netnsGate(`the live ${name} source suite`, { rootFor: 'it creates a network namespace' }, 'It fails instead when CI=true.');

  if (gate.skip) {
    describe.skip(`${name} source against ss in a private namespace (${gate.missing ?? ''})`, () => {
      it('skipped', () => undefined);
    });
    return;
  }

  describe(`${name} source against ss in a private namespace`, () => {
    if (gate.missing !== null) {
      it('has what it needs (CI=true)', () => {
        gate.require();
      });
      return;
    }

    const ns = `tcpstate-test-src-${process.pid}-${name}`;
    const helpers: ChildProcess[] = [];
    let mine: SocketRecord[] = [];
    let withInfo: SocketRecord[] = [];
    let onlyTimeWait: SocketRecord[] = [];
    let listenEstab: SocketRecord[] = [];
    let onlyV6: SocketRecord[] = [];
    let filtered: SocketRecord[] = [];
    let theirs: SocketRecord[] = [];
    let ss: SsSocket[] = [];
    let dumpMs = 0;

    const runner = (source: SourceName, queries: readonly RunnerQuery[]): SocketRecord[][] => {
      const out = JSON.parse(run('ip', ['netns', 'exec', ns, process.execPath, RUNNER, DIST, JSON.stringify({ source, queries })], 20_000)) as RunnerOutput;
      if (out.error !== undefined) throw new Error(`runner (${source}): ${out.error.code ?? ''} ${out.error.message}`);
      if (out.source !== source) throw new Error(`runner used ${out.source ?? '?'} instead of ${source}`);
      dumpMs = out.ms?.[0] ?? 0;
      return out.results ?? [];
    };

    beforeAll(async () => {
      createNetns(ns, [['-6', 'addr', 'add', '2001:db8::1:0:0:1/128', 'dev', 'lo', 'nodad']]);
      const h = spawnInNetns(ns, [process.execPath, HELPER], { detached: false });
      helpers.push(h);
      await waitForReady(h, 'helper', '"ready":true', { timeoutMs: 20_000 });
      // Bounded wait until the kernel shows every state the helper set up.
      const want = ['TIME-WAIT', 'FIN-WAIT-2', 'CLOSE-WAIT', 'SYN-SENT', 'LISTEN     2'];
      await waitForSs(ns, (text) => want.every((w) => text.includes(w)), 5000);
      const results = runner(name, [
        { families: ['ipv4', 'ipv6'], stateMask: ALL, info: false },
        { families: ['ipv4', 'ipv6'], stateMask: ALL, info: true },
        { families: ['ipv4', 'ipv6'], stateMask: TIME_WAIT_BIT, info: false },
        { families: ['ipv4', 'ipv6'], stateMask: LISTEN_BIT | ESTABLISHED_BIT, info: false },
        { families: ['ipv6'], stateMask: ALL, info: false },
        { families: ['ipv4', 'ipv6'], stateMask: LISTEN_BIT, info: false, bytecodeHex: sportGeBytecode(7003) },
      ]);
      ss = parseSs(ssText(ns, [], '-tanHei'));
      [mine = [], withInfo = [], onlyTimeWait = [], listenEstab = [], onlyV6 = [], filtered = []] = results;
      theirs = runner(other, [{ families: ['ipv4', 'ipv6'], stateMask: ALL, info: false }])[0] ?? [];
    }, 60_000);

    afterAll(async () => {
      await killAll(helpers, 5000);
      deleteNetns(ns);
    }, 20_000);

    it('reports exactly the sockets ss reports (state, local, remote)', () => {
      expect(mine.length).toBeGreaterThanOrEqual(20);
      expect(mine.map(ssKey).sort()).toEqual(ss.map((s) => s.key).sort());
    });

    it('sees every state and address form the helper set up', () => {
      const keys = new Set(mine.map(ssKey));
      for (const k of [
        'LISTEN 0.0.0.0:7001 0.0.0.0:*',
        'LISTEN [::]:7002 [::]:*',
        'LISTEN [2001:db8::1:0:0:1]:7004 [::]:*',
        'LISTEN 127.0.0.1:7003 0.0.0.0:*',
      ]) {
        expect(keys).toContain(k);
      }
      const states = new Set(mine.map((r) => r.state));
      for (const s of ['LISTEN', 'ESTABLISHED', 'FIN_WAIT_2', 'CLOSE_WAIT', 'TIME_WAIT', 'SYN_SENT'] as const) {
        expect(states).toContain(s);
      }
      expect(mine.some((r) => r.family === 'ipv6' && r.local.address === '::ffff:127.0.0.1' && r.local.port === 7002)).toBe(true);
      expect(mine.some((r) => r.state === 'ESTABLISHED' && r.local.address === '::1')).toBe(true);
    });

    it('has the accept queue of a full listener and unread bytes of a connection', () => {
      const full = mine.find((r) => r.state === 'LISTEN' && r.local.port === 7003);
      expect(full?.recvQueue).toBe(2);
      expect(full?.sendQueue).toBe(name === 'sock-diag' ? 1 : 0);
      const reader = mine.filter((r) => r.state === 'ESTABLISHED' && r.local.port === 7001);
      expect(reader.map((r) => r.recvQueue)).toContain(1000);
    });

    it('gives the queues ss gives (proc: listeners show Send-Q 0, not the backlog)', () => {
      const theirsByKey = byKey(ss, (s) => s.key);
      for (const r of mine) {
        const s = theirsByKey.get(ssKey(r));
        expect(s, ssKey(r)).toBeDefined();
        if (s === undefined) continue;
        expect(r.recvQueue, ssKey(r)).toBe(s.recvQ);
        if (name === 'proc' && r.state === 'LISTEN') expect(r.sendQueue, ssKey(r)).toBe(0);
        else expect(r.sendQueue, ssKey(r)).toBe(s.sendQ);
      }
    });

    it('gives the uid and inode ss -e gives', () => {
      const theirsByKey = byKey(ss, (s) => s.key);
      for (const r of mine) {
        const s = theirsByKey.get(ssKey(r));
        expect(s?.ino, ssKey(r)).toBe(r.inode);
        expect(s?.uid, ssKey(r)).toBe(r.uid);
      }
      for (const tw of mine.filter((r) => r.state === 'TIME_WAIT')) {
        expect([tw.uid, tw.inode]).toEqual([0, 0]);
      }
      // Client sockets were opened after the helper dropped to uid 65534.
      expect(mine.filter((r) => r.state === 'SYN_SENT').every((r) => r.uid === 65534 && r.inode > 0)).toBe(true);
      // Connections still in the accept queue have no file yet: inode 0, the listener's uid.
      const queued = mine.filter((r) => r.state === 'ESTABLISHED' && r.local.port === 7003);
      expect(queued.map((r) => [r.uid, r.inode])).toEqual([
        [0, 0],
        [0, 0],
      ]);
    });

    it('gives the timers ss -e gives (kind, expiry within ss rounding, retransmissions)', () => {
      const theirsByKey = byKey(ss, (s) => s.key);
      let compared = 0;
      for (const r of mine) {
        const s = theirsByKey.get(ssKey(r));
        if (s === undefined) continue;
        expect(r.timer?.kind ?? null, ssKey(r)).toBe(s.timer?.kind ?? null);
        if (r.timer === null || s.timer === null) continue;
        const retransDelta = s.timer.retrans - r.timer.retransmits;
        expect(retransDelta === 0 || retransDelta === 1, `${ssKey(r)} retransmits`).toBe(true);
        // A retransmission between our dump and ss re-arms the timer: skip its expiry.
        if (retransDelta !== 0) continue;
        expect(Math.abs(r.timer.expiresMs - s.timer.ms), `${ssKey(r)} ${r.timer.expiresMs} vs ${s.timer.text}`).toBeLessThanOrEqual(
          s.timer.granularity + 3000,
        );
        compared++;
      }
      expect(compared).toBeGreaterThan(0);
      const tw = mine.find((r) => r.state === 'TIME_WAIT');
      expect(tw?.timer?.kind).toBe('timewait');
      expect(tw?.timer?.expiresMs).toBeGreaterThan(30_000);
      expect(tw?.timer?.expiresMs).toBeLessThanOrEqual(60_000);
    });

    it('applies the state mask', () => {
      expect(onlyTimeWait.length).toBe(ss.filter((s) => s.state === 'TIME-WAIT').length);
      expect(onlyTimeWait.every((r) => r.state === 'TIME_WAIT')).toBe(true);
      expect(listenEstab.map(ssKey).sort()).toEqual(
        ss.filter((s) => s.state === 'LISTEN' || s.state === 'ESTAB').map((s) => s.key).sort(),
      );
    });

    it('dumps only the families asked for', () => {
      expect(onlyV6.length).toBeGreaterThan(0);
      expect(onlyV6.map(ssKey).sort()).toEqual(mine.filter((r) => r.family === 'ipv6').map(ssKey).sort());
    });

    it('gives no tcp_info unless asked', () => {
      expect(mine.every((r) => r.info === null)).toBe(true);
    });

    if (name === 'sock-diag') {
      it('gives tcp_info equal to ss -i when asked', () => {
        const theirsByKey = byKey(ss, (s) => s.key);
        let compared = 0;
        for (const r of withInfo) {
          const s = theirsByKey.get(ssKey(r));
          if (r.state === 'TIME_WAIT') {
            expect(r.info).toBeNull();
            continue;
          }
          expect(r.info, ssKey(r)).not.toBeNull();
          if (r.info === null || s === undefined) continue;
          expect(r.info.cwnd, ssKey(r)).toBe(Number(s.info['cwnd']));
          expect(r.info.bytesAcked, ssKey(r)).toBe(Number(s.info['bytes_acked'] ?? 0));
          expect(r.info.bytesReceived, ssKey(r)).toBe(Number(s.info['bytes_received'] ?? 0));
          const retrans = s.info['retrans'];
          expect(r.info.totalRetrans, ssKey(r)).toBe(retrans === undefined ? 0 : Number(retrans.split('/')[1]));
          const rtt = s.info['rtt'];
          if (rtt !== undefined) {
            const [a, b] = rtt.split('/').map(Number);
            expect(r.info.rttMs, ssKey(r)).toBeCloseTo(a ?? NaN, 3);
            expect(r.info.rttvarMs, ssKey(r)).toBeCloseTo(b ?? NaN, 3);
          }
          compared++;
        }
        expect(compared).toBeGreaterThanOrEqual(15);
        const reader = withInfo.find((r) => r.state === 'ESTABLISHED' && r.local.port === 7001 && r.recvQueue === 1000);
        expect(reader?.info?.bytesReceived).toBe(1000);
      });

      it('runs inet_diag bytecode in the kernel (sport >= 7003 among listeners)', () => {
        expect(filtered.map((r) => r.local.port).sort()).toEqual([7003, 7004, 7005]);
      });
    } else {
      it('has no tcp_info even when asked', () => {
        expect(withInfo.length).toBe(mine.length);
        expect(withInfo.every((r) => r.info === null)).toBe(true);
      });

      it('ignores inet_diag bytecode (the caller filters)', () => {
        expect(filtered.map((r) => r.local.port).sort()).toEqual([7001, 7002, 7003, 7004, 7005]);
      });
    }

    it(`gives the same records as the ${other} source`, () => {
      const a = byKey(mine, ssKey);
      const b = byKey(theirs, ssKey);
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      for (const [k, r] of a) {
        const o = b.get(k);
        if (o === undefined) continue;
        expect({ uid: r.uid, inode: r.inode, recvQueue: r.recvQueue, timer: r.timer?.kind ?? null }, k).toEqual({
          uid: o.uid,
          inode: o.inode,
          recvQueue: o.recvQueue,
          timer: o.timer?.kind ?? null,
        });
        if (r.state !== 'LISTEN') expect(r.sendQueue, k).toBe(o.sendQueue);
      }
    });

    it('dumps in bounded time', () => {
      expect(dumpMs).toBeLessThan(1000);
    });
  });
}
