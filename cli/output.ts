/**
 * Output discipline: data on stdout (text or JSON), messages on stderr, no colour when not a TTY or in JSON mode.
 */
import type { TerminalSettings } from '../config/env';

export type OutputFormat = 'text' | 'json';

export interface Output {
  readonly format: OutputFormat;
  readonly color: boolean;
  /** The command's result: JSON in json mode, else the text rendering. */
  result(value: unknown, text: () => string): void;
  /** A progress or status message for the human (stderr). */
  info(message: string): void;
  warn(message: string): void;
}

export function createOutput(
  format: OutputFormat,
  terminal: Pick<TerminalSettings, 'stderrIsTTY' | 'noColor'>,
  stdout: Pick<NodeJS.WriteStream, 'write'> = process.stdout,
  stderr: Pick<NodeJS.WriteStream, 'write'> = process.stderr,
): Output {
  // Colour only on stderr (messages), only on a terminal, never in JSON mode or under NO_COLOR.
  const color = format === 'text' && terminal.stderrIsTTY && !terminal.noColor;
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    format,
    color,
    result(value, text) {
      stdout.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    },
    info(message) {
      stderr.write(`${message}\n`);
    },
    warn(message) {
      stderr.write(`${paint('33', 'warning:')} ${message}\n`);
    },
  };
}
