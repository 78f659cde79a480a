/**
 * Output discipline: data on stdout (text or JSON), messages on stderr, no colour when not a TTY or in JSON mode.
 */
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

export function createOutput(format: OutputFormat, stdout = process.stdout, stderr = process.stderr): Output {
  const color = format === 'text' && !!stderr.isTTY && !process.env.NO_COLOR;
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
