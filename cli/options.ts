/** What command registrations share: the runner, option parsers and help snippets. */
import { InvalidArgumentError } from 'commander';
import type { CliContext } from './context';

/** Runs a command's body with the invocation's context; main.ts reports what it throws. */
export type Run = (fn: (ctx: CliContext) => Promise<unknown>) => Promise<void>;

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0–65535)');
  return n;
}

export function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

/** "Examples:" after a command's help: real command lines, one per line. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}

export const AS_HELP = '(required unless CUTOVER_USER is set)';

/** `--run RUN_ID` of the commands that read one migration (status, watch, evidence). */
export const RUN_OPTION = [
  '--run <run-id>',
  'that run of the migration, e.g. an earlier one (see `cutover history`; default: the latest)',
] as const;

/** The argument of every command on one migration. */
export const MIGRATION_ARGUMENT = [
  '<migration>',
  'workflow id (cutover/<kind>/<subscription>/<resource group>/<app>) or the app name',
] as const;
