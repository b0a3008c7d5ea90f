/**
 * A worker of `capture FILE --ndjson` on several threads (./pipeline.ts): analyses every
 * connection of the packets the main thread decoded into the ring (the only worker), or
 * reads the whole file and analyses the connections of its shard (one of several); posts the
 * rows of finished connections every BATCH_ROWS rows (also in the middle of an expiry
 * sweep or of the end, which finish thousands at once) and after every block read from
 * the file. It waits while more than BATCHES_AHEAD batches are not yet written, so memory
 * stays bounded when writing is slower. The only worker writes its rows in place into
 * shared memory, a slot of the pool per batch (./record-row.ts), and posts the slot's
 * number; several post copies.
 */
import { parentPort } from 'node:worker_threads';
import { TcpstateError } from '../core/errors.js';
import { isProfileName, profileByName } from '../core/profile.js';
import { CaptureAnalyzer } from './analyzer.js';
import type { PipelineJob, PipelineMessage } from './pipeline.js';
import { DecodedSegment } from './decoder.js';
import { PacketRingReader } from './packet-ring.js';
import { BATCH_ROWS, BATCHES_AHEAD, poolSlot, RecordRows, ROW } from './record-row.js';

const port = parentPort;
if (port === null) throw new Error('pipeline-worker.js runs as a worker thread');
// The job comes as the first message: the worker may have started before it was known (./pipeline-start.ts).
const job = await new Promise<PipelineJob>((resolve) => port.once('message', resolve));

const rows = new RecordRows();
// One worker: the batches go through shared memory, each in the pool slot of its number.
const pool = job.pool;
if (pool !== undefined) rows.writeInto(pool, 0);
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

function post(complete: number, extra: Partial<PipelineMessage> = {}): void {
  const slot = poolSlot(posted);
  if (pool !== undefined && rows.isIn(pool, slot)) {
    port?.postMessage({ slot, used: rows.used, complete, packets: analyzer.counters.packets, ...extra } satisfies PipelineMessage);
  } else {
    const batch = rows.copy();
    port?.postMessage({ batch, complete, packets: analyzer.counters.packets, ...extra } satisfies PipelineMessage, [
      batch.rows.buffer as ArrayBuffer,
      batch.letters.buffer as ArrayBuffer,
      batch.resets.buffer as ArrayBuffer,
    ]);
  }
  posted++;
  for (;;) {
    const written = Atomics.load(job.written, job.index);
    if (posted - written <= BATCHES_AHEAD) break;
    Atomics.wait(job.written, job.index, written, 1000);
  }
  // The next slot's batch before was written out (the wait above): it can be filled again.
  if (pool !== undefined) rows.writeInto(pool, poolSlot(posted));
  else rows.clear();
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
  // Only a worker of several reads the file: the only one does not load the readers (a faster start).
  const { readCaptureFile } = await import('./reader.js');
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
