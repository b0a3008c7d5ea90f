/**
 * `capture FILE --ndjson` on two threads: a worker (./pipeline-worker.ts) reads the file
 * and analyses every connection, handing finished connections over as rows of numbers
 * (./record-row.ts); this thread turns the rows into lines (./row-json.ts) and writes
 * them. The two halves of the work overlap; the lines are those of one thread, in the
 * same order, because the rows arrive in the order the analyzer made them.
 */
import { Worker } from 'node:worker_threads';
import { TcpstateError } from '../core/errors.js';
import type { ByteSink } from './bytes-out.js';
import type { RowBatch } from './record-row.js';
import { RowFormatter } from './row-json.js';

export interface PipelineJob {
  readonly file: string;
  readonly profile: string;
  readonly idleTimeoutSec: number;
  /** Batches written by this thread (shared memory: the worker waits when it is too far ahead). */
  readonly written: Int32Array;
}

export interface PipelineMessage {
  readonly batch: RowBatch;
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

const WORKER_URL = new URL('./pipeline-worker.js', import.meta.url);

/** Analyses `file` on a worker thread while this one writes its NDJSON lines to `out` (flushed at the end). */
export function captureNdjsonPipeline(
  file: string,
  options: { readonly profile: string; readonly idleTimeoutSec: number },
  out: ByteSink,
  progress?: (done: number, total: number) => void,
): Promise<PipelineResult> {
  const formatter = new RowFormatter(out);
  const job: PipelineJob = { file, ...options, written: new Int32Array(new SharedArrayBuffer(4)) };
  return new Promise<PipelineResult>((resolve, reject) => {
    let settled = false;
    const worker = new Worker(WORKER_URL, { workerData: job, stdout: true, stderr: true });
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(err);
    };
    worker.on('message', (m: PipelineMessage) => {
      if (settled) return;
      try {
        if (m.progress !== undefined) progress?.(m.progress.done, m.progress.total);
        formatter.consume(m.batch);
        Atomics.add(job.written, 0, 1);
        Atomics.notify(job.written, 0);
        if (m.last === true) {
          settled = true;
          out.flush();
          resolve({ packets: m.packets, failure: m.failure === undefined ? null : new TcpstateError(m.failure.code, m.failure.message) });
        }
      } catch (err: unknown) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    worker.on('error', (err: Error) => fail(err));
    worker.on('exit', (code) => {
      if (!settled) fail(new Error(`the capture worker thread stopped (exit code ${code}) before the end of the file`));
    });
  });
}
