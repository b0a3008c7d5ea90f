#!/usr/bin/env node
/**
 * The tcpstate command line: parses arguments and hands over to one file per command.
 * Exit codes: 0 success, 1 runtime failure, 2 usage error (bad flag, unknown state,
 * malformed scenario).
 */
import { Command, CommanderError } from 'commander';
import { TcpstateError } from '../core/errors.js';
import { register as registerDiagram } from './diagram.js';
import { register as registerExplain } from './explain.js';
import { register as registerLab } from './lab.js';
import { register as registerLs } from './ls.js';
import { register as registerPort } from './port.js';
import { register as registerSimulate } from './simulate.js';
import { register as registerSummary } from './summary.js';
import { register as registerWatch } from './watch.js';
import { VERSION } from './version.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function buildProgram(): Command {
  const program = new Command();
  program
    .name('tcpstate')
    .description('Show, explain and diagnose every TCP connection state.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerSummary(program);
  registerLs(program);
  registerPort(program);
  registerWatch(program);
  registerSimulate(program);
  registerExplain(program);
  registerDiagram(program);
  registerLab(program);
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return EXIT_OK;
  } catch (err: unknown) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" for commander; they already printed.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
        return EXIT_OK;
      }
      return EXIT_USAGE;
    }
    if (err instanceof TcpstateError) {
      process.stderr.write(`tcpstate: ${err.message}\n`);
      return err.code.startsWith('E_USAGE') || usageCodes.has(err.code) ? EXIT_USAGE : EXIT_FAILURE;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tcpstate: ${message}\n`);
    return EXIT_FAILURE;
  }
}

/** Error codes that mean the user asked for something malformed. */
const usageCodes = new Set(['E_UNKNOWN_STATE', 'E_SCENARIO', 'E_BAD_OPTION', 'E_FILTER', 'E_NETNS']);

process.exitCode = await main(process.argv);
