/**
 * The approved-access list a review compares against (YAML): who may call which accounts, whose approval it is,
 * until when and why. Every problem is listed at once, naming its entry.
 */
import { z } from 'zod';
import { PlanValidationError, toProblems } from './problems';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const entrySchema = z
  .strictObject({
    principal: z.string().regex(GUID, 'must be an Entra object id (a GUID)').optional(),
    identity: z.string().min(1).optional(),
    app: z.string().min(1).optional(),
    accounts: z.array(z.string().min(1)).min(1).default(['*']),
    owner: z.string().min(1, 'must name who approved it'),
    expires: z.string().regex(DATE, 'must be a date, YYYY-MM-DD'),
    purpose: z.string().min(1, 'must say why'),
  })
  .refine((e) => [e.principal, e.identity, e.app].filter((x) => x !== undefined).length === 1, {
    message:
      'must name exactly one of principal (object id), identity (RESOURCE_GROUP/NAME or ARM id), app (RESOURCE_GROUP/NAME)',
  });

export const approvedAccessSchema = z.strictObject({ approved: z.array(entrySchema) });

export type ApprovedAccessFile = z.output<typeof approvedAccessSchema>;

export function parseApprovedAccess(document: unknown, source?: string): ApprovedAccessFile {
  const r = approvedAccessSchema.safeParse(document, { reportInput: true });
  if (!r.success)
    throw new PlanValidationError(
      r.error.issues.flatMap((issue) => toProblems(issue, approvedAccessSchema)),
      source,
    );
  return r.data;
}
