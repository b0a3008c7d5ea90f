/**
 * A worker of `capture FILE --ndjson` on several threads (./pipeline.ts): analyses every
 * connection of the packets the main thread decoded into the ring (the only worker), or
 * reads the whole file and analyses the connections of its shard (one of several); posts the
 * rows of finished connections every BATCH_ROWS rows (also in the middle of an expiry
 * sweep or of the end, which finish thousands at once) and after every block read from
 * the file. It waits while more than MAX_AHEAD batches are not yet written, so memory
 * stays bounded when writing is slower.
 */
import { parentPort } from 'node:worker_threads';
import { TcpstateError } from '../core/errors.js';
import { isProfileName, profileByName } from '../core/profile.js';
import { CaptureAnalyzer } from './analyzer.js';
import type { PipelineJob, PipelineMessage } from './pipeline.js';
import { DecodedSegment } from './decoder.js';
import { PacketRingReader } from './packet-ring.js';
import { readCaptureFile } from './reader.js';
import { BATCH_ROWS, RecordRows, ROW } from './record-row.js';

const port = parentPort;
if (port === null) throw new Error('pipeline-worker.js runs as a worker thread');
// The job comes as the first message: the worker may have started before it was known (./pipeline-start.ts).
const job = await new Promise<PipelineJob>((resolve) => port.once('message', resolve));

const rows = new RecordRows();
const analyzer = new CaptureAnalyzer({
  profile: profileByName(isProfileName(job.profile) ? job.profile : 'linux'),
  idleTimeoutSec: job.idleTimeoutSec,
  rows,
  ...(job.count > 1 ? { shard: { index: job.index, count: job.count } } : {}),
  // A sweep or the end finishes thousands of connections: their rows go out as they come.
  onRowsFull: (complete) => post(complete),
});

/** Batches posted; the main thread counts those it has written in `job.written[job.index]`. */
let posted = 0;
const MAX_AHEAD = 8;

function post(complete: number, extra: Partial<PipelineMessage> = {}): void {
  const batch = rows.copy();
  rows.clear();
  const message: PipelineMessage = { batch, complete, packets: analyzer.counters.packets, ...extra };
  port?.postMessage(message, [batch.rows.buffer as ArrayBuffer, batch.letters.buffer as ArrayBuffer, batch.resets.buffer as ArrayBuffer]);
  posted++;
  for (;;) {
    const written = Atomics.load(job.written, job.index);
    if (posted - written <= MAX_AHEAD) break;
    Atomics.wait(job.written, job.index, written, 1000);
  }
}

/** After each packet: a full batch goes out. */
function postWhenFull(): void {
  if (rows.used >= BATCH_ROWS * ROW) post(analyzer.counters.packets + 1);
}

let failure: PipelineMessage['failure'];
if (job.ring !== undefined) {
  // The main thread reads and decodes (./packet-ring.ts); it also knows of any damage.
  new PacketRingReader(job.ring).run(
    analyzer,
    new DecodedSegment(),
    postWhenFull,
    () => {
      if (rows.used > 0) post(analyzer.counters.packets + 1);
    },
  );
} else try {
  readCaptureFile(
    job.file,
    (p) => {
      analyzer.packet(p);
      postWhenFull();
    },
    (done, total) => post(analyzer.counters.packets + 1, { progress: { done, total } }),
  );
} catch (err: unknown) {
  // Damage: what came before it is analysed and ends like a whole capture (as on one thread).
  if (err instanceof TcpstateError) failure = { code: err.code, message: err.message };
  else throw err;
}
analyzer.end();
post(Infinity, failure === undefined ? { last: true } : { last: true, failure });
