/**
 * The one-line verdict of `tcpstate` (summary): the most severe of a few quick checks on
 * one snapshot. `doctor` (with sampling, per-process evidence and advice) is the full
 * engine; these thresholds are its defaults for a single look.
 *
 * Limitations: one snapshot cannot tell growth from a steady state, and kernel counters
 * are cumulative since boot, so counters only raise `info`.
 */
import type { KernelCounters } from '../sources/kernel-counters.js';
import type { Summary } from './summary.js';

export type Severity = 'ok' | 'info' | 'warning' | 'critical';

export interface Verdict {
  readonly severity: Severity;
  readonly text: string;
  /** Every check that fired, most severe first. */
  readonly reasons: readonly { readonly severity: Severity; readonly text: string }[];
}

export const VERDICT_THRESHOLDS = {
  timeWaitWarning: 10_000,
  /** Share of net.ipv4.tcp_max_tw_buckets. */
  timeWaitBucketsCritical: 0.8,
  closeWaitWarning: 50,
  synReceivedWarning: 256,
  finWait1Warning: 100,
  lastAckWarning: 100,
  /** Share of net.ipv4.tcp_max_orphans. */
  orphanWarning: 0.5,
} as const;

const RANK: Record<Severity, number> = { ok: 0, info: 1, warning: 2, critical: 3 };

function n(x: number): string {
  return x.toLocaleString('en');
}

export function quickVerdict(
  s: Summary,
  counters: KernelCounters,
  sysctls: Readonly<Record<string, string | null>>,
): Verdict {
  const reasons: { severity: Severity; text: string }[] = [];
  const T = VERDICT_THRESHOLDS;
  const maxTw = Number(sysctls['net.ipv4.tcp_max_tw_buckets'] ?? NaN);
  const tw = s.states.TIME_WAIT;
  if (Number.isFinite(maxTw) && maxTw > 0 && tw >= T.timeWaitBucketsCritical * maxTw) {
    reasons.push({ severity: 'critical', text: `${n(tw)} TIME_WAIT, ${Math.round((100 * tw) / maxTw)}% of tcp_max_tw_buckets` });
  } else if (tw >= T.timeWaitWarning) {
    reasons.push({ severity: 'warning', text: `${n(tw)} TIME_WAIT` });
  }
  if (s.states.CLOSE_WAIT >= T.closeWaitWarning) {
    reasons.push({ severity: 'warning', text: `${n(s.states.CLOSE_WAIT)} CLOSE_WAIT (an application is not closing sockets)` });
  }
  if (s.states.SYN_RECEIVED >= T.synReceivedWarning) {
    reasons.push({ severity: 'warning', text: `${n(s.states.SYN_RECEIVED)} SYN_RECEIVED (half-open handshakes)` });
  }
  if (s.states.FIN_WAIT_1 >= T.finWait1Warning) {
    reasons.push({ severity: 'warning', text: `${n(s.states.FIN_WAIT_1)} FIN_WAIT_1 (peers not acknowledging)` });
  }
  if (s.states.LAST_ACK >= T.lastAckWarning) {
    reasons.push({ severity: 'warning', text: `${n(s.states.LAST_ACK)} LAST_ACK` });
  }
  const maxOrphans = Number(sysctls['net.ipv4.tcp_max_orphans'] ?? NaN);
  const orphans = counters.sockstat?.orphan ?? 0;
  if (Number.isFinite(maxOrphans) && maxOrphans > 0 && orphans >= T.orphanWarning * maxOrphans) {
    reasons.push({ severity: 'warning', text: `${n(orphans)} orphaned sockets of tcp_max_orphans ${n(maxOrphans)}` });
  }
  const overflows = counters.tcpExt['ListenOverflows'] ?? 0;
  if (overflows > 0) reasons.push({ severity: 'info', text: `ListenOverflows ${n(overflows)} since boot` });
  const twOverflow = counters.tcpExt['TCPTimeWaitOverflow'] ?? 0;
  if (twOverflow > 0) reasons.push({ severity: 'info', text: `TCPTimeWaitOverflow ${n(twOverflow)} since boot` });

  reasons.sort((a, b) => RANK[b.severity] - RANK[a.severity]);
  const top = reasons[0];
  if (top === undefined) return { severity: 'ok', text: 'OK: nothing unusual in this snapshot', reasons };
  const label = top.severity.toUpperCase();
  const rest = reasons.length > 1 ? ` (+${reasons.length - 1} more)` : '';
  const hint = RANK[top.severity] >= RANK.warning ? ' — run `tcpstate doctor` for evidence and advice' : '';
  return { severity: top.severity, text: `${label}: ${top.text}${rest}${hint}`, reasons };
}
