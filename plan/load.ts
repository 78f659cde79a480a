/** Reads a plan file from disk: size limit, YAML (or JSON) parsing with line numbers, then the schema. */
import { readFile, stat } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { type MigrationPlan, parsePlan, PlanValidationError } from './schema';

/** A plan is a page of YAML; anything this large is a mistake (or an attack on the parser). */
export const MAX_PLAN_BYTES = 64 * 1024;

export function parsePlanText(text: string, source?: string): MigrationPlan {
  if (Buffer.byteLength(text) > MAX_PLAN_BYTES)
    throw new PlanValidationError(
      [{ field: '', message: `the file is larger than ${MAX_PLAN_BYTES / 1024} KiB` }],
      source,
    );
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PlanValidationError(
      doc.errors.map((e) => ({ field: '', message: `not valid YAML: ${e.message.split('\n')[0]}` })),
      source,
    );
  }
  let document: unknown;
  try {
    document = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    // The yaml package refuses alias bombs ("billion laughs") with a plain ReferenceError.
    throw new PlanValidationError([{ field: '', message: `not valid YAML: ${(err as Error).message}` }], source);
  }
  return parsePlan(document, source);
}

export async function loadPlanFile(file: string): Promise<MigrationPlan> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new PlanValidationError(
      [{ field: '', message: `cannot read the plan: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }],
      file,
    );
  }
  if (size > MAX_PLAN_BYTES)
    throw new PlanValidationError(
      [{ field: '', message: `the file is larger than ${MAX_PLAN_BYTES / 1024} KiB` }],
      file,
    );
  return parsePlanText(await readFile(file, 'utf8'), file);
}
