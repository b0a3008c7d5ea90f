/**
 * Every rule's thresholds with their defaults and what each one means. Counts are
 * sockets; shares are fractions of a kernel limit (0..1); deltas are counter increases
 * between the two observations of `--sample`. Overridden by a config file (`--config`)
 * and by `--set rule.key=value`; `tcpstate doctor --thresholds` prints this table.
 */

export const RULE_IDS = [
  'time-wait-pileup',
  'ephemeral-port-exhaustion',
  'close-wait-leak',
  'fin-wait-1-stuck',
  'fin-wait-2-orphans',
  'syn-recv-flood',
  'accept-queue-overflow',
  'syn-sent-stalled',
  'last-ack-stuck',
  'orphan-pressure',
] as const;

export type RuleId = (typeof RULE_IDS)[number];

export function isRuleId(v: string): v is RuleId {
  return (RULE_IDS as readonly string[]).includes(v);
}

/** How a threshold is validated: a whole count ≥ 0, or a share in (0, 1]. */
export type ThresholdKind = 'count' | 'share';

interface Doc {
  readonly kind: ThresholdKind;
  readonly meaning: string;
}

const count = (meaning: string): Doc => ({ kind: 'count', meaning });
const share = (meaning: string): Doc => ({ kind: 'share', meaning });

export const THRESHOLD_DOCS = {
  'time-wait-pileup': {
    warning: count('TIME_WAIT sockets in all for a warning'),
    bucketsWarning: share('share of net.ipv4.tcp_max_tw_buckets for a warning'),
    bucketsCritical: share('share of net.ipv4.tcp_max_tw_buckets for critical (beyond the limit the kernel skips TIME_WAIT)'),
    portMin: count('TIME_WAIT on one local port before its share is judged (info)'),
    portShare: share("share of a local port's connections in TIME_WAIT for info"),
  },
  'ephemeral-port-exhaustion': {
    warning: share('share of ip_local_port_range used from one local address to one remote ip:port, warning'),
    critical: share('same share, critical'),
  },
  'close-wait-leak': {
    info: count('CLOSE_WAIT sockets for info'),
    warning: count('CLOSE_WAIT sockets for a warning'),
    critical: count('CLOSE_WAIT sockets for critical'),
    growthWarning: count('CLOSE_WAIT growth over the sample (in all or for one process) for a warning'),
  },
  'fin-wait-1-stuck': {
    info: count('FIN_WAIT_1 with data queued or zero-window probing, for info'),
    warning: count('same, for a warning'),
    critical: count('same, for critical'),
  },
  'fin-wait-2-orphans': {
    info: count('FIN_WAIT_2 sockets for info'),
    warning: count('FIN_WAIT_2 sockets for a warning'),
    critical: count('FIN_WAIT_2 sockets for critical'),
  },
  'syn-recv-flood': {
    info: count('SYN_RECEIVED sockets for info'),
    warning: count('SYN_RECEIVED sockets (from at least minSources addresses) for a warning'),
    critical: count('SYN_RECEIVED sockets (from at least minSources addresses) for critical'),
    minSources: count('distinct source addresses that make many SYN_RECEIVED a flood'),
  },
  'accept-queue-overflow': {
    fillWarning: share("a listener's accept queue (Recv-Q) as a share of its capacity (backlog + 1) for a warning"),
    deltaWarning: count('ListenOverflows or ListenDrops increase over the sample for a warning'),
  },
  'syn-sent-stalled': {
    info: count('SYN_SENT sockets to one destination for info'),
    warning: count('SYN_SENT sockets to one destination for a warning'),
    critical: count('SYN_SENT sockets to one destination for critical'),
    retransmitsInfo: count('SYN retransmissions of one SYN_SENT socket for info'),
  },
  'last-ack-stuck': {
    info: count('LAST_ACK sockets for info'),
    warning: count('LAST_ACK sockets for a warning'),
    critical: count('LAST_ACK sockets for critical'),
  },
  'orphan-pressure': {
    warning: share('orphaned sockets as a share of net.ipv4.tcp_max_orphans for a warning'),
    critical: share('same share, critical'),
    abortOnMemoryWarning: count('TCPAbortOnMemory increase over the sample for a warning'),
  },
} as const satisfies { readonly [K in RuleId]: Readonly<Record<string, Doc>> };

export type Thresholds = { -readonly [K in RuleId]: { -readonly [P in keyof (typeof THRESHOLD_DOCS)[K]]: number } };

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = {
  'time-wait-pileup': { warning: 10_000, bucketsWarning: 0.5, bucketsCritical: 0.8, portMin: 20, portShare: 0.5 },
  'ephemeral-port-exhaustion': { warning: 0.5, critical: 0.8 },
  'close-wait-leak': { info: 1, warning: 50, critical: 1000, growthWarning: 5 },
  'fin-wait-1-stuck': { info: 1, warning: 100, critical: 1000 },
  'fin-wait-2-orphans': { info: 100, warning: 1000, critical: 10_000 },
  'syn-recv-flood': { info: 32, warning: 256, critical: 10_000, minSources: 16 },
  'accept-queue-overflow': { fillWarning: 0.9, deltaWarning: 1 },
  'syn-sent-stalled': { info: 5, warning: 20, critical: 200, retransmitsInfo: 2 },
  'last-ack-stuck': { info: 5, warning: 100, critical: 1000 },
  'orphan-pressure': { warning: 0.5, critical: 0.9, abortOnMemoryWarning: 1 },
};

export function cloneThresholds(t: Readonly<Thresholds>): Thresholds {
  return JSON.parse(JSON.stringify(t)) as Thresholds;
}

/** One row per threshold, for `--thresholds` and the docs. */
export function thresholdRows(t: Readonly<Thresholds> = DEFAULT_THRESHOLDS): { key: string; value: number; kind: ThresholdKind; meaning: string }[] {
  const rows: { key: string; value: number; kind: ThresholdKind; meaning: string }[] = [];
  for (const id of RULE_IDS) {
    const docs = THRESHOLD_DOCS[id] as Readonly<Record<string, Doc>>;
    const values = t[id] as Readonly<Record<string, number>>;
    for (const [k, d] of Object.entries(docs)) rows.push({ key: `${id}.${k}`, value: values[k] ?? NaN, kind: d.kind, meaning: d.meaning });
  }
  return rows;
}
