/**
 * Entering another network namespace for the duration of a read: setns(2) on the main
 * thread (through the FFI), then back to the namespace we came from. Netlink sockets
 * opened inside belong to that namespace; synchronous reads of /proc/thread-self/net
 * show it too.
 */
import { closeSync, openSync } from 'node:fs';
import { TcpstateError } from '../core/errors.js';
import { loadLibc } from './ffi-libc.js';

/** CLONE_NEWNET from <sched.h>. */
const CLONE_NEWNET = 0x40000000;

/** Runs `fn` inside the namespace of the nsfs file `path`; always switches back. */
export function inNetns<T>(path: string, fn: () => T): T {
  const libc = loadLibc();
  const home = openSync('/proc/thread-self/ns/net', 'r');
  let target: number;
  try {
    target = openSync(path, 'r');
  } catch (err: unknown) {
    closeSync(home);
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new TcpstateError(code === 'EACCES' || code === 'EPERM' ? 'E_PERMISSION' : 'E_NETNS', `cannot open namespace ${path}: ${code}`);
  }
  try {
    if (libc.setns(target, CLONE_NEWNET) !== 0) {
      const name = libc.errnoName(libc.errno());
      // A permission failure is a runtime failure (exit 1), not a usage error like a bad name.
      throw new TcpstateError(
        name === 'EPERM' ? 'E_PERMISSION' : 'E_NETNS',
        `cannot enter network namespace ${path}: ${name}${name === 'EPERM' ? ' (entering a namespace needs root: CAP_SYS_ADMIN)' : ''}`,
      );
    }
    try {
      return fn();
    } finally {
      if (libc.setns(home, CLONE_NEWNET) !== 0) {
        // Staying in the wrong namespace would make every later read lie: stop here.
        throw new TcpstateError('E_NETNS', `cannot return to the original network namespace: ${libc.errnoName(libc.errno())}`);
      }
    }
  } finally {
    closeSync(target);
    closeSync(home);
  }
}
