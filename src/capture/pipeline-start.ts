/**
 * Starting the worker thread of `capture FILE --ndjson` (./pipeline-worker.ts). A worker
 * takes 150–200 ms to start and load the analyzer, the longest wait of a run; so the
 * command line may start one before it has even loaded its own modules (`prestart`,
 * from src/cli/capture-early.ts), and the pipeline then takes it (`take`). A worker waits
 * for its job as its first message, so it can start before the job is known.
 */
import { Worker } from 'node:worker_threads';

const WORKER_URL = new URL('./pipeline-worker.js', import.meta.url);

/** A worker started ahead, not yet taken; and whether it has failed or stopped meanwhile. */
let early: Worker | null = null;
let earlyBroken = false;
const markBroken = (): void => {
  earlyBroken = true;
};

/** A new worker, waiting for its job. */
export function startPipelineWorker(): Worker {
  return new Worker(WORKER_URL, { stdout: true, stderr: true });
}

/**
 * Starts a worker ahead of need. It does not keep the process alive until taken: a run
 * that ends before (a bad option) exits as if it had never started.
 */
export function prestartPipelineWorker(): void {
  if (early !== null) return;
  const worker = startPipelineWorker();
  worker.unref();
  // Until taken, a failure only means the pipeline starts a worker of its own.
  worker.once('error', markBroken).once('exit', markBroken);
  early = worker;
  earlyBroken = false;
}

/** A worker for the pipeline: the one started ahead if there is one and it is sound, else a new one. */
export function takePipelineWorker(): Worker {
  const worker = early;
  early = null;
  if (worker !== null && !earlyBroken) {
    worker.off('error', markBroken).off('exit', markBroken);
    worker.ref();
    return worker;
  }
  if (worker !== null) void worker.terminate();
  return startPipelineWorker();
}

/** The run does not use the pipeline after all: the worker started ahead, if any, stops. */
export function dropPrestartedWorker(): void {
  if (early !== null) void early.terminate();
  early = null;
}
