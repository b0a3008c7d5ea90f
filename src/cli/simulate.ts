/**
 * `tcpstate simulate NAME|FILE [--profile linux|rfc9293] [--json]`
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BadOptionError } from '../core/errors.js';
import { isProfileName, PROFILE_NAMES } from '../core/profile.js';
import { BUILTIN_SCENARIOS, builtinScenarioNames } from '../sim/builtin.js';
import { ScenarioError, parseScenarioJson, type Scenario } from '../sim/scenario.js';
import { renderSequenceDiagram } from '../sim/sequence-diagram.js';
import { simulate, type SimResult } from '../sim/simulator.js';
import { colours, printJson } from './output.js';

interface SimulateFlags {
  readonly profile?: string;
  readonly json?: boolean;
  readonly list?: boolean;
}

/** A built-in name, or a path to a JSON scenario file. */
export function loadScenario(nameOrFile: string): Scenario {
  const builtin = BUILTIN_SCENARIOS.get(nameOrFile);
  if (builtin !== undefined) return builtin;
  let text: string;
  try {
    text = readFileSync(nameOrFile, 'utf8');
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !nameOrFile.includes('/') && !nameOrFile.endsWith('.json')) {
      throw new ScenarioError(
        nameOrFile,
        `no built-in scenario or file by that name; built-ins: ${builtinScenarioNames().join(', ')}`,
      );
    }
    const why = err instanceof Error ? err.message : String(err);
    throw new ScenarioError(nameOrFile, `cannot read scenario file: ${why}`);
  }
  return parseScenarioJson(text, nameOrFile);
}

/** The JSON document of `simulate --json`. */
export function simulationJson(r: SimResult): object {
  return {
    name: r.name,
    profile: r.profile,
    delayMs: r.delayMs,
    transitions: r.transitions.map((t) => ({ at: t.at, endpoint: t.endpoint, from: t.from, to: t.to, cause: t.cause })),
    segments: r.segments.map((s) => ({
      at: s.at,
      from: s.from,
      to: s.to,
      flags: s.flags,
      seq: s.seq,
      ack: s.ack,
      len: s.len,
      window: s.window,
      dropped: s.dropped,
      injected: s.injected,
    })),
    notifications: r.notifications,
    final: r.final,
    endMs: r.endMs,
    truncated: r.truncated,
  };
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('run a scenario through two RFC 9293 endpoints and show the exchange with both states')
    .argument('[scenario]', `a built-in name (see --list) or a JSON scenario file`)
    .option('--profile <name>', `behaviour profile: ${PROFILE_NAMES.join(' or ')} (overrides the scenario)`)
    .option('--json', 'print { transitions, segments, final } as JSON')
    .option('--list', 'list the built-in scenarios')
    .action((name: string | undefined, flags: SimulateFlags) => {
      if (flags.list === true || name === undefined) {
        const c = colours();
        for (const [n, s] of BUILTIN_SCENARIOS) process.stdout.write(`${c.bold(n.padEnd(22))} ${s.description}\n`);
        return;
      }
      if (flags.profile !== undefined && !isProfileName(flags.profile)) {
        throw new BadOptionError('--profile', flags.profile, PROFILE_NAMES.join(' or '));
      }
      const scenario = loadScenario(name);
      const profile = flags.profile !== undefined && isProfileName(flags.profile) ? flags.profile : scenario.profile;
      const result = simulate(scenario, { profile });
      if (flags.json === true) {
        printJson(simulationJson(result));
        return;
      }
      const c = colours();
      const lines = renderSequenceDiagram(result, scenario.description, c);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
