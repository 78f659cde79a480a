/**
 * What every command needs, resolved once: configuration, terminal, output and the Temporal settings (resolved by
 * client/connect.ts; Azure access is in ./azure.ts). Explicit settings win; otherwise a running `cutover dev`
 * environment is used; otherwise the public defaults. Cheap to load: the Temporal SDK only when a command connects.
 */
import { type CutoverConfig, loadConfig, type TerminalSettings, terminalSettings } from '../config/env';
import type { TemporalAccess, TemporalSettings } from '../client/connect';
import { type DevEnvironment, readDevEnvironment } from '../worker/dev-env';
import { createOutput, type Output, type OutputFormat } from './output';

export interface GlobalOptions {
  readonly output?: OutputFormat;
  readonly address?: string;
  readonly namespace?: string;
  readonly taskQueue?: string;
}

export interface CliContext {
  readonly config: CutoverConfig;
  readonly terminal: TerminalSettings;
  readonly out: Output;
  /** The running local dev environment, when one is up and nothing explicit overrides it. */
  readonly dev?: DevEnvironment;
  readonly globals: GlobalOptions;
}

export function createContext(
  globals: GlobalOptions,
  config: CutoverConfig = loadConfig(),
  terminal: TerminalSettings = terminalSettings(),
): CliContext {
  const out = createOutput(globals.output ?? 'text', terminal);
  const dev = readDevEnvironment(config.home);
  return { config, terminal, out, globals, ...(dev ? { dev } : {}) };
}

/** Which Temporal this invocation talks to: the flags, the configuration, a running `cutover dev`. */
export function temporalSettings(ctx: Pick<CliContext, 'config' | 'dev' | 'globals'>): TemporalSettings {
  return { config: ctx.config, overrides: ctx.globals, ...(ctx.dev ? { dev: ctx.dev } : {}) };
}

/** Runs `fn` with a Temporal client resolved for this invocation, closing it afterwards. */
export async function withTemporal<T>(ctx: CliContext, fn: (t: TemporalAccess) => Promise<T>): Promise<T> {
  const { withClient } = await import('../client/connect.js');
  return withClient(temporalSettings(ctx), fn);
}
