/**
 * `tcpstate explain [STATE]`: every state in brief, or one state in depth with its
 * neighbours in the diagram. English or Simplified Chinese (`--lang`, else the locale).
 */
import type { Command } from 'commander';
import { BadOptionError } from '../core/errors.js';
import { parseState, type TcpState } from '../core/states.js';
import { explainJson, renderOverview, renderState } from '../explain/render.js';
import { chooseLang, colours, printJson, type Lang } from './output.js';

interface ExplainOptions {
  readonly lang?: string;
  readonly json?: boolean;
}

const MAX_WIDTH = 100;

function outputWidth(stream: NodeJS.WriteStream): number {
  const columns = stream.isTTY === true ? stream.columns : undefined;
  return columns !== undefined && columns > 0 ? Math.min(columns, MAX_WIDTH) : MAX_WIDTH;
}

function lang(flag: string | undefined): Lang {
  try {
    return chooseLang(flag);
  } catch {
    throw new BadOptionError('--lang', flag ?? '', 'en or zh');
  }
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('explain every TCP state, or one state in depth with its neighbours in the diagram')
    .argument('[state]', 'a state in any spelling: ESTABLISHED, estab, syn-recv, time-wait, FIN_WAIT1, ...')
    .option('--lang <lang>', 'en or zh (default: from LC_ALL, LC_MESSAGES or LANG)')
    .option('--json', 'print the explanation as one JSON document')
    .action((stateArg: string | undefined, options: ExplainOptions) => {
      // Parse the state first: an unknown name is a usage error whatever the other flags say.
      const state: TcpState | undefined = stateArg === undefined ? undefined : parseState(stateArg);
      const language = lang(options.lang);
      if (options.json === true) {
        printJson(explainJson(state, language));
        return;
      }
      const c = colours(process.stdout);
      const render = { width: outputWidth(process.stdout), heading: (s: string): string => c.bold(c.cyan(s)) };
      process.stdout.write(
        state === undefined ? renderOverview(language, render) : renderState(state, language, render),
      );
    });
}
