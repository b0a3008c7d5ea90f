/**
 * `tcpstate capture` against tshark and tcptrace on the same file in the same run.
 *
 * Writes a pcap (Ethernet, snap length 96 as `tcpdump -s 96` would) of N packets
 * (default 2,000,000): connections of 10 packets each — handshake, a request and a
 * response with payload, an active close — with 1,000 connections interleaved at any
 * time, every 50th reset instead of closed, and timestamps 100 µs apart (200 s for 2 M packets,
 * longer than TIME_WAIT, so finished connections leave memory as they would in a long capture). Then runs, one
 * after the other (bounded load) and `--rounds` times each:
 *   tcpstate capture FILE --ndjson > /dev/null
 *   tshark -q -z conv,tcp -r FILE > /dev/null
 *   tcptrace -n FILE > /dev/null
 * with /usr/bin/time for wall time and peak RSS (and NODE_EXTRA_CA_CERTS removed from
 * their environment, see ./measure.ts), and prints packets/s, peak RSS and the
 * ratios, and for each run the share of the machine's CPU time the hypervisor gave to
 * other guests meanwhile (steal, from /proc/stat): on a shared virtual machine it explains
 * runs that are slow for every tool at once. A second, 4× smaller file checks that memory follows live connections, not the
 * file size.
 *
 * `--per N` makes connections of N packets (default 10; more: a download of 1,200-octet
 * segments between handshake and close, where per-packet work outweighs per-connection work).
 * `--write FILE` only writes the capture.
 *
 * Usage: npx tsc -p tsconfig.json && npx tsc -p bench/tsconfig.json && node build/bench/capture.js [packets] [--rounds N] [--per N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIpv4, IPPROTO_TCP } from '../src/wire/ipv4.js';
import { encodeTcp } from '../src/wire/tcp.js';
import { CA_CERTS_SET, machineTicks, median, stealBetween, TOOL_ENV } from './measure.js';

const SNAP = 96;
/** Seconds between packets: 10,000 packets/s, so a 2 M-packet capture spans 200 s (> TIME_WAIT). */
const SPACING = 0.0001;

/**
 * `per` packets per connection: 10 is the short exchange (handshake, request, response,
 * close); more makes a download: the server sends 1,200-octet segments, each ACKed.
 */
function writeCapture(path: string, packets: number, per = 10): number {
  const fd = openSync(path, 'w');
  const out = new Uint8Array(1 << 22);
  let o = 0;
  const dv = new DataView(out.buffer);
  const header = new Uint8Array(24);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, 0xa1b2c3d4, true);
  hv.setUint16(4, 2, true);
  hv.setUint16(6, 4, true);
  hv.setUint32(16, SNAP, true);
  hv.setUint32(20, 1, true);
  writeSync(fd, header);
  const pkt = new Uint8Array(14 + 20 + 24 + 1500);
  pkt.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  const live = 1000;
  const PER = per;
  // Download shape: data segments between the handshake (3) and the close (3), half of them ACKs.
  const body = Math.max(0, PER - 6);
  const served = Math.ceil(body / 2) * 1200;
  let t = 1_700_000_000;
  let written = 0;
  let conn = 0;
  // Each slot is a connection in progress: which packet comes next.
  const step = new Int32Array(live);
  const id = new Int32Array(live);
  for (let i = 0; i < live; i++) id[i] = conn++;
  let slot = 0;
  while (written < packets) {
    const s = slot;
    slot = (slot * 1103515245 + 12345) % live;
    const c = id[s] as number;
    const k = step[s] as number;
    const client = (0x0a000000 | (c % 65000)) >>> 0;
    const server = 0x0a640001;
    const cport = 10000 + ((c >>> 4) % 50000);
    const iss = (c * 7919) >>> 0;
    const irs = (c * 104729) >>> 0;
    const reset = c % 50 === 0;
    // k: 0 SYN, 1 SYN-ACK, 2 ACK, 3 request 200 B, 4 ACK, 5 response 1200 B, 6 ACK, 7 FIN, 8 FIN, 9 ACK
    let fromClient = true;
    let flags = 0x10;
    let seq = 0;
    let ack = 0;
    let len = 0;
    if (PER !== 10 && k >= 3) {
      const j = k - 3;
      if (j < body) {
        const q = j >> 1;
        if (j % 2 === 0) {
          fromClient = false;
          flags = 0x18;
          seq = irs + 1 + q * 1200;
          ack = iss + 1;
          len = 1200;
        } else {
          seq = iss + 1;
          ack = irs + 1 + (q + 1) * 1200;
        }
      } else if (k === PER - 3) {
        flags = reset ? 0x14 : 0x11;
        seq = iss + 1;
        ack = irs + 1 + served;
      } else if (k === PER - 2) {
        fromClient = false;
        flags = reset ? 0x10 : 0x11;
        seq = irs + 1 + served;
        ack = iss + 2;
      } else {
        seq = iss + 2;
        ack = irs + 2 + served;
      }
    } else switch (k) {
      case 0: flags = 0x02; seq = iss; break;
      case 1: fromClient = false; flags = 0x12; seq = irs; ack = iss + 1; break;
      case 2: seq = iss + 1; ack = irs + 1; break;
      case 3: flags = 0x18; seq = iss + 1; ack = irs + 1; len = 200; break;
      case 4: fromClient = false; seq = irs + 1; ack = iss + 201; break;
      case 5: fromClient = false; flags = 0x18; seq = irs + 1; ack = iss + 201; len = 1200; break;
      case 6: seq = iss + 201; ack = irs + 1201; break;
      case 7: flags = reset ? 0x14 : 0x11; seq = iss + 201; ack = irs + 1201; break;
      case 8: fromClient = false; flags = reset ? 0x10 : 0x11; seq = irs + 1201; ack = iss + 202; break;
      default: seq = iss + 202; ack = irs + 1202;
    }
    const src = fromClient ? client : server;
    const dst = fromClient ? server : client;
    const sp = fromClient ? cport : 443;
    const dp = fromClient ? 443 : cport;
    const tcpAt = 34;
    const hl = encodeTcp(pkt, tcpAt, { srcPort: sp, dstPort: dp, seq: seq >>> 0, ack: ack >>> 0, flags, window: 64000, ...(flags & 0x02 ? { mss: 1460 } : {}) }, 0, src, dst);
    encodeIpv4(pkt, 14, { src, dst, protocol: IPPROTO_TCP, payloadLength: hl + len });
    const wire = 14 + 20 + hl + len;
    const cap = Math.min(wire, SNAP);
    if (o + 16 + cap > out.length) {
      writeSync(fd, out, 0, o);
      o = 0;
    }
    t += SPACING;
    const sec = Math.floor(t);
    dv.setUint32(o, sec, true);
    dv.setUint32(o + 4, Math.round((t - sec) * 1e6), true);
    dv.setUint32(o + 8, cap, true);
    dv.setUint32(o + 12, wire, true);
    out.set(pkt.subarray(0, cap), o + 16);
    o += 16 + cap;
    written++;
    if (k + 1 >= PER) {
      step[s] = 0;
      id[s] = conn++;
    } else {
      step[s] = k + 1;
    }
  }
  writeSync(fd, out, 0, o);
  closeSync(fd);
  return conn;
}

interface Run {
  readonly seconds: number;
  /** User + system CPU seconds: steadier than wall time on a shared machine. */
  readonly cpu: number;
  readonly rssMb: number;
  /** Share of the machine's CPU time the hypervisor gave to others during the run ("steal"). */
  readonly steal: number;
}

function timed(cmd: string, args: readonly string[]): Run {
  const before = machineTicks();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', 'nice', '-n', '5', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26, env: TOOL_ENV });
  const after = machineTicks();
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [e, u, sy, m] = last.split(' ');
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-500)}`);
  return { seconds: Number(e), cpu: Number(u) + Number(sy), rssMb: Number(m) / 1024, steal: stealBetween(before, after) };
}

function pct(x: number): string {
  return `${Math.round(x * 100)} %`;
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

const argv = process.argv.slice(2);
const packets = Number(argv.find((a, i) => /^\d+$/.test(a) && argv[i - 1] !== '--per' && argv[i - 1] !== '--rounds') ?? 2_000_000);
const ri = argv.indexOf('--rounds');
const rounds = ri >= 0 ? Number(argv[ri + 1]) : 3;
const pi = argv.indexOf('--per');
const per = pi >= 0 ? Number(argv[pi + 1]) : 10;
if (!Number.isInteger(per) || per < 10) throw new Error('--per: packets per connection, at least 10');
const wi = argv.indexOf('--write');
if (wi >= 0) {
  // Only write the capture (for profiling or other tools), then stop.
  const path = argv[wi + 1] ?? 'bench.pcap';
  writeCapture(path, packets, per);
  console.log(`wrote ${path}`);
  process.exit(0);
}
const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tcpstate-bench-capture-'));
try {
  const file = join(dir, 'bench.pcap');
  const small = join(dir, 'small.pcap');
  const conns = writeCapture(file, packets, per);
  writeCapture(small, Math.floor(packets / 2), per);
  const load0 = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
  const tools: [string, string, string[]][] = [
    ['tcpstate capture --ndjson', process.execPath, [cli, 'capture', file, '--ndjson', '--no-progress']],
    ...(have('tshark') ? [['tshark -q -z conv,tcp', 'tshark', ['-q', '-z', 'conv,tcp', '-r', file]] as [string, string, string[]]] : []),
    ...(have('tcptrace') ? [['tcptrace -n', 'tcptrace', ['-n', file]] as [string, string, string[]]] : []),
  ];
  const results = new Map<string, Run[]>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, cmd, args] of tools) {
      const run = timed(cmd, args);
      results.set(name, [...(results.get(name) ?? []), run]);
      process.stderr.write(`round ${r + 1}: ${name} ${run.seconds.toFixed(2)} s wall, ${run.cpu.toFixed(2)} s CPU, ${run.rssMb.toFixed(1)} MB, ${pct(run.steal)} steal\n`);
    }
  }
  const smallRun = timed(process.execPath, [cli, 'capture', small, '--ndjson', '--no-progress']);
  const load1 = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
  const ours = results.get('tcpstate capture --ndjson') ?? [];
  const oursS = median(ours.map((x) => x.seconds));
  const oursCpu = median(ours.map((x) => x.cpu));
  console.log(`capture: ${packets.toLocaleString('en')} packets, ${conns.toLocaleString('en')} connections of ${per} packets (1,000 live at a time), ${cpus().length} CPUs ${cpus()[0]?.model ?? ''}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; medians of ${rounds} rounds; load ${load0} → ${load1}${CA_CERTS_SET ? '; NODE_EXTRA_CA_CERTS unset for the tools (Node parses that CA bundle at every start)' : ''}`);
  console.log('| tool | median wall s | packets/s (wall) | median CPU s | packets/s (CPU) | peak RSS MB | tcpstate speed-up (wall) | (CPU) | steal |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, runs] of results) {
    const s = median(runs.map((x) => x.seconds));
    const cpu = median(runs.map((x) => x.cpu));
    const rss = median(runs.map((x) => x.rssMb));
    const mine = name.startsWith('tcpstate');
    const steal = runs.map((x) => pct(x.steal)).join(' / ');
    console.log(
      `| \`${name}\` | ${s.toFixed(2)} | ${Math.round(packets / s).toLocaleString('en')} | ${cpu.toFixed(2)} | ${Math.round(packets / cpu).toLocaleString('en')} | ${rss.toFixed(1)} | ${mine ? '' : `${(s / oursS).toFixed(2)}×`} | ${mine ? '' : `${(cpu / oursCpu).toFixed(2)}×`} | ${steal} |`,
    );
  }
  // This machine's speed drifts within a run: each round's ratio compares tools measured
  // seconds apart, so its median is steadier than the ratio of the medians above.
  for (const [name, runs] of results) {
    if (name.startsWith('tcpstate')) continue;
    const wall = median(runs.map((x, i) => x.seconds / (ours[i] as Run).seconds));
    const cpu = median(runs.map((x, i) => x.cpu / (ours[i] as Run).cpu));
    const each = runs.map((x, i) => (x.seconds / (ours[i] as Run).seconds).toFixed(2)).join(' / ');
    console.log(`round by round against \`${name}\`: median ${wall.toFixed(2)}× (wall; rounds ${each}), ${cpu.toFixed(2)}× (CPU)`);
  }
  console.log(`memory bound: the ${(packets / 2).toLocaleString('en')}-packet file (${packets / 20000} s of traffic) peaks at ${smallRun.rssMb.toFixed(1)} MB, the ${packets.toLocaleString('en')}-packet one (${packets / 10000} s) at ${median(ours.map((x) => x.rssMb)).toFixed(1)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
