/**
 * The few libc calls the sources need, through koffi (a prebuilt FFI: no compiler at
 * install time). Loaded lazily on first use; when koffi or libc cannot be loaded the
 * reason is kept and reported, so callers can fall back to /proc with a clear notice.
 */
import { createRequire } from 'node:module';
import { TcpstateError } from '../core/errors.js';

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

interface KoffiFunctionLike {
  (...args: unknown[]): unknown;
}
interface KoffiLibLike {
  func(definition: string): KoffiFunctionLike;
}
interface KoffiLike {
  load(path: string): KoffiLibLike;
  errno(): number;
  os: { errno: Record<string, number> };
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

/** Why the FFI cannot load, or null when it loads (loading it if not yet tried). */
export function libcUnavailableReason(): string | null {
  try {
    loadLibc();
    return null;
  } catch (e) {
    return e instanceof FfiUnavailableError ? (failure ?? e.message) : String(e);
  }
}

function build(): Libc {
  if (process.platform !== 'linux') throw new Error(`sock_diag is Linux-only (this is ${process.platform})`);
  let koffi: KoffiLike;
  try {
    koffi = createRequire(import.meta.url)('koffi') as KoffiLike;
  } catch (e) {
    throw new Error(`the koffi package did not load (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); reinstall with npm install koffi`);
  }
  let lib: KoffiLibLike;
  try {
    lib = koffi.load('libc.so.6');
  } catch (e) {
    throw new Error(`libc.so.6 did not load (${e instanceof Error ? e.message : String(e)}); musl systems are not supported yet`);
  }
  const f = (def: string): KoffiFunctionLike => lib.func(def);
  const socket = f('int socket(int domain, int type, int protocol)');
  const bind = f('int bind(int fd, const void *addr, uint32_t addrlen)');
  const sendto = f('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)');
  const recv = f('intptr_t recv(int fd, void *buf, size_t len, int flags)');
  const close = f('int close(int fd)');
  const setns = f('int setns(int fd, int nstype)');
  const names = new Map<number, string>();
  for (const [k, v] of Object.entries(koffi.os.errno)) if (!names.has(v)) names.set(v, k);
  return {
    socket: (d, t, p) => Number(socket(d, t, p)),
    bind: (fd, a, l) => Number(bind(fd, a, l)),
    sendto: (fd, b, l, fl, a, al) => Number(sendto(fd, b, l, fl, a, al)),
    recv: (fd, b, l, fl) => Number(recv(fd, b, l, fl)),
    close: (fd) => Number(close(fd)),
    setns: (fd, t) => Number(setns(fd, t)),
    errno: () => koffi.errno(),
    errnoName: (n) => names.get(n) ?? `errno ${n}`,
  };
}
