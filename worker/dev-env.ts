/**
 * The local dev environment's address book. `cutover dev` writes it while it runs (and removes it on exit), so
 * that other commands in another terminal — `cutover start`, `plan show`, `approve` — find the dev server and the
 * simulator without any setting. Explicit settings (TEMPORAL_ADDRESS, CUTOVER_ARM_ENDPOINT …) always win.
 */
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';

export interface DevEnvironment {
  readonly pid: number;
  readonly startedAt: string;
  readonly temporal: { readonly address: string; readonly namespace: string; readonly uiUrl?: string };
  readonly azure: {
    readonly armEndpoint: string;
    readonly authorityHost: string;
    readonly caCertPath: string;
    readonly tenantId: string;
    readonly subscriptionId: string;
    /** 0600 JSON file holding the simulator principals' client secrets. */
    readonly credentialsFile: string;
    readonly principal: string;
    readonly controlUrl: string;
    /** The simulator's Log Analytics query and metrics endpoints (absent in files of older versions). */
    readonly logsEndpoint?: string;
    readonly metricsEndpoint?: string;
  };
  readonly taskQueue: string;
  readonly evidenceDir: string;
}

export function devEnvFile(home: string): string {
  return path.join(home, 'dev', 'environment.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running dev environment, or undefined when none runs (a stale file from a crash is ignored). */
export function readDevEnvironment(home: string): DevEnvironment | undefined {
  const file = devEnvFile(home);
  if (!existsSync(file)) return undefined;
  try {
    const env = JSON.parse(readFileSync(file, 'utf8')) as DevEnvironment;
    return alive(env.pid) ? env : undefined;
  } catch {
    return undefined;
  }
}

export function writeDevEnvironment(home: string, env: DevEnvironment): void {
  const file = devEnvFile(home);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(env, null, 2)}\n`, { mode: 0o600 });
}

export function removeDevEnvironment(home: string): void {
  rmSync(devEnvFile(home), { force: true });
}
