/**
 * What the capture benches (./capture.ts, ./threads-ab.ts) share: the machine's stolen
 * CPU time, the environment the measured tools run in, and the median they report.
 */
import { readFileSync } from 'node:fs';

/** The machine's CPU time so far, in clock ticks: all of it and the part stolen (/proc/stat, first line). */
export function machineTicks(): { total: number; steal: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is counted in user already).
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, steal: fields[7] ?? 0 };
}

/** Share of the machine's CPU time between two `machineTicks` that the hypervisor gave to other guests. */
export function stealBetween(before: { total: number; steal: number }, after: { total: number; steal: number }): number {
  const ticks = after.total - before.total;
  return ticks > 0 ? (after.steal - before.steal) / ticks : 0;
}

/**
 * The tools' environment: this one without NODE_EXTRA_CA_CERTS. Where that is set (on
 * this project's machines, for TLS through a proxy), Node reads and parses the whole CA
 * bundle at every start, before any code of tcpstate runs: 70–100 ms a start here,
 * measured (`node -e 0`: 0.10–0.14 s with it, 0.03–0.04 s without). None of the tools
 * makes a TLS connection, and a machine without the variable does not pay it.
 */
export const CA_CERTS_SET = process.env['NODE_EXTRA_CA_CERTS'] !== undefined;
export const TOOL_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));

/** The middle value (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
