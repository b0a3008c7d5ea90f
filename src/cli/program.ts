/**
 * The tcpstate command line: parses arguments and hands over to one file per command.
 * Exit codes: 0 success, 1 runtime failure, 2 usage error (bad flag, unknown state,
 * malformed scenario). Loaded by ./main.ts, the entry point.
 */
import { Command, CommanderError } from 'commander';
import { TcpstateError } from '../core/errors.js';
import { VERSION } from './version.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

interface CommandModule {
  register(program: Command): void;
}

/**
 * Every command, loaded on demand: a run imports only the module of the command it
 * runs, so `tcpstate` does not pay for the simulator, the lab or zod at start-up.
 * The order is the order of `--help`. To add a command, add one line here.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<CommandModule>]> = [
  ['summary', () => import('./summary.js')],
  ['ls', () => import('./ls.js')],
  ['port', () => import('./port.js')],
  ['watch', () => import('./watch.js')],
  ['doctor', () => import('./doctor.js')],
  ['trace', () => import('./trace.js')],
  ['capture', () => import('./capture.js')],
  ['simulate', () => import('./simulate.js')],
  ['explain', () => import('./explain.js')],
  ['diagram', () => import('./diagram.js')],
  ['lab', () => import('./lab.js')],
];

/** The modules this command line needs: one command, or all of them for help and the unknown. */
function neededCommands(argv: readonly string[]): ReadonlyArray<readonly [string, () => Promise<CommandModule>]> {
  const first = argv[2];
  const named = COMMANDS.find(([name]) => name === first);
  if (named !== undefined) return [named];
  const wantsHelp = argv.slice(2).some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version');
  // No command, or options first: the default command (summary) with its options.
  if (!wantsHelp && (first === undefined || first.startsWith('-'))) return COMMANDS.filter(([name]) => name === 'summary');
  return COMMANDS;
}

async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command();
  program
    .name('tcpstate')
    .description('Show, explain and diagnose every TCP connection state.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const modules = await Promise.all(neededCommands(argv).map(([, load]) => load()));
  for (const m of modules) m.register(program);
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
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

// A reader that goes away (`tcpstate ls | head`) is not an error: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT_OK);
  throw err;
});

process.exitCode = await main(process.argv);
