/**
 * A TUN device (Documentation/networking/tuntap.rst): open /dev/net/tun, TUNSETIFF with
 * IFF_TUN | IFF_NO_PI, so every read returns one IP packet the kernel routed to the
 * device and every write injects one as if it arrived on it. The device belongs to the
 * namespace of the thread that opened /dev/net/tun; it is not persistent, so it vanishes
 * when the fd closes (or the process dies).
 */
import { IFF_NO_PI, IFF_TUN, O_CLOEXEC, O_NONBLOCK, O_RDWR, POLLIN, sys, TUNSETIFF } from './sys.js';
import { LabError } from './namespace.js';

export const TUN_MTU = 1500;

export class Tun {
  readonly name: string;
  private fd: number;

  private constructor(fd: number, name: string) {
    this.fd = fd;
    this.name = name;
  }

  /** Creates the device in the calling thread's namespace. */
  static open(requested: string): Tun {
    const s = sys();
    const fd = s.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw new LabError(`cannot open /dev/net/tun: ${s.errnoName(s.lastErrno)} (is the tun module loaded?)`);
    // struct ifreq: char ifr_name[IFNAMSIZ = 16]; then the union, whose ifr_flags is a short.
    const ifr = new Uint8Array(40);
    ifr.set(new TextEncoder().encode(requested.slice(0, 15)));
    new DataView(ifr.buffer).setInt16(16, IFF_TUN | IFF_NO_PI, true);
    if (s.ioctlPtr(fd, TUNSETIFF, ifr) !== 0) {
      const why = s.errnoName(s.lastErrno);
      s.close(fd);
      throw new LabError(`TUNSETIFF ${requested} failed: ${why}`);
    }
    const end = ifr.indexOf(0);
    const name = new TextDecoder().decode(ifr.subarray(0, end < 0 ? 16 : Math.min(end, 16)));
    return new Tun(fd, name);
  }

  get open(): boolean {
    return this.fd >= 0;
  }

  /** Waits up to `timeoutMs` for a packet; true when one can be read. */
  wait(timeoutMs: number): boolean {
    if (this.fd < 0) return false;
    const r = sys().poll1(this.fd, POLLIN, timeoutMs);
    return r > 0 && (r & POLLIN) !== 0;
  }

  /** Reads one packet into `buf`; returns its length, or 0 when none is waiting. */
  read(buf: Uint8Array): number {
    if (this.fd < 0) return 0;
    const n = sys().read(this.fd, buf, buf.length);
    return n > 0 ? n : 0;
  }

  /** Writes one packet; false when the kernel refused it. */
  write(buf: Uint8Array, len: number): boolean {
    if (this.fd < 0) return false;
    return sys().write(this.fd, buf, len) === len;
  }

  close(): void {
    if (this.fd >= 0) {
      sys().close(this.fd);
      this.fd = -1;
    }
  }
}
