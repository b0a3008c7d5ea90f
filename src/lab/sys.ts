/**
 * The system calls the lab needs, through koffi (as ../sources/ffi-libc.ts does for the
 * readers): the TUN device (open, ioctl TUNSETIFF, read, write, poll), the BSD socket
 * API for the kernel's side of every scenario (socket, bind, listen, connect, accept4,
 * send, recv, shutdown, setsockopt, getsockname, close) and setns. Every call is
 * synchronous on the calling (main) thread, which is what makes setns work: a thread
 * inside the lab namespace creates its sockets and its TUN device there.
 *
 * Calls return the raw result; on -1 the errno is read at once and kept in `lastErrno`.
 * They are declared on the shared libc handle (../sources/libc.ts), loaded once per thread.
 */
import { TcpstateError } from '../core/errors.js';
import { libc, LibcLoadError, PROTOTYPES, type SharedLibc } from '../sources/libc.js';

export const AF_INET = 2;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_LINGER = 13;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const CLONE_NEWNET = 0x40000000;
/** _IOW('T', 202, int) from <linux/if_tun.h>. */
export const TUNSETIFF = 0x400454ca;
export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;

export interface Sys {
  open(path: string, flags: number): number;
  /** ioctl(fd, request, ptr) */
  ioctlPtr(fd: number, request: number, arg: Uint8Array): number;
  read(fd: number, buf: Uint8Array, len: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  /** poll on one fd; returns revents (0 on timeout), or -1. */
  poll1(fd: number, events: number, timeoutMs: number): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  listen(fd: number, backlog: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  accept4(fd: number, flags: number): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  shutdown(fd: number, how: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  /** Fills `addr` (16 octets); returns 0 or -1. */
  getsockname(fd: number, addr: Uint8Array): number;
  close(fd: number): number;
  setns(fd: number, nstype: number): number;
  /** errno of the last call that returned -1 (read right after it). */
  lastErrno: number;
  errnoName(n: number): string;
}

let cached: Sys | null = null;

/** Loads koffi and libc once; throws E_LAB_FFI with the reason when it cannot. */
export function sys(): Sys {
  if (cached !== null) return cached;
  let c: SharedLibc;
  try {
    c = libc();
  } catch (e) {
    const why = e instanceof LibcLoadError ? e.detail(true) : String(e);
    throw new TcpstateError('E_LAB_FFI', `the lab needs libc through koffi, which did not load: ${why}`);
  }
  const f = c.func;
  const fOpen = f('int open(const char *path, int flags)');
  const fIoctl = f('int ioctl(int fd, unsigned long request, ...)');
  const fRead = f('intptr_t read(int fd, void *buf, size_t count)');
  const fWrite = f('intptr_t write(int fd, const void *buf, size_t count)');
  const fPoll = f('int poll(void *fds, unsigned long nfds, int timeout)');
  const fSocket = f(PROTOTYPES.socket);
  const fBind = f(PROTOTYPES.bind);
  const fListen = f('int listen(int fd, int backlog)');
  const fConnect = f('int connect(int fd, const void *addr, uint32_t len)');
  const fAccept4 = f('int accept4(int fd, void *addr, void *len, int flags)');
  const fSend = f('intptr_t send(int fd, const void *buf, size_t len, int flags)');
  const fRecv = f(PROTOTYPES.recv);
  const fShutdown = f('int shutdown(int fd, int how)');
  const fSetsockopt = f('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
  const fGetsockname = f('int getsockname(int fd, void *addr, void *len)');
  const fClose = f(PROTOTYPES.close);
  const fSetns = f(PROTOTYPES.setns);
  const pollBuf = new Uint8Array(8);
  const pollView = new DataView(pollBuf.buffer);
  const lenBuf = new Uint8Array(4);
  const s: Sys = {
    lastErrno: 0,
    open: (p, fl) => check(fOpen(p, fl)),
    ioctlPtr: (fd, req, arg) => check(fIoctl(fd, req, 'void *', arg)),
    read: (fd, b, l) => check(fRead(fd, b, l)),
    write: (fd, b, l) => check(fWrite(fd, b, l)),
    poll1: (fd, events, timeout) => {
      pollView.setInt32(0, fd, true);
      pollView.setInt16(4, events, true);
      pollView.setInt16(6, 0, true);
      const r = check(fPoll(pollBuf, 1, Math.max(0, Math.floor(timeout))));
      return r <= 0 ? r : pollView.getInt16(6, true);
    },
    socket: (d, t, p) => check(fSocket(d, t, p)),
    bind: (fd, a, l) => check(fBind(fd, a, l)),
    listen: (fd, b) => check(fListen(fd, b)),
    connect: (fd, a, l) => check(fConnect(fd, a, l)),
    accept4: (fd, fl) => check(fAccept4(fd, null, null, fl)),
    send: (fd, b, l, fl) => check(fSend(fd, b, l, fl)),
    recv: (fd, b, l, fl) => check(fRecv(fd, b, l, fl)),
    shutdown: (fd, how) => check(fShutdown(fd, how)),
    setsockopt: (fd, lv, n, v, l) => check(fSetsockopt(fd, lv, n, v, l)),
    getsockname: (fd, a) => {
      new DataView(lenBuf.buffer).setUint32(0, a.length, true);
      return check(fGetsockname(fd, a, lenBuf));
    },
    close: (fd) => check(fClose(fd)),
    setns: (fd, t) => check(fSetns(fd, t)),
    errnoName: c.errnoName,
  };
  function check(r: unknown): number {
    const n = Number(r);
    if (n === -1) s.lastErrno = c.errno();
    return n;
  }
  cached = s;
  return s;
}

/** struct sockaddr_in for an IPv4 address (network-order number) and port. */
export function sockaddrIn(addr: number, port: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  v.setUint32(4, addr >>> 0, false);
  return b;
}

/** Reads address and port back from a struct sockaddr_in. */
export function parseSockaddrIn(b: Uint8Array): { addr: number; port: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { addr: v.getUint32(4, false), port: v.getUint16(2, false) };
}
