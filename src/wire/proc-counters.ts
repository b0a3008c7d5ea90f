/**
 * Parsers for /proc/net/sockstat(6) and the two-line-per-table format of
 * /proc/net/netstat and /proc/net/snmp ("Tcp: names…" then "Tcp: values…").
 */

export interface Sockstat {
  /** Sockets in use, all protocols (sockets: used N). */
  readonly socketsUsed: number;
  /** TCP sockets in use over IPv4 (inuse) and IPv6 (TCP6 inuse). */
  readonly tcpInUse: number;
  readonly tcp6InUse: number;
  /** Orphaned sockets: closed by the application, still in the kernel. */
  readonly orphan: number;
  /** TIME_WAIT mini-sockets. */
  readonly timeWait: number;
  /** Sockets allocated. */
  readonly alloc: number;
  /** TCP memory in pages. */
  readonly memPages: number;
}

function fieldsAfter(line: string): Map<string, number> {
  const m = new Map<string, number>();
  const parts = line.split(/\s+/).filter((p) => p !== '');
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const k = parts[i];
    const v = Number(parts[i + 1]);
    if (k !== undefined && Number.isFinite(v)) m.set(k, v);
  }
  return m;
}

export function parseSockstat(v4: string, v6: string): Sockstat {
  let sockets = new Map<string, number>();
  let tcp = new Map<string, number>();
  let tcp6 = new Map<string, number>();
  for (const line of v4.split('\n')) {
    if (line.startsWith('sockets:')) sockets = fieldsAfter(line);
    else if (line.startsWith('TCP:')) tcp = fieldsAfter(line);
  }
  for (const line of v6.split('\n')) if (line.startsWith('TCP6:')) tcp6 = fieldsAfter(line);
  return {
    socketsUsed: sockets.get('used') ?? 0,
    tcpInUse: tcp.get('inuse') ?? 0,
    tcp6InUse: tcp6.get('inuse') ?? 0,
    orphan: tcp.get('orphan') ?? 0,
    timeWait: tcp.get('tw') ?? 0,
    alloc: tcp.get('alloc') ?? 0,
    memPages: tcp.get('mem') ?? 0,
  };
}

/** Parses "Name: k1 k2 …\nName: v1 v2 …" pairs into tables. */
export function parseSnmpTable(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const head = lines[i] ?? '';
    const vals = lines[i + 1] ?? '';
    const colon = head.indexOf(':');
    if (colon < 0 || !vals.startsWith(head.slice(0, colon + 1))) continue;
    const keys = head.slice(colon + 1).trim().split(/\s+/);
    const values = vals.slice(colon + 1).trim().split(/\s+/);
    const table: Record<string, number> = {};
    keys.forEach((k, j) => {
      const v = Number(values[j]);
      if (k !== '' && Number.isFinite(v)) table[k] = v;
    });
    out.set(head.slice(0, colon), table);
  }
  return out;
}
