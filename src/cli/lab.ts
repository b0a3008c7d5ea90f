/**
 * `tcpstate lab STATE [--hold SECONDS] [--json]`
 * `tcpstate lab all [--json]`
 * `tcpstate lab walkthrough [--json] [--ss]`
 * `tcpstate lab problem NAME [--hold SECONDS] [--json]`
 *
 * Exit codes: 0 reproduced, 1 not reproduced or a runtime failure, 2 usage error,
 * 4 not privileged (the lab needs root: CAP_SYS_ADMIN and CAP_NET_ADMIN; nothing is created),
 * 130/143 interrupted by SIGINT/SIGTERM (after cleaning up).
 */
import type { Command } from 'commander';
import { BadOptionError } from '../core/errors.js';
import { parseState, STATE_INFO, TCP_STATES } from '../core/states.js';
import { EXIT_NO_PRIVILEGE, privilegeProblem } from '../lab/namespace.js';
import { PROBLEM_NAMES, runProblem, isProblemName } from '../lab/problems.js';
import { renderAllTable, renderStateRun, stateRunJson } from '../lab/render.js';
import { runState, type StateRunResult } from '../lab/run.js';
import { interrupted } from '../lab/session.js';
import { LAB_STATE_ORDER } from '../lab/states.js';
import { renderWalkthrough, runWalkthrough } from '../lab/walkthrough.js';
import { colours, printJson } from './output.js';

interface LabFlags {
  readonly hold?: string;
  readonly json?: boolean;
  readonly ss?: boolean;
}

function parseHold(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new BadOptionError('--hold', text, 'a number of seconds, 0 or more');
  return n;
}

function exitWith(code: number): never {
  process.exit(code);
}

function finish(ok: boolean): void {
  const sig = interrupted();
  if (sig !== null) exitWith(sig === 'SIGINT' ? 130 : 143);
  if (!ok) exitWith(1);
}

function ssHint(namespace: string): string {
  return `ip netns exec ${namespace} ss -tan`;
}

async function labState(what: string, flags: LabFlags): Promise<void> {
  const state = parseState(what);
  const hold = parseHold(flags.hold, 0);
  const c = colours();
  const err = colours(process.stderr);
  const result: StateRunResult = await runState(state, {
    holdSeconds: hold,
    onReady: (r) => {
      if (flags.json !== true) process.stdout.write(renderStateRun(r, c).join('\n') + '\n');
      if (hold > 0) {
        const to = flags.json === true ? process.stderr : process.stdout;
        const p = flags.json === true ? err : c;
        to.write(`\nholding ${r.namespace} for ${hold} s (Ctrl-C ends it); look with your own tools:\n  ${p.bold(ssHint(r.namespace))}\n`);
      }
    },
  });
  if (flags.json === true) printJson(stateRunJson(result));
  else if (hold > 0) process.stdout.write(`cleaned up ${result.namespace}\n`);
  finish(result.reproduced);
}

async function labAll(flags: LabFlags): Promise<void> {
  const started = performance.now();
  const results: StateRunResult[] = [];
  for (const state of LAB_STATE_ORDER) {
    if (interrupted() !== null) break;
    const r = await runState(state);
    results.push(r);
    if (flags.json !== true && process.stderr.isTTY === true) process.stderr.write(`\r${results.length}/${TCP_STATES.length} ${STATE_INFO[state].display}          `);
  }
  if (flags.json !== true && process.stderr.isTTY === true) process.stderr.write('\r' + ' '.repeat(40) + '\r');
  const ms = Math.round(performance.now() - started);
  const reproduced = results.filter((r) => r.reproduced).length;
  if (flags.json === true) {
    printJson({ reproduced, total: TCP_STATES.length, ms, states: results.map(stateRunJson) });
  } else {
    process.stdout.write(renderAllTable(results, colours()).join('\n') + `  (${ms} ms in all)\n`);
  }
  finish(reproduced === TCP_STATES.length);
}

export function register(program: Command): void {
  program
    .command('lab')
    .description('reproduce a TCP state on the real kernel in a private network namespace (needs root)')
    .argument('<what>', `a state (${TCP_STATES.join(', ')}; aliases ok), "all", "walkthrough" or "problem"`)
    .argument('[name]', `with "problem": ${PROBLEM_NAMES.join(', ')}`)
    .option('--hold <seconds>', 'keep the namespace this long to look with your own tools (problems: default until Ctrl-C)')
    .option('--json', 'print one JSON document')
    .option('--ss', 'walkthrough: also record what ss shows after every call')
    .addHelpText(
      'after',
      '\nExit codes: 0 reproduced, 1 not reproduced or failure, 2 usage error, 4 not root (nothing created).\n' +
        'The peer on the far side of the TUN is tcpstate\'s own RFC 9293 endpoint; it sends no TCP options, so\n' +
        'the kernel uses no window scaling, timestamps or SACK on these connections and sends 536-byte segments.',
    )
    .action(async (what: string, name: string | undefined, flags: LabFlags) => {
      const w = what.toLowerCase();
      if (w === 'problem') {
        if (name === undefined || !isProblemName(name)) {
          throw new BadOptionError('problem', name ?? '', PROBLEM_NAMES.join(', '));
        }
      } else if (w !== 'all' && w !== 'walkthrough') {
        parseState(what); // a usage error before anything else
      }
      const problem = privilegeProblem();
      if (problem !== null) {
        process.stderr.write(`tcpstate lab: ${problem}\n`);
        exitWith(EXIT_NO_PRIVILEGE);
      }
      if (w === 'all') return labAll(flags);
      if (w === 'walkthrough') {
        const r = await runWalkthrough({ ss: flags.ss === true });
        if (flags.json === true) printJson(r);
        else process.stdout.write(renderWalkthrough(r, colours()).join('\n') + '\n');
        finish(r.ok);
        return;
      }
      if (w === 'problem' && name !== undefined && isProblemName(name)) {
        const hold = parseHold(flags.hold, Infinity);
        const c = colours();
        const r = await runProblem(name, {
          holdSeconds: hold,
          onReady: (ns) => {
            const to = flags.json === true ? process.stderr : process.stdout;
            to.write(`${name} in ${ns}; look with:\n  ${ssHint(ns)}\n  ip netns exec ${ns} nstat -az\n`);
          },
          onStatus: flags.json === true ? undefined : (line) => process.stdout.write(`${c.dim(line)}\n`),
        });
        if (flags.json === true) printJson(r);
        else process.stdout.write(`${r.summary}\ncleaned up ${r.namespace}\n`);
        finish(r.produced);
        return;
      }
      return labState(what, flags);
    });
}
