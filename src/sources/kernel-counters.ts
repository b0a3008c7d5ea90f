/**
 * Cheap kernel counters and the sysctls that matter for TCP states:
 * /proc/net/sockstat(6), /proc/net/netstat (TcpExt), /proc/net/snmp (Tcp), and
 * /proc/sys/net/{ipv4,core}. Reading is here; parsing is in ../wire/proc-counters.ts.
 */
import { readFileSync } from 'node:fs';
import { parseSnmpTable, parseSockstat, type Sockstat } from '../wire/proc-counters.js';

export interface KernelCounters {
  readonly sockstat: Sockstat | null;
  /** TcpExt counters from /proc/net/netstat (ListenOverflows, ListenDrops, ...). */
  readonly tcpExt: Readonly<Record<string, number>>;
  /** Tcp counters from /proc/net/snmp (ActiveOpens, PassiveOpens, AttemptFails, ...). */
  readonly tcp: Readonly<Record<string, number>>;
}

export const SYSCTL_NAMES = [
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_max_tw_buckets',
  'net.ipv4.tcp_max_orphans',
  'net.core.somaxconn',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_max_syn_backlog',
  'net.ipv4.tcp_synack_retries',
  'net.ipv4.tcp_syn_retries',
  'net.ipv4.tcp_orphan_retries',
  'net.ipv4.tcp_retries2',
] as const;

export type SysctlName = (typeof SYSCTL_NAMES)[number];

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Reads counters for the namespace whose /proc/net is at `netRoot`. */
export function readKernelCounters(netRoot = '/proc/net'): KernelCounters {
  const sockstat4 = readOrNull(`${netRoot}/sockstat`);
  const sockstat6 = readOrNull(`${netRoot}/sockstat6`);
  const netstat = readOrNull(`${netRoot}/netstat`);
  const snmp = readOrNull(`${netRoot}/snmp`);
  return {
    sockstat: sockstat4 === null ? null : parseSockstat(sockstat4, sockstat6 ?? ''),
    tcpExt: netstat === null ? {} : (parseSnmpTable(netstat).get('TcpExt') ?? {}),
    tcp: snmp === null ? {} : (parseSnmpTable(snmp).get('Tcp') ?? {}),
  };
}

/** Reads the sysctls (values as text: some are pairs like the port range). Missing ones are null. */
export function readSysctls(sysRoot = '/proc/sys'): Record<SysctlName, string | null> {
  const out = {} as Record<SysctlName, string | null>;
  for (const name of SYSCTL_NAMES) {
    const text = readOrNull(`${sysRoot}/${name.replaceAll('.', '/')}`);
    out[name] = text === null ? null : text.trim().replace(/\s+/g, ' ');
  }
  return out;
}
