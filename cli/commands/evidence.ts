/** `cutover evidence MIGRATION`: write the audit record of an ended migration as JSON and Markdown, and print it. */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { migrationResult, resolveMigrationRun } from '../../client/migrations';
import { evidenceFileName } from '../../contracts/ids';
import type { Evidence } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
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
