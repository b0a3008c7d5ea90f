/**
 * Worker-thread entry of {@link startProcessScan} (processes.ts): claims units of the
 * /proc fd scan, first to last, while the main thread reads the socket table
 * (and, later, claims units too), posts what it found on the port it was given (arrays
 * transferred, not copied), then wakes the main thread through the shared control word:
 * 1 = result posted, 2 = failed (the error message posted).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { CTL_DONE, ScanSink, scanUnits, unitClaimer, type ScanPlan } from './processes.js';

interface ScanWorkerData {
  readonly plan: ScanPlan;
  readonly ctl: Int32Array;
  readonly port: MessagePort;
}

const data = workerData as ScanWorkerData;
try {
  const sink = new ScanSink(data.plan.procRoot);
  // Claim a unit before anything loads koffi: when the main thread has already taken
  // every unit it may terminate this worker at once, and terminating a thread while it
  // initialises a native addon aborts the whole process (napi_throw is fatal then).
  // Once we hold a unit, the main thread waits for our reply instead.
  const claim = unitClaimer(data.ctl, data.plan.units.length / 3, false);
  const unitCount = data.plan.units.length / 3;
  let first: number | null = claim();
  if (first < unitCount) {
    scanUnits(
      data.plan,
      () => {
        if (first !== null) {
          const u = first;
          first = null;
          return u;
        }
        return claim();
      },
      sink,
    );
  }
  const scan = sink.result();
  const transfer: ArrayBuffer[] = [];
  for (const a of [scan.inodes, scan.pids, scan.fds]) if (a.buffer instanceof ArrayBuffer) transfer.push(a.buffer);
  data.port.postMessage({ ok: true, scan }, transfer);
  Atomics.store(data.ctl, CTL_DONE, 1);
} catch (e) {
  data.port.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  Atomics.store(data.ctl, CTL_DONE, 2);
} finally {
  Atomics.notify(data.ctl, CTL_DONE);
  data.port.close();
}
