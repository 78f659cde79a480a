/** Reads a plan file from disk: size limit, YAML (or JSON) parsing with line numbers, then the schema. */
import { readFile, stat } from 'node:fs/promises';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { type MigrationPlan, parsePlan, PlanValidationError } from './schema';

/** A plan is a page of YAML; anything this large is a mistake (or an attack on the parser). */
export const MAX_PLAN_BYTES = 64 * 1024;

export function parsePlanText(text: string, source?: string): MigrationPlan {
  return parsePlan(parseYamlText(text, source), source);
}

/** A document of YAML (or JSON) with the plan's guards: size, duplicate keys, alias bombs; errors with line numbers. */
export function parseYamlText(text: string, source?: string): unknown {
  if (Buffer.byteLength(text) > MAX_PLAN_BYTES)
    throw new PlanValidationError(
      [{ field: '', message: `the file is larger than ${MAX_PLAN_BYTES / 1024} KiB` }],
      source,
    );
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new PlanValidationError(
      doc.errors.map((e) => ({ field: '', message: `not valid YAML: ${yamlReason(e, text, lines)}` })),
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
  return document;
}

/** A YAML error as one line: what is wrong in a plan author's words, and where (line and column, 1-based). */
function yamlReason(e: YAMLError, text: string, lines: LineCounter): string {
  const { line, col } = lines.linePos(e.pos[0]);
  const where = `(line ${line}, column ${col})`;
  switch (e.code) {
    case 'DUPLICATE_KEY': {
      const key = /^["']?([^:"',{}[\]\n]+?)["']?\s*:/.exec(text.slice(e.pos[0]))?.[1];
      return `${key ? `the field "${key}" is given twice` : 'a field is given twice'}; keys must be unique ${where}`;
    }
    case 'MULTIPLE_DOCS':
      return `the file holds more than one YAML document (a "---" line); a plan is one document ${where}`;
    case 'TAB_AS_INDENT':
      return `a tab indents this line; YAML indents with spaces ${where}`;
    default: {
      // The parser notices an unclosed inline list or mapping where the file (or the block) ends.
      const flow = /^Flow (sequence|map) in block collection/.exec(e.message)?.[1];
      if (flow === 'sequence') return `an inline list "[" is never closed with "]" ${where}`;
      if (flow === 'map') return `an inline mapping "{" is never closed with "}" ${where}`;
      return `${e.message.replace(/[\s:]+$/, '')} ${where}`;
    }
  }
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

export function loadPlanFile(file: string): Promise<MigrationPlan> {
  return loadYamlFile(file, parsePlan);
}

/** Reads a YAML document the user wrote (a plan, an approved-access list) and validates it with `parse`. */
export async function loadYamlFile<T>(file: string, parse: (document: unknown, source: string) => T): Promise<T> {
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
  return parse(parseYamlText(await readFile(file, 'utf8'), file), file);
}
