/**
 * Plan problems: each zod issue turned into one line a plan author reads — the dotted field, and what is wrong in
 * the words of the plan reference (never zod's own wording, never the value itself), with the field meant when a
 * name is misspelt.
 */
import { z } from 'zod';
import { closestName } from './spelling';

/** One problem with a plan: where (a dotted field path, or "" for the whole file) and what. */
export interface PlanProblem {
  readonly field: string;
  readonly message: string;
}

/** Thrown when a plan is malformed; carries every problem found, not just the first. */
export class PlanValidationError extends Error {
  constructor(
    readonly problems: readonly PlanProblem[],
    readonly source?: string,
  ) {
    super(
      `${source ? `${source}: ` : ''}the plan has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p.field || '(plan)'}: ${p.message}`).join('\n'),
    );
    this.name = 'PlanValidationError';
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((k) => String(k)).join('.');
}

const EXPECTED: Readonly<Record<string, string>> = {
  object: 'a mapping of fields',
  array: 'a list',
  boolean: 'true or false',
  number: 'a number',
  string: 'text',
};

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' || typeof value === 'function') return 'a mapping';
  // Never echo text: a pasted secret in the wrong field must not end up on a terminal or in a CI log.
  if (typeof value === 'string') return 'text';
  return typeof value === 'number' || typeof value === 'boolean' ? `${typeof value} ${value}` : typeof value;
}

/** The fields a plan mapping may have at `path` (a dotted path to a mapping), for spelling suggestions. */
function knownFields(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  const objectOf = (schema: z.ZodType | undefined): z.ZodObject | undefined => {
    let s = schema;
    while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    return s instanceof z.ZodObject ? s : undefined;
  };
  let obj = objectOf(root);
  for (const key of path) obj = objectOf(obj?.shape[String(key)] as z.ZodType | undefined);
  return Object.keys(obj?.shape ?? {});
}

/** zod's default wording of a union mismatch, rewritten as the alternatives a plan author may write. */
function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  const firsts = issue.errors.map((branch) => branch[0]).filter((i) => i !== undefined);
  // A branch of the right type that failed on its own rule says best what is wrong.
  const specific = firsts.find((i) => i.code !== 'invalid_type' && i.code !== 'invalid_value');
  if (specific) return specific.message;
  const alternatives = firsts.map((i) =>
    i.code === 'invalid_type'
      ? (EXPECTED[i.expected] ?? i.expected)
      : i.code === 'invalid_value'
        ? i.values.map((v) => JSON.stringify(v)).join(' or ')
        : i.message,
  );
  return `must be ${alternatives.join(' or ')}, not ${kindOf(issue.input)}`;
}

function sizeMessage(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const small = issue.code === 'too_small';
  const limit = String(small ? issue.minimum : issue.maximum);
  const bound = small ? 'at least' : 'at most';
  if (issue.origin === 'string') return `must be ${bound} ${limit} character${limit === '1' ? '' : 's'} long`;
  if (issue.origin === 'array' || issue.origin === 'set') return `must list ${bound} ${limit}`;
  return `must be ${bound} ${limit}`;
}

/** One zod issue as the plan problems a plan author reads; `root` is the plan schema (for spelling suggestions). */
export function toProblems(issue: z.core.$ZodIssue, root: z.ZodType): PlanProblem[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => {
      const suggestion = closestName(key, knownFields(root, issue.path));
      return {
        field: fieldPath([...issue.path, key]),
        message: suggestion
          ? `is not a plan field; did you mean "${suggestion}"?`
          : 'is not a plan field (check the spelling)',
      };
    });
  const field = fieldPath(issue.path);
  if (issue.code === 'invalid_type') {
    // Without `reportInput` zod leaves `input` out, and every mistyped field would read "is required".
    if (issue.input === undefined || issue.input === null) return [{ field, message: 'is required' }];
    if (issue.message.startsWith('Invalid input'))
      return [{ field, message: `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${kindOf(issue.input)}` }];
  }
  // zod's own wording ("Invalid option: expected one of …", "Too big: …") only where the schema has none of its own.
  if (issue.code === 'invalid_value' && /^Invalid (option|input)/.test(issue.message))
    return [{ field, message: `must be ${issue.values.length > 1 ? 'one of ' : ''}${issue.values.join(', ')}` }];
  if (issue.code === 'invalid_union' && issue.message === 'Invalid input')
    return [{ field, message: unionMessage(issue) }];
  if ((issue.code === 'too_big' || issue.code === 'too_small') && /^Too (big|small)/.test(issue.message))
    return [{ field, message: sizeMessage(issue) }];
  return [{ field, message: issue.message }];
}
