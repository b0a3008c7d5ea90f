/**
 * Shared rendering helpers for the CLI: colour policy, language choice, JSON output.
 * Colour only when the stream is a TTY and NO_COLOR is not set (https://no-color.org).
 */
import pc from 'picocolors';

export type Colours = ReturnType<typeof pc.createColors>;

export function wantsColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '' && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

export function colours(stream: NodeJS.WriteStream = process.stdout): Colours {
  return pc.createColors(wantsColour(stream));
}

export type Lang = 'en' | 'zh';

/** `--lang` wins; otherwise LC_ALL, LC_MESSAGES, LANG starting with `zh` select Chinese. */
export function chooseLang(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Lang {
  if (flag !== undefined) {
    const f = flag.toLowerCase();
    if (f === 'en' || f.startsWith('en-') || f.startsWith('en_')) return 'en';
    if (f === 'zh' || f.startsWith('zh-') || f.startsWith('zh_')) return 'zh';
    throw new Error(`unknown language "${flag}" for --lang; use en or zh`);
  }
  const locale = env['LC_ALL'] || env['LC_MESSAGES'] || env['LANG'] || '';
  return locale.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
