/**
 * `capture FILE --ndjson` on several threads: one worker per shard (./shard-worker.ts),
 * this thread assembling their output (./shard-merge.ts) into exactly the lines the
 * single-threaded analyzer writes. Each worker reads and decodes the whole file (the
 * page cache serves the copies) and analyses a share of the connections, so the work
 * that grows with connections and records is split while reading is not.
 */
import { Worker } from 'node:worker_threads';
import { TcpstateError } from '../core/errors.js';
import type { ByteSink } from './bytes-out.js';
import type { ShardBatch } from './shard.js';
import { ShardMerger } from './shard-merge.js';

export interface ShardJob {
  readonly file: string;
  readonly index: number;
  readonly count: number;
  readonly profile: string;
  readonly idleTimeoutSec: number;
}

export interface ShardMessage {
  readonly batch: ShardBatch;
  /** Packets read so far. */
  readonly packets: number;
  readonly progress?: { readonly done: number; readonly total: number };
  /** The capture is damaged here (every packet before it was analysed). */
  readonly failure?: { readonly code: string; readonly message: string };
}

export interface ParallelResult {
  readonly packets: number;
  readonly failure: TcpstateError | null;
}

const WORKER_URL = new URL('./shard-worker.js', import.meta.url);

/** Analyses `file` on `threads` workers, writing NDJSON lines to `out` (flushed at the end). */
export function captureNdjsonParallel(
  file: string,
  threads: number,
  options: { readonly profile: string; readonly idleTimeoutSec: number },
  out: ByteSink,
  progress?: (done: number, total: number) => void,
): Promise<ParallelResult> {
  const merger = new ShardMerger(threads, out);
  const workers: Worker[] = [];
  return new Promise<ParallelResult>((resolve, reject) => {
    let packets = 0;
    let failure: TcpstateError | null = null;
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      for (const w of workers) void w.terminate();
      reject(err);
    };
    for (let index = 0; index < threads; index++) {
      const job: ShardJob = { file, index, count: threads, ...options };
      const worker = new Worker(WORKER_URL, { workerData: job, stdout: true, stderr: true });
      workers.push(worker);
      worker.on('message', (m: ShardMessage) => {
        if (settled) return;
        try {
          if (index === 0) {
            packets = m.packets;
            if (m.progress !== undefined) progress?.(m.progress.done, m.progress.total);
            if (m.failure !== undefined) failure = new TcpstateError(m.failure.code, m.failure.message);
          }
          merger.push(index, m.batch);
          if (merger.done) {
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
        if (!settled && code !== 0) fail(new Error(`capture shard worker ${index} stopped with exit code ${code}`));
      });
    }
  });
}
