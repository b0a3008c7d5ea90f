/**
 * Constructed snapshots for the rule tests: socket records made to order, run through
 * the same aggregator the live doctor uses, with counters and sysctls given explicitly.
 */
import type { TcpState } from '../../src/core/states.js';
import { DoctorAggregator, parsePortRange, type KernelEnv, type Observation } from '../../src/doctor/observe.js';
import type { SocketRecord, SocketTimer } from '../../src/records/socket.js';

let nextInode = 1000;

export interface SockSpec {
  state: TcpState;
  local?: string;
  lport?: number;
  remote?: string;
  rport?: number;
  recvQueue?: number;
  sendQueue?: number;
  inode?: number;
  timer?: SocketTimer | null;
  family?: 'ipv4' | 'ipv6';
}

export function sock(s: SockSpec): SocketRecord {
  const listen = s.state === 'LISTEN';
  return {
    state: s.state,
    linuxState: 0,
    family: s.family ?? 'ipv4',
    local: { address: s.local ?? '10.0.0.1', port: s.lport ?? 40000 },
    remote: { address: listen ? '0.0.0.0' : (s.remote ?? '10.0.0.2'), port: listen ? 0 : (s.rport ?? 80) },
    recvQueue: s.recvQueue ?? 0,
    sendQueue: s.sendQueue ?? 0,
    uid: 0,
    inode: s.inode ?? (s.state === 'TIME_WAIT' || s.state === 'SYN_RECEIVED' ? 0 : nextInode++),
    timer: s.timer ?? null,
    netns: null,
    process: null,
    info: null,
  };
}

/** `count` sockets from one spec, with distinct local ports unless fixed. */
export function many(count: number, spec: SockSpec | ((i: number) => SockSpec)): SocketRecord[] {
  const out: SocketRecord[] = [];
  for (let i = 0; i < count; i++) out.push(sock(typeof spec === 'function' ? spec(i) : spec));
  return out;
}

export interface EnvSpec {
  tcpExt?: Record<string, number>;
  tcp?: Record<string, number>;
  sysctls?: Record<string, string | null>;
  orphans?: number;
  memPages?: number;
  tcpMem?: readonly [number, number, number] | null;
}

export const SYSCTLS: Record<string, string | null> = {
  'net.ipv4.ip_local_port_range': '32768 60999',
  'net.ipv4.tcp_fin_timeout': '60',
  'net.ipv4.tcp_max_tw_buckets': '262144',
  'net.ipv4.tcp_max_orphans': '65536',
  'net.core.somaxconn': '4096',
  'net.ipv4.tcp_syncookies': '1',
  'net.ipv4.tcp_tw_reuse': '2',
  'net.ipv4.tcp_max_syn_backlog': '2048',
  'net.ipv4.tcp_synack_retries': '5',
  'net.ipv4.tcp_syn_retries': '6',
  'net.ipv4.tcp_orphan_retries': '0',
  'net.ipv4.tcp_retries2': '15',
};

export function envOf(e: EnvSpec = {}): KernelEnv {
  return {
    counters: {
      sockstat: { socketsUsed: 0, tcpInUse: 0, tcp6InUse: 0, orphan: e.orphans ?? 0, timeWait: 0, alloc: 0, memPages: e.memPages ?? 1 },
      tcpExt: { ListenOverflows: 0, ListenDrops: 0, TCPTimeWaitOverflow: 0, TCPAbortOnMemory: 0, SyncookiesSent: 0, TCPReqQFullDrop: 0, ...(e.tcpExt ?? {}) },
      tcp: { ActiveOpens: 0, PassiveOpens: 0, ...(e.tcp ?? {}) },
    },
    sysctls: { ...SYSCTLS, ...(e.sysctls ?? {}) },
    tcpMem: e.tcpMem === undefined ? [1000, 2000, 3000] : e.tcpMem,
  };
}

export interface ProcSpec {
  /** CLOSE_WAIT inode → owning process. */
  owners?: Map<number, { pid: number; command: string }>;
}

/** Runs records through the aggregator; with `owners`, CLOSE_WAIT inodes are attributed as /proc would. */
export function observation(records: readonly SocketRecord[], e: EnvSpec = {}, p: ProcSpec = {}): Observation {
  const env = envOf(e);
  const agg = new DoctorAggregator(parsePortRange(env.sysctls['net.ipv4.ip_local_port_range']));
  for (const r of records) agg.add(r);
  let procs = null;
  if (p.owners !== undefined) {
    const byProcess = new Map<number, { pid: number; command: string; count: number }>();
    let unattributed = 0;
    for (const inode of agg.closeWaitInodeSet) {
      const o = p.owners.get(inode);
      if (o === undefined) {
        unattributed++;
        continue;
      }
      const cur = byProcess.get(o.pid);
      if (cur === undefined) byProcess.set(o.pid, { ...o, count: 1 });
      else cur.count++;
    }
    procs = { byProcess, unattributed };
  }
  return agg.finish(env, procs);
}
