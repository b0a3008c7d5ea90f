/** System tools the capture tests compare against: skip loudly on a laptop, fail in CI. */
import { spawnSync } from 'node:child_process';

export function have(tool: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0;
}

export const IN_CI = process.env['CI'] === 'true';

/** Returns a reason to skip, or null. In CI a missing tool is an error, not a skip. */
export function need(...tools: string[]): string | null {
  const missing = tools.filter((t) => !have(t));
  if (missing.length === 0) return null;
  const msg = `needs ${missing.join(', ')} (Debian: tcpdump, tshark, tcptrace)`;
  if (IN_CI) throw new Error(`CI=true but ${msg}`);
  console.warn(`SKIPPED: ${msg}`);
  return msg;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
