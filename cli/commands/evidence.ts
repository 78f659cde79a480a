/** `cutover evidence MIGRATION`: write the audit record of an ended migration as JSON and Markdown, and print it. */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { migrationResult, resolveMigrationRun } from '../../client/migrations';
import { evidenceFileName } from '../../contracts/ids';
import type { Evidence } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
import { examples, MIGRATION_ARGUMENT, type Run, RUN_OPTION } from '../options';
import { renderEvidenceMarkdown } from '../render';

export interface EvidenceOptions {
  readonly workflowId: string;
  /** Folder to write `<id>.json` and `<id>.md` into; the current folder by default. */
  readonly outDir?: string;
  /** One run of it (`--run`); the latest by default. */
  readonly run?: string;
}

export interface EvidenceResult {
  readonly evidence: Evidence;
  readonly jsonPath: string;
  readonly markdownPath: string;
}

/** Writes `<id>.<run>.json` and `.md` into `outDir`. */
export async function writeEvidenceFiles(evidence: Evidence, outDir: string): Promise<EvidenceResult> {
  const dir = path.resolve(outDir);
  await mkdir(dir, { recursive: true });
  const base = evidenceFileName(evidence.workflowId, evidence.runId).replace(/\.json$/, '');
  const jsonPath = path.join(dir, `${base}.json`);
  const markdownPath = path.join(dir, `${base}.md`);
  await writeFile(jsonPath, `${JSON.stringify(evidence, null, 2)}\n`);
  await writeFile(markdownPath, renderEvidenceMarkdown(evidence));
  return { evidence, jsonPath, markdownPath };
}

export async function evidenceCommand(ctx: CliContext, opts: EvidenceOptions): Promise<EvidenceResult> {
  return withTemporal(ctx, async (t) => {
    const { workflowId, runId } = await resolveMigrationRun(t, opts.workflowId, opts.run);
    const { evidence } = await migrationResult(t, workflowId, runId);
    const result = await writeEvidenceFiles(evidence, opts.outDir ?? '.');
    ctx.out.result(
      result,
      () => `${renderEvidenceMarkdown(evidence)}\nWritten: ${result.jsonPath}\n         ${result.markdownPath}`,
    );
    return result;
  });
}

export function registerEvidence(program: Command, run: Run): void {
  program
    .command('evidence')
    .argument(...MIGRATION_ARGUMENT)
    .description('Write the audit record as JSON and Markdown, and print it')
    .option('--out-dir <dir>', 'folder for the files (default: the current folder)')
    .option(...RUN_OPTION)
    .addHelpText(
      'after',
      examples(
        'cutover evidence claims-bot --out-dir ./evidence',
        'cutover evidence claims-bot --run 0f9e2a4c-6d1b-4e8a-9c3f-5b7d2e1a8c46',
      ),
    )
    .action((workflowId: string, o: Omit<EvidenceOptions, 'workflowId'>) =>
      run((ctx) => evidenceCommand(ctx, { workflowId, ...o })),
    );
}
