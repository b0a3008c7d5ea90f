#!/usr/bin/env node
/**
 * The entry point of `tcpstate`. First, for its effect: `capture FILE --ndjson` starts
 * its worker thread (./capture-early.ts), which takes longer to start than anything else
 * in a run. Then the command line (./program.ts), loaded only now: the worker starts
 * before commander and the rest are loaded, not after (10-15 ms sooner, measured).
 */
import './capture-early.js';

await import('./program.js');
