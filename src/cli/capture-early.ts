/**
 * Imported first by ./main.ts, for its effect: when the command line looks like
 * `capture FILE --ndjson` on a file that gets a worker thread (./capture-threads.ts), the
 * worker starts now, while this thread goes on to load the command line and the command
 * (src/capture/pipeline-start.ts). Only a guess from the words: ./capture.ts decides
 * with the parsed options and drops the worker if it is not needed, so a wrong guess
 * costs a worker's start on another core, never a different result.
 */
import { prestartPipelineWorker } from '../capture/pipeline-start.js';
import { captureThreads } from './capture-threads.js';

/** Options of `capture` that take a value (the word after them is not the file); a test keeps it in step with ./capture.ts. */
export const WITH_VALUE: ReadonlySet<string> = new Set(['--idle-timeout', '--profile', '--conn', '--svg', '--threads']);
/** Options under which the lines are not written by the pipeline. */
const ELSEWHERE = new Set(['--conn', '--svg', '--timeline', '--json', '--csv', '--zeek', '--stats', '-h', '--help']);

/** The file of `capture … --ndjson …` when the pipeline would run on more than one thread, else null. */
export function pipelineFileOf(argv: readonly string[]): string | null {
  if (argv[2] !== 'capture') return null;
  const words: string[] = [];
  let ndjson = false;
  let threads: string | undefined;
  for (let i = 3; i < argv.length; i++) {
    const word = argv[i] as string;
    const [name, inline] = word.startsWith('--') ? word.split('=', 2) : [word, undefined];
    if (name === '--ndjson') ndjson = true;
    else if (ELSEWHERE.has(name as string)) return null;
    else if (WITH_VALUE.has(name as string)) {
      const value = inline ?? argv[++i];
      if (name === '--threads') threads = value;
    } else if (!word.startsWith('-') || word === '-') words.push(word);
  }
  // One word: the file, no filter (a filter prints through the report).
  const file = words.length === 1 ? (words[0] as string) : null;
  if (!ndjson || file === null || file === '-') return null;
  if (threads !== undefined && !/^[1-9]$/.test(threads)) return null;
  const n = captureThreads(file, threads);
  return n !== null && n > 1 ? file : null;
}

if (pipelineFileOf(process.argv) !== null) prestartPipelineWorker();
