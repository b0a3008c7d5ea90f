/**
 * Options shared by the snapshot commands (summary, ls, port, watch) and their checks.
 */
import { type Command, Option } from 'commander';
import { BadOptionError } from '../core/errors.js';
import type { SnapshotOptions } from '../live/snapshot.js';
import type { Family } from '../records/socket.js';
import type { SourcePreference } from '../sources/open-source.js';

export interface SnapshotFlags {
  readonly ipv4?: boolean;
  readonly ipv6?: boolean;
  readonly netns?: string;
  readonly source?: string;
}

export function addSnapshotOptions(cmd: Command): Command {
  return cmd
    .option('-4, --ipv4', 'IPv4 sockets only')
    .option('-6, --ipv6', 'IPv6 sockets only')
    .option('--netns <name|pid|all>', 'read another network namespace (a name from "ip netns list", a PID) or all of them')
    .addOption(
      new Option('--source <source>', 'where to read the table: sock-diag (netlink), proc (/proc/net/tcp) or auto')
        .choices(['auto', 'sock-diag', 'proc'])
        .default('auto'),
    );
}

export function families(flags: SnapshotFlags): readonly Family[] {
  if (flags.ipv4 === true && flags.ipv6 !== true) return ['ipv4'];
  if (flags.ipv6 === true && flags.ipv4 !== true) return ['ipv6'];
  return ['ipv4', 'ipv6'];
}

export function baseSnapshotOptions(flags: SnapshotFlags): SnapshotOptions {
  const source = flags.source ?? 'auto';
  if (source !== 'auto' && source !== 'sock-diag' && source !== 'proc') {
    throw new BadOptionError('--source', source, 'auto, sock-diag or proc');
  }
  return {
    families: families(flags),
    source: source as SourcePreference,
    ...(flags.netns !== undefined ? { netns: flags.netns } : {}),
  };
}

export function printNotices(notices: readonly string[]): void {
  for (const n of notices) process.stderr.write(`tcpstate: note: ${n}\n`);
}
