/**
 * The few libc calls the socket readers need (sock_diag over netlink, setns), declared on
 * the shared libc handle (libc.ts). Loaded lazily on first use; when koffi or libc cannot
 * be loaded the reason is kept and reported, so callers can fall back to /proc with a
 * clear notice.
 */
import { TcpstateError } from '../core/errors.js';
import { libc, PROTOTYPES } from './libc.js';

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, addrlen: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array | null, addrlen: number): number;
  /** Writes into `buf` in place (koffi passes the Buffer's memory). */
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  close(fd: number): number;
  setns(fd: number, nstype: number): number;
  /** errno of the last failed call on this thread. */
  errno(): number;
  /** Symbolic name of an errno value (`EPERM`), or `errno N`. */
  errnoName(n: number): string;
}

/** Failure to load the FFI: the reason says which part (koffi, libc) and why. */
export class FfiUnavailableError extends TcpstateError {
  constructor(reason: string) {
    super('E_FFI_UNAVAILABLE', `cannot use libc through koffi: ${reason}`);
    this.name = 'FfiUnavailableError';
  }
}

let cached: Libc | null = null;
let failure: string | null = null;

/** Loads koffi and libc once; throws FfiUnavailableError (the same reason every time) on failure. */
export function loadLibc(): Libc {
  if (cached !== null) return cached;
  if (failure !== null) throw new FfiUnavailableError(failure);
  try {
    cached = build();
    return cached;
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
    throw new FfiUnavailableError(failure);
  }
}

function build(): Libc {
  if (process.platform !== 'linux') throw new Error(`sock_diag is Linux-only (this is ${process.platform})`);
  const c = libc();
  const socket = c.func(PROTOTYPES.socket);
  const bind = c.func(PROTOTYPES.bind);
  const sendto = c.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)');
  const recv = c.func(PROTOTYPES.recv);
  const close = c.func(PROTOTYPES.close);
  const setns = c.func(PROTOTYPES.setns);
  return {
    socket: (d, t, p) => Number(socket(d, t, p)),
    bind: (fd, a, l) => Number(bind(fd, a, l)),
    sendto: (fd, b, l, fl, a, al) => Number(sendto(fd, b, l, fl, a, al)),
    recv: (fd, b, l, fl) => Number(recv(fd, b, l, fl)),
    close: (fd) => Number(close(fd)),
    setns: (fd, t) => Number(setns(fd, t)),
    errno: c.errno,
    errnoName: c.errnoName,
  };
}
