/**
 * `capture FILE --ndjson` on two threads. This thread reads the file and decodes every
 * packet (./decoder.ts), handing the decoded packets over as rows of numbers
 * (./segment-batch.ts); a worker (./pipeline-worker.ts) runs the flow table, both
 * endpoint models and the Zeek labels on them and hands finished connections back as
 * record rows (./record-row.ts); this thread turns those into lines (./row-json.ts).
 * Decoding and formatting on one side, analysis on the other: the two halves overlap.
 * The lines are those of one thread, in the same order: both streams keep packet order.
 *
 * At most a few batches are in flight (this thread waits for the worker's answers), so
 * memory stays bounded when the worker falls behind.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { TcpstateError } from '../core/errors.js';
import type { CaptureCounters } from './analyzer.js';
import type { ByteSink } from './bytes-out.js';
import { PacketDecoder } from './decoder.js';
import { CaptureReader } from './reader.js';
import type { RowBatch } from './record-row.js';
import { RowFormatter } from './row-json.js';
import { SegmentRows } from './segment-batch.js';
import { CaptureFormatError } from '../wire/pcap.js';

export interface PipelineJob {
  readonly profile: string;
  readonly idleTimeoutSec: number;
}

/** To the worker: decoded packets, or the end of the capture. */
export type PipelineRequest = { readonly rows: Float64Array; readonly used: number } | { readonly end: true };

/** From the worker, one per request: the rows of the connections finished meanwhile. */
export interface PipelineReply {
  readonly batch: RowBatch;
  /** Packets analysed so far. */
  readonly packets: number;
  /** The request's packet array, handed back for reuse. */
  readonly recycled?: Float64Array;
  /** The answer to the end: nothing more follows. */
  readonly last?: boolean;
}

export interface PipelineResult {
  readonly packets: number;
  /** The file is damaged here; every packet before it was analysed and written. */
  readonly failure: TcpstateError | null;
}

const WORKER_URL = new URL('./pipeline-worker.js', import.meta.url);
/** Decoded packets per batch, and batches in flight before this thread waits. */
const BATCH_PACKETS = 16384;
const IN_FLIGHT = 4;

function newCounters(): CaptureCounters {
  return {
    packets: 0, tcpPackets: 0, nonIp: 0, nonTcp: 0, fragments: 0, truncated: 0, unsupportedLink: 0, malformed: 0,
    connections: 0, firstTime: Number.NaN, lastTime: Number.NaN, linkTypes: {},
  };
}

/** Analyses `file` with a worker thread, writing NDJSON lines to `out` (flushed at the end). */
export async function captureNdjsonPipeline(file: string, job: PipelineJob, out: ByteSink, progress?: (done: number, total: number) => void): Promise<PipelineResult> {
  const formatter = new RowFormatter(out);
  const worker = new Worker(WORKER_URL, { workerData: job, stdout: true, stderr: true });
  const segments = new SegmentRows(BATCH_PACKETS);
  let inFlight = 0;
  let packets = 0;
  let finished = false;
  let problem: Error | null = null;
  let wake: (() => void) | null = null;
  const wait = (): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });
  const rouse = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  worker.on('message', (m: PipelineReply) => {
    try {
      inFlight--;
      packets = m.packets;
      if (m.recycled !== undefined) segments.recycle(m.recycled);
      formatter.consume(m.batch);
      if (m.last === true) finished = true;
    } catch (err: unknown) {
      problem = err instanceof Error ? err : new Error(String(err));
    }
    rouse();
  });
  worker.on('error', (err: Error) => {
    problem = err;
    rouse();
  });
  worker.on('exit', (code) => {
    if (!finished && problem === null) problem = new Error(`the capture worker thread stopped (exit code ${code}) before the end of the file`);
    rouse();
  });
  const send = (request: PipelineRequest, transfer: ArrayBuffer[]): void => {
    worker.postMessage(request, transfer);
    inFlight++;
  };
  const sendSegments = (): void => {
    const t = segments.take();
    send({ rows: t.rows, used: t.used }, [t.rows.buffer as ArrayBuffer]);
  };
  const decoder = new PacketDecoder(newCounters());
  const reader = new CaptureReader((p) => {
    decoder.decode(p, segments);
    if (segments.full) sendSegments();
  });
  let failure: TcpstateError | null = null;
  try {
    const fd = openSync(file, 'r');
    try {
      let done = 0;
      const total = fstatSync(fd).size;
      for (;;) {
        const [b, at, room] = reader.reserve(1 << 22);
        const n = readSync(fd, b, at, Math.min(room, 1 << 22), null);
        if (n === 0) break;
        done += n;
        try {
          reader.commit(n);
        } catch (err: unknown) {
          if (err instanceof CaptureFormatError) {
            failure = err;
            break;
          }
          throw err;
        }
        progress?.(done, total);
        while (inFlight >= IN_FLIGHT && problem === null) await wait();
        if (problem !== null) throw problem;
      }
      if (failure === null) {
        try {
          reader.finish();
        } catch (err: unknown) {
          if (err instanceof CaptureFormatError) failure = err;
          else throw err;
        }
      }
    } finally {
      closeSync(fd);
    }
    if (segments.used > 0) sendSegments();
    send({ end: true }, []);
    while (!finished && problem === null) await wait();
    if (problem !== null) throw problem;
  } catch (err: unknown) {
    void worker.terminate();
    throw err;
  }
  out.flush();
  return { packets, failure };
}
