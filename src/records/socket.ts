/**
 * The socket record: one TCP socket of the kernel's table as every source reports it
 * (sock_diag, /proc/net/tcp) and every consumer reads it (ls, summary, port, doctor).
 */
import type { TcpState } from '../core/states.js';

export type Family = 'ipv4' | 'ipv6';

export interface SocketAddress {
  /** Textual address: dotted IPv4, RFC 5952 IPv6 (`::1`, `::ffff:10.0.0.1`). */
  readonly address: string;
  readonly port: number;
}

/** Kinds of the socket timer, as ss prints them (`timer:(on,...)`). */
export type TimerKind = 'on' | 'keepalive' | 'timewait' | 'persist';

export interface SocketTimer {
  readonly kind: TimerKind;
  /** Milliseconds until it fires (may be negative when overdue). */
  readonly expiresMs: number;
  /** Retransmissions (on), probes (keepalive/persist) so far. */
  readonly retransmits: number;
}

export interface ProcessRef {
  readonly pid: number;
  /** The process name (/proc/PID/comm), as ss -p prints it. */
  readonly command: string;
  readonly fd: number;
}

/** The tcp_info subset shown with `-i`. */
export interface TcpInfoSubset {
  readonly rttMs: number;
  readonly rttvarMs: number;
  /** Retransmissions of the current segment (tcpi_retransmits). */
  readonly retransmits: number;
  /** All retransmissions of the connection (tcpi_total_retrans). */
  readonly totalRetrans: number;
  readonly cwnd: number;
  readonly bytesAcked: number;
  readonly bytesReceived: number;
  readonly lastSendMs: number;
  readonly lastReceiveMs: number;
}

export interface SocketRecord {
  /** Canonical state id (a request socket, Linux NEW_SYN_RECV, is SYN_RECEIVED). */
  readonly state: TcpState;
  /** The raw Linux state number (1..13), kept for truthfulness (12 = request socket). */
  readonly linuxState: number;
  readonly family: Family;
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  /** Bytes not yet read by the application; for LISTEN, the accept queue length. */
  readonly recvQueue: number;
  /** Bytes not yet acknowledged by the peer; for LISTEN, the backlog. */
  readonly sendQueue: number;
  readonly uid: number;
  /** Socket inode (0 for TIME_WAIT and request sockets: they have no file). */
  readonly inode: number;
  readonly timer: SocketTimer | null;
  /** The namespace label (`default`, a /run/netns name, or `pid:N`), null when not asked. */
  readonly netns: string | null;
  /** Owning process with `-p`, null otherwise or when unknown. */
  readonly process: ProcessRef | null;
  /** tcp_info with `-i`, null otherwise or where the kernel gives none. */
  readonly info: TcpInfoSubset | null;
}

/** Where records come from. */
export type SourceName = 'sock-diag' | 'proc';

export interface DumpQuery {
  readonly families: readonly Family[];
  /** Linux state bitmask (bit n = Linux state number n); the kernel filters on it. */
  readonly stateMask: number;
  /** Ask for INET_DIAG_INFO (tcp_info). */
  readonly info: boolean;
  /** inet_diag bytecode to run in the kernel (sock-diag only; the proc source ignores it). */
  readonly bytecode?: Uint8Array;
}

/** A source streams records to a visitor, so aggregations never hold the whole table. */
export interface SocketSource {
  readonly name: SourceName;
  dump(query: DumpQuery, visit: (r: SocketRecord) => void): void;
  close(): void;
}

/** Every Linux state bit 1..12 (TCP_ESTABLISHED .. TCP_NEW_SYN_RECV). */
export const ALL_STATES_MASK = 0x1ffe;

/**
 * A record carrying only what the filter language reads (state, family, addresses), for
 * matching things that are not kernel sockets — trace events, captured connections —
 * with the same ss filter as `ls`, and the starting point of the record the netlink
 * decoder fills in place. Queues, owner and timers are empty.
 */
export function filterableRecord(state: TcpState, linuxState: number, family: Family, local: SocketAddress, remote: SocketAddress): SocketRecord {
  return {
    state,
    linuxState,
    family,
    local,
    remote,
    recvQueue: 0,
    sendQueue: 0,
    uid: 0,
    inode: 0,
    timer: null,
    netns: null,
    process: null,
    info: null,
  };
}
