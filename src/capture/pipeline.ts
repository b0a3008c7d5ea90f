/**
 * `capture FILE --ndjson` on several threads: workers (./pipeline-worker.ts) analyse the
 * connections, handing finished connections over as rows of numbers (./record-row.ts);
 * this thread turns the rows into lines (./row-json.ts) and writes them. With one worker,
 * this thread also reads and decodes the file into a shared ring of packet slots
 * (./packet-ring.ts; the common packet straight from its octets, any other through the
 * decoder) that the worker analyses, and the rows arrive in the order the analyzer made
 * them. With more, each worker reads and decodes the whole file, keeps the
 * connections whose 4-tuple hashes to it, and ShardMerger (./shard-merge.ts) replays
 * their rows in one analyzer's order. Either way the lines are those of one thread, in
 * the same order.
 */
import type { Worker } from 'node:worker_threads';
import { TcpstateError } from '../core/errors.js';
import { newCaptureCounters } from './counters.js';
import type { ByteSink } from './bytes-out.js';
import { PacketDecoder } from './decoder.js';
import { startPipelineWorker, takePipelineWorker } from './pipeline-start.js';
import { newPacketRing, PacketRingWriter, slotsPerBlock, type PacketRingMemory } from './packet-ring.js';
import { CaptureReader, FileFeeder } from './reader.js';
import type { PacketRecord } from '../wire/pcap.js';
import { newRowPool, poolBatch, type RowBatch, type RowPool } from './record-row.js';
import { RowFormatter } from './row-json.js';
import { ShardMerger } from './shard-merge.js';

export interface PipelineJob {
  readonly file: string;
  readonly profile: string;
  readonly idleTimeoutSec: number;
  /** This worker's shard and the number of workers. */
  readonly index: number;
  readonly count: number;
  /** Per worker, its batches written by this thread (shared memory: a worker waits when it is too far ahead). */
  readonly written: Int32Array;
  /** One worker: this thread reads and decodes the file into this ring, the worker analyses what it holds. */
  readonly ring?: PacketRingMemory;
  /** One worker: the batches of rows come through this shared memory. */
  readonly pool?: RowPool;
}

export interface PipelineMessage {
  /** The rows: a copy, or where they are in the pool (`slot`, with `used` numbers of rows). */
  readonly batch?: RowBatch;
  readonly slot?: number;
  readonly used?: number;
  /** Every row of packets before this number is in this batch or an earlier one. */
  readonly complete: number;
  /** Packets read so far. */
  readonly packets: number;
  readonly progress?: { readonly done: number; readonly total: number };
  /** The last batch: the capture is over (or damaged at `failure`, every packet before it analysed). */
  readonly last?: boolean;
  readonly failure?: { readonly code: string; readonly message: string };
}

export interface PipelineResult {
  readonly packets: number;
  readonly failure: TcpstateError | null;
}

/** Analyses `file` on `workers` worker threads while this one writes the NDJSON lines to `out` (flushed at the end). */
export function captureNdjsonPipeline(
  file: string,
  workers: number,
  options: { readonly profile: string; readonly idleTimeoutSec: number },
  out: ByteSink,
  progress?: (done: number, total: number) => void,
): Promise<PipelineResult> {
  const formatter = new RowFormatter(out);
  const merger = workers > 1 ? new ShardMerger(workers, formatter) : null;
  const written = new Int32Array(new SharedArrayBuffer(4 * workers));
  const threads: Worker[] = [];
  // One worker: it analyses, this thread reads, decodes and writes (./packet-ring.ts).
  // More: each worker reads the file itself, for its shard.
  const ring = workers === 1 ? newPacketRing(4 * slotsPerBlock(RING_BLOCK)) : null;
  // One worker: its batches of rows come through shared memory. (Several: ShardMerger keeps batches until it can replay them, so they come as copies.)
  const pool = workers === 1 ? newRowPool() : null;
  return new Promise<PipelineResult>((resolve, reject) => {
    let settled = false;
    /** Per worker: its last batch has arrived. */
    const ended: boolean[] = new Array<boolean>(workers).fill(false);
    let packets = 0;
    let failure: TcpstateError | null = null;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      for (const t of threads) void t.terminate();
      reject(err);
    };
    for (let index = 0; index < workers; index++) {
      const job: PipelineJob = { file, ...options, index, count: workers, written, ...(ring !== null ? { ring } : {}), ...(pool !== null ? { pool } : {}) };
      // The first may have been started ahead (./pipeline-start.ts); each gets its job as its first message.
      const worker = index === 0 ? takePipelineWorker() : startPipelineWorker();
      threads.push(worker);
      worker.postMessage(job);
      worker.on('message', (m: PipelineMessage) => {
        if (settled) return;
        try {
          if (index === 0) {
            packets = m.packets;
            if (m.progress !== undefined) progress?.(m.progress.done, m.progress.total);
            if (m.failure !== undefined) failure = new TcpstateError(m.failure.code, m.failure.message);
          }
          if (m.last === true && ring !== null) failure = fed; // this thread read the file
          if (m.last === true) ended[index] = true;
          if (merger === null) {
            formatter.consume(rowsOf(m, pool));
            Atomics.add(written, 0, 1);
          } else {
            merger.push(index, rowsOf(m, pool), m.complete);
            for (let i = 0; i < workers; i++) Atomics.store(written, i, merger.replayed(i));
          }
          for (let i = 0; i < workers; i++) Atomics.notify(written, i);
          if (ended.every((e) => e) && (merger === null || merger.done)) {
            settled = true;
            out.flush();
            resolve({ packets, failure });
          }
        } catch (err: unknown) {
          fail(err instanceof Error ? err : new Error(String(err)));
        }
      });
      worker.on('error', (err: Error) => fail(err));
      worker.on('exit', (code) => {
        if (!settled && ended[index] !== true) fail(new Error(`capture worker thread ${index} stopped (exit code ${code}) before the end of the file`));
      });
    }
    /** With the ring: what reading the file ended with (a damaged file's error), known before the worker's last batch. */
    let fed: TcpstateError | null = null;
    if (ring !== null) {
      feedRing(file, ring, progress).then(
        (f) => {
          fed = f;
        },
        (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
      );
    }
  });
}

/** A message's rows: its copy, or its slot of the pool. */
function rowsOf(m: PipelineMessage, pool: RowPool | null): RowBatch {
  if (m.batch !== undefined) return m.batch;
  if (pool === null || m.slot === undefined || m.used === undefined) throw new Error('capture worker thread: a batch of rows with neither a copy nor a slot of the pool');
  return poolBatch(pool, m.slot, m.used);
}

/** File octets read and decoded at a time into the ring; between blocks, lines are written. */
const RING_BLOCK = 1 << 18;

/**
 * Reads and decodes `file` into the ring, a block at a time, waiting while the ring has
 * no room for a block and letting the event loop run between blocks (the worker's rows
 * come in as messages). Returns the damaged file's error, or null; the ring is finished
 * either way.
 */
async function feedRing(file: string, memory: PacketRingMemory, progress?: (done: number, total: number) => void): Promise<TcpstateError | null> {
  const writer = new PacketRingWriter(memory);
  const decoder = new PacketDecoder(newCaptureCounters());
  let feeder: FileFeeder | null = null;
  const need = slotsPerBlock(RING_BLOCK);
  try {
    // The common packet goes into the ring without the decoder's general path.
    const visit = (p: PacketRecord): void => {
      if (writer.writeCommon(p)) decoder.clock(p);
      else decoder.decode(p, writer);
    };
    feeder = new FileFeeder(file, new CaptureReader(visit), RING_BLOCK);
    for (;;) {
      await writer.room(need);
      const more = feeder.step();
      writer.publish();
      progress?.(feeder.done, feeder.total);
      if (!more) return null;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } catch (err: unknown) {
    // Damage: the packets before it were decoded and go on to be analysed.
    if (err instanceof TcpstateError) return err;
    throw err;
  } finally {
    feeder?.close();
    writer.finish();
  }
}
