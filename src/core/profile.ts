/**
 * Behaviour profiles: the RFC as written, or what Linux does.
 *
 * rfc9293: TIME-WAIT lasts 2×MSL with MSL = 2 minutes (RFC 9293 §3.4.2), a user timeout
 *   of 5 minutes bounds retransmission (RFC 9293 §3.10.8, RFC 1122 §4.2.3.5), RTO from
 *   RFC 6298 with its 1 s floor.
 * linux: TIME_WAIT fixed at 60 s (TCP_TIMEWAIT_LEN), an orphaned FIN_WAIT_2 ends after
 *   net.ipv4.tcp_fin_timeout (60 s), retransmissions bounded by counts (tcp_syn_retries 6,
 *   tcp_synack_retries 5, tcp_retries2 15, tcp_orphan_retries 0 → 8), RTO floor 200 ms and
 *   ceiling 120 s, close() with unread data sends RST, data arriving after close() is
 *   answered with RST, and a RST kills TIME_WAIT (net.ipv4.tcp_rfc1337 = 0).
 */

export const PROFILE_NAMES = ['rfc9293', 'linux'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface Profile {
  readonly name: ProfileName;
  /** Maximum segment size we send. */
  readonly mss: number;
  /** Receive buffer, which is also the largest window we advertise. */
  readonly rcvBuffer: number;
  readonly timeWaitMs: number;
  /** FIN_WAIT_2 timeout for orphaned sockets (after close()), or null for none. */
  readonly finWait2TimeoutMs: number | null;
  readonly initialRtoMs: number;
  readonly minRtoMs: number;
  readonly maxRtoMs: number;
  /** Retransmissions of SYN before giving up (Infinity: only the user timeout applies). */
  readonly synRetries: number;
  readonly synAckRetries: number;
  readonly dataRetries: number;
  /** Retransmissions for an orphaned socket (closed by the application). */
  readonly orphanRetries: number;
  /** Abort when data stays unacknowledged this long, or null for none. */
  readonly userTimeoutMs: number | null;
  /** RFC 1337: ignore RST in TIME_WAIT (Linux net.ipv4.tcp_rfc1337). */
  readonly rfc1337: boolean;
  /** Linux tcp_close(): close() with unread received data sends RST instead of FIN. */
  readonly resetOnCloseWithUnreadData: boolean;
  /** Linux: close() (as opposed to shutdown) orphans the socket: no more reading, fin timeout. */
  readonly closeOrphans: boolean;
}

export const RFC9293_PROFILE: Profile = {
  name: 'rfc9293',
  mss: 1460,
  rcvBuffer: 65535,
  timeWaitMs: 2 * 120_000,
  finWait2TimeoutMs: null,
  initialRtoMs: 1000,
  minRtoMs: 1000,
  maxRtoMs: 60_000,
  synRetries: Infinity,
  synAckRetries: Infinity,
  dataRetries: Infinity,
  orphanRetries: Infinity,
  userTimeoutMs: 300_000,
  rfc1337: false,
  resetOnCloseWithUnreadData: false,
  closeOrphans: false,
};

export const LINUX_PROFILE: Profile = {
  name: 'linux',
  mss: 1460,
  rcvBuffer: 65535,
  timeWaitMs: 60_000,
  finWait2TimeoutMs: 60_000,
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 120_000,
  synRetries: 6,
  synAckRetries: 5,
  dataRetries: 15,
  orphanRetries: 8,
  userTimeoutMs: null,
  rfc1337: false,
  resetOnCloseWithUnreadData: true,
  closeOrphans: true,
};

export function profileByName(name: ProfileName): Profile {
  return name === 'linux' ? LINUX_PROFILE : RFC9293_PROFILE;
}

export function isProfileName(value: unknown): value is ProfileName {
  return value === 'rfc9293' || value === 'linux';
}
