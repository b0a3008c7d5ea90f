/**
 * The netlink sock_diag source: the shared live suite (common.case.ts), then its error
 * handling and source selection against a scripted libc (no root needed).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TcpstateError } from '../../src/core/errors.js';
import type { SocketRecord } from '../../src/records/socket.js';
import type { Libc } from '../../src/sources/ffi-libc.js';
import { defineSourceSuite } from './common.case.js';

defineSourceSuite('sock-diag');

// ---------------------------------------------------------------------------------------
// A scripted libc: every request gets the replies `reply(family, seq, request)` returns,
// one recv each.

const ERRNO: Readonly<Record<number, string>> = { 1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 13: 'EACCES', 22: 'EINVAL', 97: 'EAFNOSUPPORT' };

function nlmsg(type: number, seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array((16 + payload.length + 3) & ~3);
  const v = new DataView(out.buffer);
  v.setUint32(0, 16 + payload.length, true);
  v.setUint16(4, type, true);
  v.setUint32(8, seq, true);
  out.set(payload, 16);
  return out;
}
function sock(seq: number, family: number, port: number): Uint8Array {
  const m = new Uint8Array(72);
  m[0] = family;
  m[1] = 1;
  new DataView(m.buffer).setUint16(4, port, false);
  return nlmsg(20, seq, m);
}
function status(seq: number, type: 2 | 3, errno: number): Uint8Array {
  const p = new Uint8Array(type === 2 ? 20 : 4);
  new DataView(p.buffer).setInt32(0, -errno, true);
  return nlmsg(type, seq, p);
}

interface Fake extends Libc {
  requests: Uint8Array[];
  closed: number[];
  sockets: number;
  socketErrno: number;
  recvErrnos: number[];
}

function fakeLibc(reply: (family: number, seq: number) => Uint8Array[]): Fake {
  let errno = 0;
  let nextFd = 10;
  const queue: Uint8Array[] = [];
  const f: Fake = {
    requests: [],
    closed: [],
    sockets: 0,
    socketErrno: 0,
    recvErrnos: [],
    socket: () => {
      if (f.socketErrno !== 0) {
        errno = f.socketErrno;
        return -1;
      }
      f.sockets++;
      return nextFd++;
    },
    bind: () => 0,
    sendto: (_fd, buf, len) => {
      const req = buf.slice(0, len);
      f.requests.push(req);
      const v = new DataView(req.buffer);
      queue.length = 0;
      queue.push(...reply(req[16] ?? 0, v.getUint32(8, true)));
      return len;
    },
    recv: (_fd, buf) => {
      const e = f.recvErrnos.shift();
      if (e !== undefined) {
        errno = e;
        return -1;
      }
      const next = queue.shift();
      if (next === undefined) throw new Error('recv would block: the fake has no more replies');
      buf.set(next);
      return next.length;
    },
    close: (fd) => {
      f.closed.push(fd);
      return 0;
    },
    setns: () => 0,
    errno: () => errno,
    errnoName: (n) => ERRNO[n] ?? `errno ${n}`,
  };
  return f;
}

async function withFake(fake: Fake | Error) {
  vi.resetModules();
  vi.doMock('../../src/sources/ffi-libc.js', async (orig) => ({
    ...(await orig<typeof import('../../src/sources/ffi-libc.js')>()),
    loadLibc: () => {
      if (fake instanceof Error) throw fake;
      return fake;
    },
  }));
  const sd = await import('../../src/sources/sock-diag.js');
  const os = await import('../../src/sources/open-source.js');
  const errors = await import('../../src/core/errors.js');
  return { openSockDiag: sd.openSockDiag, openSocketSource: os.openSocketSource, TcpstateError: errors.TcpstateError };
}

const ALL = { families: ['ipv4', 'ipv6'] as const, stateMask: 0x1ffe, info: false };

describe('sock-diag source against a scripted libc', () => {
  afterEach(() => {
    vi.doUnmock('../../src/sources/ffi-libc.js');
    vi.resetModules();
  });

  it('streams the records of one dump per family, over several recvs', async () => {
    const fake = fakeLibc((family, seq) => (family === 2 ? [sock(seq, 2, 1), sock(seq, 2, 2), status(seq, 3, 0)] : [sock(seq, 10, 3), status(seq, 3, 0)]));
    const { openSockDiag } = await withFake(fake);
    const src = openSockDiag();
    const ports: number[] = [];
    src.dump({ ...ALL, families: ['ipv4', 'ipv6'] }, (r: SocketRecord) => ports.push(r.local.port));
    expect(ports).toEqual([1, 2, 3]);
    expect(fake.requests.map((r) => r[16])).toEqual([2, 10]);
    src.close();
    expect(fake.closed).toEqual([10]);
  });

  it('sends the info bit, the state mask and the bytecode it is given', async () => {
    const fake = fakeLibc((_f, seq) => [status(seq, 3, 0)]);
    const { openSockDiag } = await withFake(fake);
    openSockDiag().dump({ families: ['ipv4'], stateMask: 1 << 6, info: true, bytecode: Uint8Array.from([2, 8, 12, 0, 0, 0, 0x1b, 0x5b]) }, () => undefined);
    const req = fake.requests[0] ?? new Uint8Array();
    const v = new DataView(req.buffer);
    expect(req[18]).toBe(2);
    expect(v.getUint32(20, true)).toBe(64);
    expect(v.getUint16(74, true)).toBe(1);
    expect([...req.subarray(76, 84)]).toEqual([2, 8, 12, 0, 0, 0, 0x1b, 0x5b]);
  });

  it.each([
    [1, 'E_PERMISSION', /EPERM.*--source proc/],
    [13, 'E_PERMISSION', /EACCES/],
    [97, 'E_UNSUPPORTED', /EAFNOSUPPORT.*CONFIG_INET_DIAG/],
  ])('turns socket() errno %i into %s with advice', async (errno, code, message) => {
    const fake = fakeLibc(() => []);
    fake.socketErrno = errno;
    const { openSockDiag, TcpstateError } = await withFake(fake);
    const e = (() => {
      try {
        openSockDiag();
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(TcpstateError);
    expect((e as TcpstateError).code).toBe(code);
    expect((e as TcpstateError).message).toMatch(message);
  });

  it('reports a kernel NLMSG_ERROR (ENOENT: no tcp_diag) with advice', async () => {
    const { openSockDiag } = await withFake(fakeLibc((_f, seq) => [status(seq, 2, 2)]));
    expect(() => openSockDiag().dump(ALL, () => undefined)).toThrow(/ENOENT.*modprobe tcp_diag/);
  });

  it('reports EINVAL (rejected bytecode) carried by NLMSG_DONE', async () => {
    const { openSockDiag } = await withFake(fakeLibc((_f, seq) => [status(seq, 3, 22)]));
    expect(() => openSockDiag().dump(ALL, () => undefined)).toThrow(/EINVAL.*bytecode/);
  });

  it('retries a recv interrupted by a signal (EINTR)', async () => {
    const fake = fakeLibc((_f, seq) => [sock(seq, 2, 7), status(seq, 3, 0)]);
    fake.recvErrnos.push(4);
    const { openSockDiag } = await withFake(fake);
    const ports: number[] = [];
    openSockDiag().dump({ ...ALL, families: ['ipv4'] }, (r) => ports.push(r.local.port));
    expect(ports).toEqual([7]);
  });

  it('starts the next dump on a fresh socket when a visitor throws mid-dump', async () => {
    const fake = fakeLibc((_f, seq) => [sock(seq, 2, 7), status(seq, 3, 0)]);
    const { openSockDiag } = await withFake(fake);
    const src = openSockDiag();
    expect(() =>
      src.dump(ALL, () => {
        throw new Error('visitor failed');
      }),
    ).toThrow('visitor failed');
    expect(fake.closed).toEqual([10]);
    let n = 0;
    src.dump({ ...ALL, families: ['ipv4'] }, () => n++);
    expect(n).toBe(1);
    expect(fake.sockets).toBe(2);
    src.close();
    expect(() => src.dump(ALL, () => undefined)).toThrow(/after close/);
  });
});

describe('openSocketSource', () => {
  afterEach(() => {
    vi.doUnmock('../../src/sources/ffi-libc.js');
    vi.resetModules();
  });

  it('auto: uses sock-diag when its probe dump works', async () => {
    const fake = fakeLibc((_f, seq) => [status(seq, 3, 0)]);
    const { openSocketSource } = await withFake(fake);
    const { source, notice } = openSocketSource('auto');
    expect(source.name).toBe('sock-diag');
    expect(notice).toBeNull();
    expect(new DataView(fake.requests[0]?.buffer ?? new ArrayBuffer(24)).getUint32(20, true)).toBe(0); // empty state mask
  });

  it('auto: falls back to /proc with a notice when the FFI cannot load', async () => {
    const { FfiUnavailableError } = await import('../../src/sources/ffi-libc.js');
    const { openSocketSource } = await withFake(new FfiUnavailableError('the koffi package did not load (test)'));
    const { source, notice } = openSocketSource('auto');
    expect(source.name).toBe('proc');
    expect(notice).toMatch(/sock_diag is unavailable \(cannot use libc through koffi: the koffi package did not load \(test\)\); reading \/proc\/net\/tcp and tcp6/);
  });

  it('auto: falls back when the kernel has no TCP diag handler, and closes the netlink socket', async () => {
    const fake = fakeLibc((_f, seq) => [status(seq, 2, 2)]);
    const { openSocketSource } = await withFake(fake);
    const { source, notice } = openSocketSource('auto');
    expect(source.name).toBe('proc');
    expect(notice).toMatch(/ENOENT/);
    expect(fake.closed).toEqual([10]);
  });

  it('sock-diag: lets the error through; proc: never touches the FFI', async () => {
    const fake = fakeLibc(() => []);
    fake.socketErrno = 1;
    const { openSocketSource } = await withFake(fake);
    expect(() => openSocketSource('sock-diag')).toThrow(/EPERM/);
    expect(openSocketSource('proc')).toMatchObject({ source: { name: 'proc' }, notice: null });
    expect(fake.sockets).toBe(0);
  });
});
