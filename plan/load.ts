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

const UNREADABLE: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** Thrown when the plan file itself cannot be read (as opposed to a file that is not a valid plan). */
export class PlanFileUnreadableError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`cannot read the plan file ${file}: ${reason}`);
    this.name = 'PlanFileUnreadableError';
  }
}

export async function loadPlanFile(file: string): Promise<MigrationPlan> {
  let size: number;
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new PlanFileUnreadableError(file, UNREADABLE[code] ?? (code || String(err)));
  }
  if (size > MAX_PLAN_BYTES)
    throw new PlanValidationError(
      [{ field: '', message: `the file is larger than ${MAX_PLAN_BYTES / 1024} KiB` }],
      file,
    );
  return parsePlanText(await readFile(file, 'utf8'), file);
}
