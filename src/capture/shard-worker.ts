/**
 * A shard worker (see ./shard.ts): reads the whole capture file, analyses the connections
 * of its shard, and posts batches of record parts and event rows to the assembling
 * thread, about every MiB of output and after every block read from the file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TcpstateError } from '../core/errors.js';
import { isProfileName, profileByName } from '../core/profile.js';
import { CaptureAnalyzer } from './analyzer.js';
import { readCaptureFile } from './reader.js';
import { ShardOutput, type ShardBatch } from './shard.js';
import type { ShardJob, ShardMessage } from './parallel.js';

const job = workerData as ShardJob;
const port = parentPort;
if (port === null) throw new Error('shard-worker.js runs as a worker thread');

const out = new ShardOutput(job.index, job.count);
const analyzer = new CaptureAnalyzer({
  profile: profileByName(isProfileName(job.profile) ? job.profile : 'linux'),
  idleTimeoutSec: job.idleTimeoutSec,
  shard: out,
});

function post(complete: number, extra: Partial<ShardMessage> = {}): void {
  const batch: ShardBatch = out.take(complete);
  const message: ShardMessage = { batch, packets: analyzer.counters.packets, ...extra };
  port?.postMessage(message, [batch.text.buffer as ArrayBuffer, batch.rows.buffer as ArrayBuffer]);
}

let failure: ShardMessage['failure'];
try {
  readCaptureFile(
    job.file,
    (p) => {
      analyzer.packet(p);
      if (out.size >= 1 << 20) post(analyzer.counters.packets + 1);
    },
    (done, total) => post(analyzer.counters.packets + 1, { progress: { done, total } }),
  );
} catch (err: unknown) {
  // Damage: what came before it is analysed and ends like a whole capture (as on one thread).
  if (err instanceof TcpstateError) failure = { code: err.code, message: err.message };
  else throw err;
}
analyzer.end();
post(Infinity, failure === undefined ? {} : { failure });
