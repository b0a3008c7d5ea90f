/**
 * Drives full connection lifecycles (handshake, 1000 bytes of data, active close,
 * passive close, TIME_WAIT expiry) through two core endpoints wired back to back, and
 * reports lifecycles/s and segments/s. The peer measured in the same run is the Linux
 * TCP stack itself: the same lifecycle on loopback in a private network namespace
 * (bench/kernel-loopback.c), when root and gcc are available.
 *
 * Usage: node build/bench/lifecycles.js [lifecycles=1000000]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Endpoint, type EndpointSink } from '../src/core/endpoint.js';
import { LINUX_PROFILE } from '../src/core/profile.js';
import { copySegment, newSegment, type Segment } from '../src/core/segment.js';

/** A preallocated FIFO of segments between the two endpoints: no allocation per segment. */
class Wire {
  private readonly slots: Segment[] = Array.from({ length: 64 }, newSegment);
  private readonly to: Uint8Array = new Uint8Array(64);
  private head = 0;
  private tail = 0;
  segments = 0;

  push(seg: Readonly<Segment>, to: number): void {
    const slot = this.slots[this.tail & 63] as Segment;
    copySegment(seg, slot);
    this.to[this.tail & 63] = to;
    this.tail++;
    this.segments++;
    if (this.tail - this.head > 64) throw new Error('wire overflow');
  }

  /** Delivers until quiet. */
  drain(eps: readonly [Endpoint, Endpoint], now: number): void {
    while (this.head < this.tail) {
      const i = this.head & 63;
      this.head++;
      (eps[this.to[i] as 0 | 1] as Endpoint).segmentArrives(this.slots[i] as Segment, now);
    }
  }
}

function sinkTo(wire: Wire, peer: number): EndpointSink {
  return {
    send: (seg) => wire.push(seg, peer),
    stateChanged: () => {},
    notify: () => {},
  };
}

function runModel(lifecycles: number): { seconds: number; segments: number } {
  const wire = new Wire();
  const client = new Endpoint({ profile: LINUX_PROFILE, iss: 1 }, sinkTo(wire, 1));
  const server = new Endpoint({ profile: LINUX_PROFILE, iss: 7 }, sinkTo(wire, 0));
  const eps = [client, server] as const;
  let now = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < lifecycles; i++) {
    server.listen(now);
    client.connect(now);
    wire.drain(eps, now);
    client.send(1000, ++now);
    wire.drain(eps, now);
    client.close(++now);
    wire.drain(eps, now);
    server.close(++now);
    wire.drain(eps, now);
    now += LINUX_PROFILE.timeWaitMs;
    client.tick(now);
    if (client.state !== 'CLOSED' || server.state !== 'CLOSED') {
      throw new Error(`lifecycle ${i} ended in ${client.state}/${server.state}`);
    }
    now += 1;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, segments: wire.segments };
}

/** The kernel doing the same lifecycle on loopback, in its own network namespace. */
function runKernel(lifecycles: number): { seconds: number } | string {
  if (process.getuid?.() !== 0) return 'skipped: needs root for a private network namespace';
  const here = dirname(fileURLToPath(import.meta.url));
  const source = join(here, '..', '..', 'bench', 'kernel-loopback.c');
  if (!existsSync(source)) return `skipped: ${source} missing`;
  const dir = mkdtempSync(join(tmpdir(), 'tcpstate-bench-'));
  const bin = join(dir, 'kernel-loopback');
  try {
    try {
      execFileSync('gcc', ['-O2', '-o', bin, source], { stdio: 'pipe' });
    } catch {
      return 'skipped: gcc not available';
    }
    const out = execFileSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && ${bin} ${lifecycles}`], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    const seconds = Number(/seconds=([0-9.]+)/.exec(out)?.[1]);
    if (!Number.isFinite(seconds)) return `failed: unexpected output ${out}`;
    return { seconds };
  } finally {
    // The compiled helper goes with its directory, whatever happened.
    rmSync(dir, { recursive: true, force: true });
  }
}

const lifecycles = Number(process.argv[2] ?? 1_000_000);
const kernelLifecycles = Math.min(lifecycles, 100_000);
runModel(10_000); // warm-up
const model = runModel(lifecycles);
const kernel = runKernel(kernelLifecycles);
const modelRate = lifecycles / model.seconds;
console.log(`machine: ${process.arch}, node ${process.version}`);
console.log(
  `model:  ${lifecycles} lifecycles in ${model.seconds.toFixed(2)} s = ${Math.round(modelRate).toLocaleString('en')} lifecycles/s, ` +
    `${Math.round(model.segments / model.seconds).toLocaleString('en')} segments/s (${model.segments / lifecycles} segments each)`,
);
if (typeof kernel === 'string') {
  console.log(`kernel: ${kernel}`);
} else {
  const kernelRate = kernelLifecycles / kernel.seconds;
  console.log(
    `kernel: ${kernelLifecycles} lifecycles on loopback in ${kernel.seconds.toFixed(2)} s = ${Math.round(kernelRate).toLocaleString('en')} lifecycles/s`,
  );
  console.log(`ratio:  model / kernel loopback = ${(modelRate / kernelRate).toFixed(1)}×`);
}
