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

/** Characters of a non-negative integer in decimal (`String(n).length` without the string). */
export function decimalWidth(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return String(n).length;
  let w = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) w++;
  return w;
}

/** `formatAddress(a, family).length`, without making the string. */
export function addressWidth(a: SocketAddress, family: SocketRecord['family']): number {
  return a.address.length + (family === 'ipv6' ? 2 : 0) + 1 + (a.port === 0 ? 1 : decimalWidth(a.port));
}

/** `formatProcess(p).length`, without making the string. */
export function processWidth(p: ProcessRef | null): number {
  return p === null ? 0 : p.command.length + 5 + decimalWidth(p.pid) + 4 + decimalWidth(p.fd);
}
