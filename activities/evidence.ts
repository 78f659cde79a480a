/**
 * Evidence records on disk: one JSON file per run, named after the workflow, written atomically so an auditor never
 * reads half a record. The Markdown rendering lives with the CLI (`cutover evidence`).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { evidenceFileName } from '../contracts/ids';
import type { RevokeEvidence } from '../contracts/access';
import type { FleetEvidence } from '../contracts/fleet';
import type { Evidence } from '../contracts/model';

export async function writeEvidenceFile(
  dir: string,
  evidence: Evidence | RevokeEvidence | FleetEvidence,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, evidenceFileName(evidence.workflowId, evidence.runId));
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(evidence, null, 2)}\n`, { mode: 0o640 });
  await rename(tmp, file);
  return file;
}
