/**
 * Picks the socket source: netlink sock_diag when it works, /proc/net/tcp{,6} otherwise
 * (with a notice saying why, for the CLI to print on stderr).
 */
import { TcpstateError } from '../core/errors.js';
import type { SocketSource } from '../records/socket.js';
import { openProcNet } from './proc-net.js';
import { openSockDiag } from './sock-diag.js';

export type SourcePreference = 'auto' | 'sock-diag' | 'proc';

export interface OpenedSource {
  readonly source: SocketSource;
  /** Why the preferred source was not used (auto mode fallback), else null. */
  readonly notice: string | null;
}

/**
 * `auto` opens sock_diag and probes it with an empty dump (state mask 0: the kernel
 * still looks up its TCP handler, so a missing tcp_diag module shows here and not in the
 * middle of the real dump); on any failure it falls back to /proc with a notice.
 * `sock-diag` and `proc` use only that source and let its errors through.
 */
export function openSocketSource(prefer: SourcePreference = 'auto', procRoot = '/proc/net'): OpenedSource {
  if (prefer === 'proc') return { source: openProcNet(procRoot), notice: null };
  if (prefer === 'sock-diag') return { source: openSockDiag(), notice: null };
  let source: SocketSource | null = null;
  try {
    source = openSockDiag();
    source.dump({ families: ['ipv4'], stateMask: 0, info: false }, () => undefined);
    return { source, notice: null };
  } catch (e) {
    source?.close();
    const reason = e instanceof TcpstateError ? e.message : e instanceof Error ? e.message : String(e);
    return {
      source: openProcNet(procRoot),
      notice: `netlink sock_diag is unavailable (${reason}); reading ${procRoot}/tcp and tcp6 instead (slower, no -i tcp_info, listeners show Send-Q 0)`,
    };
  }
}
