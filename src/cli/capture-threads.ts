/**
 * How many threads `capture FILE --ndjson` runs on: as asked with --threads, else 2 on a
 * multi-core machine for files of 64 MiB or more (below that, starting a worker costs
 * more than it saves), else 1. Its own module: ./capture-early.ts decides with it before
 * anything else is loaded.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export const PIPELINE_MIN_OCTETS = 64 << 20;

/** Threads in all for `file` (null: the file cannot be looked at; the caller reports it). */
export function captureThreads(file: string, asked: string | undefined): number | null {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return null;
  }
  if (asked !== undefined) return Number(asked);
  return availableParallelism() > 1 && size >= PIPELINE_MIN_OCTETS ? 2 : 1;
}
