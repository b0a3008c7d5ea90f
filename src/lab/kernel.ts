/**
 * The kernel's side of a scenario: BSD sockets opened by this process while its main
 * thread is inside the lab namespace, driven call by call as a C program would (all
 * non-blocking, so no call can hang the lab). Every call is recorded for the diagram
 * and the walkthrough with its result or errno.
 */
import { ipv4ToString } from '../wire/ipv4.js';
import { nextOrder } from './peer.js';
import {
  AF_INET,
  parseSockaddrIn,
  POLLIN,
  POLLOUT,
  SHUT_WR,
  SO_LINGER,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  sockaddrIn,
  sys,
} from './sys.js';

export interface CallRecord {
  readonly order: number;
  readonly at: number;
  readonly who: string;
  /** C-like text: `connect(5, 10.201.0.2:9000)`. */
  readonly call: string;
  /** `0`, `5`, `-1 EINPROGRESS`. */
  readonly result: string;
}

export type CallLog = (call: CallRecord) => void;

/** Every socket still open, closed by the lab's cleanup. */
const open = new Set<KernelSocket>();

export function closeAllKernelSockets(): void {
  for (const s of [...open]) s.forceClose();
}

export class KernelSocket {
  private constructor(
    public fd: number,
    readonly who: string,
    private readonly log: CallLog,
    private readonly clock: () => number,
  ) {
    open.add(this);
  }

  /** socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0) */
  static create(who: string, log: CallLog, clock: () => number): KernelSocket {
    const s = sys();
    const fd = s.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const result = fd < 0 ? `-1 ${s.errnoName(s.lastErrno)}` : String(fd);
    log({ order: nextOrder(), at: clock(), who, call: 'socket(AF_INET, SOCK_STREAM, 0)', result });
    if (fd < 0) throw new Error(`socket() failed: ${result}`);
    return new KernelSocket(fd, who, log, clock);
  }

  private record(call: string, r: number): number {
    const s = sys();
    this.log({ order: nextOrder(), at: this.clock(), who: this.who, call, result: r < 0 ? `-1 ${s.errnoName(s.lastErrno)}` : String(r) });
    return r;
  }

  /** The errno name of the last failed call. */
  lastError(): string {
    const s = sys();
    return s.errnoName(s.lastErrno);
  }

  reuseAddr(): void {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setInt32(0, 1, true);
    sys().setsockopt(this.fd, SOL_SOCKET, SO_REUSEADDR, v, 4);
  }

  bind(addr: number, port: number): number {
    return this.record(`bind(${this.fd}, ${ipv4ToString(addr)}:${port})`, sys().bind(this.fd, sockaddrIn(addr, port), 16));
  }

  listen(backlog: number): number {
    return this.record(`listen(${this.fd}, ${backlog})`, sys().listen(this.fd, backlog));
  }

  /** Non-blocking connect: normally -1 EINPROGRESS; `waitConnected` finishes it. */
  connect(addr: number, port: number): number {
    return this.record(`connect(${this.fd}, ${ipv4ToString(addr)}:${port})`, sys().connect(this.fd, sockaddrIn(addr, port), 16));
  }

  /** poll(POLLOUT) up to `ms`: the handshake completed (or failed). */
  writable(ms: number): boolean {
    const r = sys().poll1(this.fd, POLLOUT, ms);
    return r > 0 && (r & POLLOUT) !== 0;
  }

  readable(ms: number): boolean {
    const r = sys().poll1(this.fd, POLLIN, ms);
    return r > 0 && (r & POLLIN) !== 0;
  }

  /** accept4(); null when nothing is queued (EAGAIN). */
  accept(who: string): KernelSocket | null {
    const s = sys();
    const fd = s.accept4(this.fd, SOCK_NONBLOCK | SOCK_CLOEXEC);
    this.record(`accept(${this.fd})`, fd);
    return fd < 0 ? null : new KernelSocket(fd, who, this.log, this.clock);
  }

  send(bytes: Uint8Array): number {
    const text = bytes.length <= 16 ? JSON.stringify(new TextDecoder().decode(bytes)) : `<${bytes.length} bytes>`;
    return this.record(`send(${this.fd}, ${text})`, sys().send(this.fd, bytes, bytes.length, 0x4000 /* MSG_NOSIGNAL */));
  }

  /** recv(); returns the bytes (empty at end of stream) or null on error (errno in the log). */
  recv(max: number): Uint8Array | null {
    const buf = new Uint8Array(max);
    const n = sys().recv(this.fd, buf, max, 0);
    this.record(`recv(${this.fd})`, n);
    return n < 0 ? null : buf.subarray(0, n);
  }

  shutdownWrite(): number {
    return this.record(`shutdown(${this.fd}, SHUT_WR)`, sys().shutdown(this.fd, SHUT_WR));
  }

  /** setsockopt(SO_LINGER, {on, 0}): the next close() aborts with RST. */
  lingerZero(): number {
    const v = new Uint8Array(8);
    const dv = new DataView(v.buffer);
    dv.setInt32(0, 1, true);
    dv.setInt32(4, 0, true);
    return this.record(`setsockopt(${this.fd}, SO_LINGER, {l_onoff=1, l_linger=0})`, sys().setsockopt(this.fd, SOL_SOCKET, SO_LINGER, v, 8));
  }

  localPort(): number {
    const b = new Uint8Array(16);
    if (sys().getsockname(this.fd, b) !== 0) return 0;
    return parseSockaddrIn(b).port;
  }

  close(): number {
    if (this.fd < 0) return 0;
    const r = this.record(`close(${this.fd})`, sys().close(this.fd));
    this.fd = -1;
    open.delete(this);
    return r;
  }

  /** Cleanup without a log entry. */
  forceClose(): void {
    if (this.fd >= 0) sys().close(this.fd);
    this.fd = -1;
    open.delete(this);
  }
}
