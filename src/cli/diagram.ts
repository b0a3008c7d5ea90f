/**
 * `tcpstate diagram [--format text|dot|svg] [--highlight STATE] [--all]`: the state
 * diagram, computed from the transition table the model moves along.
 */
import type { Command } from 'commander';
import { BadOptionError } from '../core/errors.js';
import { parseState, type TcpState } from '../core/states.js';
import { renderDot } from '../diagram/dot.js';
import { diagramEdges, type DiagramProfile } from '../diagram/layout.js';
import { renderSvg } from '../diagram/svg.js';
import { renderText } from '../diagram/text.js';
import { colours } from './output.js';

interface DiagramFlags {
  readonly format?: string;
  readonly highlight?: string;
  readonly all?: boolean;
  readonly profile?: string;
}

export const DIAGRAM_FORMATS = ['text', 'dot', 'svg'] as const;

export function register(program: Command): void {
  program
    .command('diagram')
    .description('the TCP state diagram, drawn from the same transition table the model uses')
    .option('--format <format>', `output format: ${DIAGRAM_FORMATS.join(', ')}`, 'text')
    .option('--highlight <state>', 'mark one state and the arrows entering and leaving it')
    .option('--all', 'also draw resets, aborts, timeouts and Linux-only transitions (dashed)')
    .option('--profile <profile>', 'with --all: linux (default) includes Linux-only rules, rfc leaves them out', 'linux')
    .action((flags: DiagramFlags) => {
      const format = flags.format ?? 'text';
      if (!(DIAGRAM_FORMATS as readonly string[]).includes(format)) {
        throw new BadOptionError('--format', format, DIAGRAM_FORMATS.join(', '));
      }
      const profileText = flags.profile ?? 'linux';
      if (profileText !== 'linux' && profileText !== 'rfc' && profileText !== 'rfc9293') {
        throw new BadOptionError('--profile', profileText, 'linux or rfc');
      }
      const profile: DiagramProfile = profileText === 'linux' ? 'linux' : 'rfc';
      const highlight: TcpState | undefined = flags.highlight === undefined ? undefined : parseState(flags.highlight);
      const edges = diagramEdges({ all: flags.all === true, profile });
      if (format === 'dot') {
        process.stdout.write(renderDot(edges, { highlight }));
      } else if (format === 'svg') {
        process.stdout.write(renderSvg(edges, { highlight }));
      } else {
        const width = Math.min(100, process.stdout.columns ?? 100);
        process.stdout.write(renderText(edges, { highlight, style: colours(), width }));
      }
    });
}
