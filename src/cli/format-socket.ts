/**
 * How sockets print in tables: addresses like ss (`[::1]:80`, `0.0.0.0:*`), timers like
 * ss -o, processes like ss -p.
 */
import type { ProcessRef, SocketAddress, SocketRecord, SocketTimer } from '../records/socket.js';

export function formatAddress(a: SocketAddress, family: SocketRecord['family']): string {
  const host = family === 'ipv6' ? `[${a.address}]` : a.address;
  return `${host}:${a.port === 0 ? '*' : String(a.port)}`;
}

/** ss's timer format: `on,200ms,0`, `keepalive,119min,0`, `timewait,59sec,0`. */
export function formatTimer(t: SocketTimer | null): string {
  if (t === null) return '';
  return `${t.kind},${formatDuration(t.expiresMs)},${t.retransmits}`;
}

export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)}sec`;
  if (abs < 3_600_000) return `${sign}${Math.round(abs / 60_000)}min`;
  return `${sign}${(abs / 3_600_000).toFixed(1)}h`;
}

export function formatProcess(p: ProcessRef | null): string {
  return p === null ? '' : `${p.command},pid=${p.pid},fd=${p.fd}`;
}
