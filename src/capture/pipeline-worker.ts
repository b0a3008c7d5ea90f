/**
 * The analysing half of `capture FILE --ndjson` on two threads (./pipeline.ts): takes
 * batches of decoded packets, runs them through the analyzer, and answers each with the
 * rows of the connections finished meanwhile (and the packet array, for reuse).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isProfileName, profileByName } from '../core/profile.js';
import { CaptureAnalyzer } from './analyzer.js';
import type { PipelineJob, PipelineReply, PipelineRequest } from './pipeline.js';
import { RecordRows } from './record-row.js';
import { replaySegments } from './segment-batch.js';

const job = workerData as PipelineJob;
const port = parentPort;
if (port === null) throw new Error('pipeline-worker.js runs as a worker thread');

const rows = new RecordRows();
const analyzer = new CaptureAnalyzer({
  profile: profileByName(isProfileName(job.profile) ? job.profile : 'linux'),
  idleTimeoutSec: job.idleTimeoutSec,
  rows,
});

port.on('message', (m: PipelineRequest) => {
  let recycled: Float64Array | undefined;
  if ('end' in m) {
    analyzer.end();
  } else {
    replaySegments(m.rows, m.used, analyzer);
    recycled = m.rows;
  }
  const batch = rows.copy();
  rows.clear();
  const reply: PipelineReply = { batch, packets: analyzer.counters.packets, ...(recycled !== undefined ? { recycled } : {}), ...('end' in m ? { last: true } : {}) };
  const transfer = [batch.rows.buffer as ArrayBuffer, batch.letters.buffer as ArrayBuffer, batch.resets.buffer as ArrayBuffer];
  if (recycled !== undefined) transfer.push(recycled.buffer as ArrayBuffer);
  port.postMessage(reply, transfer);
  if ('end' in m) port.close();
});
