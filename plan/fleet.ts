/**
 * The fleet plan: what a change manager writes to migrate an estate (YAML on disk), and the `FleetPlan` the fleet
 * workflow receives. Every caller's plan is the fleet's `defaults` with the caller's own target, account and
 * sections, validated as a migration plan of its own, so every problem of every caller is listed at once, under the
 * caller's field (`callers.3.plan.strategy.stagingSlot`).
 *
 * A caller's `plan` is merged over `defaults` one section deep: `plan: { budgets: { downtime: 3s } }` keeps the
 * defaults' other budgets; lists and plain values replace the defaults' own.
 *
 * Waves pick callers by id, by `env`, or take the rest; every caller is in exactly one wave. A failure threshold
 * (`maxFailures`, `maxFailurePercent`) becomes the number of failed callers the wave tolerates.
 */
import { z } from 'zod';
import { type FleetAccount, type FleetCaller, FLEET_ON_STOP, type FleetPlan, type FleetWave } from '../contracts/fleet';
import type { AccountRef } from '../contracts/model';
import { loadYamlFile } from './load';
import { PlanValidationError, type PlanProblem, toProblems } from './problems';
import {
  ACCOUNT_NAME,
  DEPLOYMENT_NAME,
  duration,
  GUID,
  type MigrationPlan,
  parsePlan,
  RESOURCE_GROUP,
  s,
  SLOT_NAME,
} from './schema';
import { DEFAULT_TARGET_KIND, TARGET_KIND_NAMES, type TargetKind, targetLabel } from './targets';
import { MINUTE, HOUR, DAY } from './durations';
import { MAX_CONCURRENCY, oversizedInput, oversizedWaves } from './fleet-limits';

export const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

/** Fields of a caller's migration plan that the fleet sets itself. */
const FLEET_OWNED = ['changeTicket', 'description', 'tenantId', 'subscriptionId', 'target', 'app', 'account'] as const;

const planSections = z.record(z.string(), z.unknown());

const accountSchema = z.strictObject({
  name: s(ACCOUNT_NAME, 'an Azure OpenAI account name'),
  subscriptionId: s(GUID, 'a GUID (the subscription id)'),
  resourceGroup: s(RESOURCE_GROUP, 'a resource group name'),
  deployment: s(DEPLOYMENT_NAME, 'a deployment name'),
  keySwitch: z
    .strictObject({
      disable: z.boolean().default(true),
      approval: z.boolean().default(true),
      quietPeriod: duration(0, 90 * DAY).default(HOUR),
      bake: duration(0, 7 * DAY).default(0),
    })
    .default({ disable: true, approval: true, quietPeriod: HOUR, bake: 0 }),
});

const callerSchema = z.strictObject({
  name: z.string({ error: 'must be the caller’s name' }).min(1, 'must not be empty'),
  kind: z.enum(TARGET_KIND_NAMES).default(DEFAULT_TARGET_KIND),
  slot: s(SLOT_NAME, 'a deployment slot name').optional(),
  subscriptionId: s(GUID, 'a GUID (the subscription id)').optional(),
  resourceGroup: s(RESOURCE_GROUP, 'a resource group name').optional(),
  /** The account's name; may be left out when the fleet has one account. */
  account: z.string().optional(),
  /** An environment label for waves (`dev`, `test`, `prod`). */
  env: z.string().min(1).max(64).optional(),
  /** AI Search only: which account key its skills and vectorizers hold (the plan's `target.accountKey`). */
  accountKey: z.enum(['key1', 'key2'], 'must be key1 or key2').optional(),
  /** This caller's own plan fields, merged over the defaults one section deep (`budgets: {downtime: 3s}`). */
  plan: planSections.optional(),
});

const waveSchema = z
  .strictObject({
    name: z.string().min(1, 'must not be empty').max(64),
    callers: z.array(z.string()).optional(),
    env: z.string().optional(),
    rest: z.literal(true, 'must be true (the callers no earlier wave took)').optional(),
    concurrency: z.number().int().min(1).max(MAX_CONCURRENCY).default(5),
    failureThreshold: z
      .strictObject({
        maxFailures: z.number().int().min(0).optional(),
        maxFailurePercent: z.number().min(0).max(100).optional(),
      })
      .default({ maxFailures: 0 }),
    bake: duration(0, 7 * DAY).default(0),
    approval: z.boolean().default(false),
  })
  .superRefine((w, ctx) => {
    const pickers = [w.callers !== undefined, w.env !== undefined, w.rest !== undefined].filter(Boolean).length;
    if (pickers !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'must pick its callers with exactly one of callers, env, rest',
      });
  });

/** Callers found rather than listed: key holders of the fleet's accounts that match every filter given. */
const discoverSchema = z.strictObject({
  /** Names of the fleet's accounts whose callers are discovered; all of them when left out. */
  accounts: z.array(z.string().min(1)).min(1).optional(),
  kinds: z.array(z.enum(TARGET_KIND_NAMES)).min(1).optional(),
  resourceGroups: z.array(s(RESOURCE_GROUP, 'a resource group name')).min(1).optional(),
  tags: z.record(z.string().min(1), z.string()).optional(),
  /** The tag whose value becomes a discovered caller's `env` (for waves by environment). */
  envTag: z.string().min(1).default('env'),
});

const fleetFileSchema = z.strictObject({
  version: z.literal(1, 'must be 1').default(1),
  kind: z.literal('fleet', 'must be "fleet"'),
  changeTicket: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
  description: z.string().max(2000).optional(),
  tenantId: s(GUID, 'a GUID (the Entra tenant id)'),
  defaults: planSections.default({}),
  accounts: z.array(accountSchema).min(1, 'must list at least one account'),
  discover: discoverSchema.optional(),
  callers: z.array(callerSchema).default([]),
  waves: z.array(waveSchema).min(1, 'must list at least one wave'),
  onStop: z.enum(FLEET_ON_STOP).default('finish'),
  approvals: z
    .strictObject({ fourEyes: z.boolean().default(true), timeout: duration(MINUTE / 6, 30 * DAY).default(DAY) })
    .default({ fourEyes: true, timeout: DAY }),
  continueAsNewAfterEvents: z.number().int().min(1).max(40_000).default(DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS),
});

type FleetFile = z.output<typeof fleetFileSchema> & {
  /** Each list item's index in the file (items that did not parse are left out when the file is malformed). */
  readonly at: { readonly accounts: number[]; readonly callers: number[]; readonly waves: number[] };
  /** Lists some of whose items did not parse: checks that need the whole list are left to the next round. */
  readonly partial: { readonly accounts: boolean; readonly callers: boolean };
};

/** What a fleet plan asks discovery for: the accounts (as the plan names them) and the filters. */
export interface FleetDiscoveryRequest {
  readonly accounts: readonly { readonly name: string; readonly ref: AccountRef }[];
  readonly kinds?: readonly TargetKind[];
  readonly resourceGroups?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  readonly envTag: string;
}

/**
 * The discovery a fleet document asks for, when it has a well-formed `discover` section and accounts; otherwise
 * undefined (and `parseFleetPlan` says what is wrong).
 */
export function fleetDiscovery(document: unknown): FleetDiscoveryRequest | undefined {
  if (!isSection(document) || document.discover === undefined) return undefined;
  const discover = discoverSchema.safeParse(document.discover);
  const accounts = z.array(accountSchema).min(1).safeParse(document.accounts);
  if (!discover.success || !accounts.success) return undefined;
  const named = accounts.data.map((a) => ({
    name: a.name,
    ref: { subscriptionId: a.subscriptionId.toLowerCase(), resourceGroup: a.resourceGroup, name: a.name },
  }));
  const wanted = discover.data.accounts?.map((n) => n.toLowerCase());
  const { accounts: _, ...filters } = discover.data;
  return { accounts: named.filter((a) => !wanted || wanted.includes(a.name.toLowerCase())), ...filters };
}

/**
 * The document with discovered callers added after the listed ones (a listed caller of the same name wins: its
 * own fields stay) and its `discover` section done with.
 */
export function withDiscoveredCallers(
  document: Record<string, unknown>,
  found: readonly object[],
): Record<string, unknown> {
  const listed = Array.isArray(document.callers) ? (document.callers as unknown[]) : [];
  const names = new Set(listed.map((c) => (isSection(c) && typeof c.name === 'string' ? c.name.toLowerCase() : '')));
  const added = found.filter((c) => !names.has(String((c as { name?: unknown }).name).toLowerCase()));
  const { discover: _, ...rest } = document;
  return { ...rest, callers: [...listed, ...added] };
}

/** Validates a parsed document (from YAML or JSON) and resolves it into the fleet the workflow runs. */
export function parseFleetPlan(document: unknown, source?: string): FleetPlan {
  if (!isSection(document))
    throw new PlanValidationError(
      [{ field: '', message: 'a fleet plan must be a mapping of fields (see the fleet section of the README)' }],
      source,
    );
  const result = fleetFileSchema.safeParse(document, { reportInput: true });
  const problems: PlanProblem[] = result.success
    ? []
    : result.error.issues.flatMap((issue) => toProblems(issue, fleetFileSchema));
  const file = result.success ? whole(result.data) : wellFormedParts(document);
  const accounts = resolveAccounts(file, problems);
  const callers = resolveCallers(file, accounts, problems);
  if (file.callers.length === 0 && !file.partial.callers)
    problems.push({
      field: 'callers',
      message: file.discover
        ? 'no caller is listed, and none was discovered (discovery reads Azure: not with --offline)'
        : 'must list at least one caller (or discover them: see `discover` in the fleet section of the README)',
    });
  const waves = resolveWaves(file, callers, problems);
  problems.push(...oversizedWaves(waves, file.at.waves));
  if (problems.length > 0) throw new PlanValidationError(unique(problems), source);
  const plan: FleetPlan = {
    changeTicket: file.changeTicket,
    ...(file.description ? { description: file.description } : {}),
    tenantId: file.tenantId.toLowerCase(),
    template: callers[0].template,
    accounts,
    callers: callers.map((c) => c.caller),
    waves,
    onStop: file.onStop,
    approvals: { fourEyes: file.approvals.fourEyes, timeoutMs: file.approvals.timeout },
    continueAsNewAfterEvents: file.continueAsNewAfterEvents,
  };
  const tooLarge = oversizedInput(plan);
  if (tooLarge) throw new PlanValidationError([tooLarge], source);
  return plan;
}

const indexes = (n: number) => Array.from({ length: n }, (_, i) => i);

function whole(data: z.output<typeof fleetFileSchema>): FleetFile {
  const at = {
    accounts: indexes(data.accounts.length),
    callers: indexes(data.callers.length),
    waves: indexes(data.waves.length),
  };
  return { ...data, at, partial: { accounts: false, callers: false } };
}

/**
 * A malformed file's well-formed parts (each list item parsed on its own; a malformed top-level field replaced by a
 * stand-in, its problem already listed), so that the checks across accounts, callers and waves still run and every
 * problem is listed at once.
 */
function wellFormedParts(doc: Record<string, unknown>): FleetFile {
  const items = <T>(value: unknown, schema: z.ZodType<T>) => {
    const list = Array.isArray(value) ? value : [];
    const out: { v: T; i: number }[] = [];
    list.forEach((item, i) => {
      const r = schema.safeParse(item);
      if (r.success) out.push({ v: r.data, i });
    });
    return { out, partial: out.length !== list.length };
  };
  const field = <T>(schema: z.ZodType<T>, value: unknown, standIn: T): T => {
    const r = schema.safeParse(value);
    return r.success ? r.data : standIn;
  };
  const shape = fleetFileSchema.shape;
  const accounts = items(doc.accounts, accountSchema);
  const callers = items(doc.callers, callerSchema);
  const waves = items(doc.waves, waveSchema);
  return {
    version: 1,
    kind: 'fleet',
    changeTicket: field(shape.changeTicket, doc.changeTicket, 'CHG'),
    tenantId: field(shape.tenantId, doc.tenantId, '00000000-0000-4000-8000-000000000000'),
    defaults: field(shape.defaults, doc.defaults, {}),
    discover: field(shape.discover, doc.discover, undefined),
    accounts: accounts.out.map((a) => a.v),
    callers: callers.out.map((c) => c.v),
    waves: waves.out.map((w) => w.v),
    onStop: 'finish',
    approvals: { fourEyes: true, timeout: DAY },
    continueAsNewAfterEvents: DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS,
    at: {
      accounts: accounts.out.map((a) => a.i),
      callers: callers.out.map((c) => c.i),
      waves: waves.out.map((w) => w.i),
    },
    partial: { accounts: accounts.partial, callers: callers.partial },
  };
}

/** The same problem found for every caller (a defaults field) is one problem. */
function unique(problems: readonly PlanProblem[]): PlanProblem[] {
  return [...new Map(problems.map((p) => [`${p.field}\n${p.message}`, p])).values()];
}

export function loadFleetFile(file: string): Promise<FleetPlan> {
  return loadYamlFile(file, parseFleetPlan);
}

function resolveAccounts(file: FleetFile, problems: PlanProblem[]): FleetAccount[] {
  const seen = new Set<string>();
  return file.accounts.map((a, i) => {
    if (seen.has(a.name.toLowerCase()))
      problems.push({ field: `accounts.${file.at.accounts[i]}.name`, message: `"${a.name}" is listed twice` });
    seen.add(a.name.toLowerCase());
    return {
      ref: { subscriptionId: a.subscriptionId.toLowerCase(), resourceGroup: a.resourceGroup, name: a.name },
      deployment: a.deployment,
      keySwitch: {
        disable: a.keySwitch.disable,
        approval: a.keySwitch.approval,
        quietPeriodMs: a.keySwitch.quietPeriod,
        bakeMs: a.keySwitch.bake,
      },
    };
  });
}

interface ResolvedCaller {
  readonly caller: FleetCaller;
  readonly template: MigrationPlan;
  readonly env?: string;
}

/** Each caller's plan, validated as a migration plan; problems are reported under the caller's fields. */
function resolveCallers(file: FleetFile, accounts: FleetAccount[], problems: PlanProblem[]): ResolvedCaller[] {
  for (const owned of FLEET_OWNED)
    if (Object.hasOwn(file.defaults, owned))
      problems.push({ field: `defaults.${owned}`, message: 'is set by the fleet per caller: leave it out' });
  const ids = new Set<string>();
  const out: ResolvedCaller[] = [];
  file.callers.forEach((c, i) => {
    const field = `callers.${file.at.callers[i]}`;
    const accountIndex =
      c.account === undefined
        ? accounts.length === 1
          ? 0
          : -1
        : accounts.findIndex((a) => a.ref.name.toLowerCase() === c.account!.toLowerCase());
    if (accountIndex < 0) {
      if (file.partial.accounts) return; // the account meant may be one that did not parse
      problems.push({
        field: `${field}.account`,
        message:
          c.account === undefined
            ? 'is required when the fleet has more than one account'
            : `"${c.account}" is not one of the fleet's accounts (${accounts.map((a) => a.ref.name).join(', ')})`,
      });
      return;
    }
    const account = accounts[accountIndex];
    const id = targetLabel(c);
    if (ids.has(id.toLowerCase())) problems.push({ field: `${field}.name`, message: `"${id}" is listed twice` });
    ids.add(id.toLowerCase());
    const own = c.plan ?? {};
    for (const owned of FLEET_OWNED)
      if (Object.hasOwn(own, owned))
        problems.push({ field: `${field}.plan.${owned}`, message: 'is set by the fleet: leave it out' });
    const subscriptionId = (c.subscriptionId ?? account.ref.subscriptionId).toLowerCase();
    const target = {
      kind: c.kind,
      resourceGroup: c.resourceGroup ?? account.ref.resourceGroup,
      name: c.name,
      ...(c.slot ? { slot: c.slot } : {}),
      ...(c.accountKey ? { accountKey: c.accountKey } : {}),
    };
    const fields = {
      changeTicket: file.changeTicket,
      tenantId: file.tenantId,
      subscriptionId,
      target,
      account: { ...account.ref, deployment: account.deployment },
    };
    // The defaults alone, then with the caller's own fields: each problem under the field it comes from.
    const template = planOrProblems({ ...file.defaults, ...fields }, problems, () => 'defaults');
    const full = planOrProblems({ ...mergeSections(file.defaults, own), ...fields }, problems, (f) =>
      Object.hasOwn(own, f.split('.')[0]) ? `${field}.plan` : 'defaults',
    );
    if (!template || !full) return;
    const overrides: Record<string, unknown> = {};
    for (const key of Object.keys(own)) overrides[key] = (full as unknown as Record<string, unknown>)[key];
    out.push({
      caller: {
        id,
        subscriptionId,
        target,
        account: accountIndex,
        ...(Object.keys(overrides).length ? { overrides: overrides } : {}),
      },
      template,
      ...(c.env ? { env: c.env } : {}),
    });
  });
  return out;
}

function resolveWaves(file: FleetFile, callers: ResolvedCaller[], problems: PlanProblem[]): FleetWave[] {
  const taken = new Map<number, string>();
  const byId = new Map(callers.map((c, i) => [c.caller.id.toLowerCase(), i]));
  const complete = !file.partial.callers && callers.length === file.callers.length;
  const listed = new Set(file.callers.map((c) => targetLabel(c).toLowerCase()));
  const waves = file.waves.map((w, k): FleetWave => {
    const wi = file.at.waves[k];
    const picked: number[] = [];
    const take = (i: number, field: string) => {
      const earlier = taken.get(i);
      if (earlier !== undefined)
        problems.push({ field, message: `${callers[i].caller.id} is already in wave "${earlier}"` });
      else {
        taken.set(i, w.name);
        picked.push(i);
      }
    };
    if (w.callers)
      w.callers.forEach((id, ci) => {
        const i = byId.get(id.toLowerCase());
        if (i === undefined) {
          if (!file.partial.callers && !listed.has(id.toLowerCase()))
            problems.push({ field: `waves.${wi}.callers.${ci}`, message: `"${id}" is not one of the fleet's callers` });
        } else take(i, `waves.${wi}.callers.${ci}`);
      });
    else if (w.env !== undefined) {
      callers.forEach((c, i) => c.env === w.env && !taken.has(i) && take(i, `waves.${wi}.env`));
    } else callers.forEach((_, i) => !taken.has(i) && take(i, `waves.${wi}.rest`));
    // `rest` may find nothing left; a list or an env that picks nobody is a mistake.
    if (picked.length === 0 && w.rest === undefined && complete)
      problems.push({ field: `waves.${wi}`, message: 'picks no caller' });
    const { maxFailures, maxFailurePercent } = w.failureThreshold;
    const byPercent =
      maxFailurePercent !== undefined ? Math.floor((picked.length * maxFailurePercent) / 100) : Infinity;
    return {
      name: w.name,
      callers: picked,
      concurrency: w.concurrency,
      allowedFailures: Math.min(maxFailures ?? Infinity, byPercent),
      bakeMs: w.bake,
      approval: w.approval,
    };
  });
  if (complete)
    callers.forEach((c, i) => {
      if (!taken.has(i))
        problems.push({
          field: 'waves',
          message: `${c.caller.id} is in no wave (add it to one, or end with a wave of rest: true)`,
        });
    });
  return waves.map((w) => (w.allowedFailures === Infinity ? { ...w, allowedFailures: w.callers.length } : w));
}

const isSection = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The defaults with a caller's own fields over them, one section deep. */
function mergeSections(defaults: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(own)) {
    const base = defaults[key];
    out[key] = isSection(base) && isSection(value) ? { ...base, ...value } : value;
  }
  return out;
}

/** The migration plan of `document`, or undefined with its problems added under `prefix(field)`. */
function planOrProblems(
  document: Record<string, unknown>,
  problems: PlanProblem[],
  prefix: (field: string) => string,
): MigrationPlan | undefined {
  try {
    return parsePlan(document);
  } catch (err) {
    if (!(err instanceof PlanValidationError)) throw err;
    for (const p of err.problems) problems.push({ field: `${prefix(p.field)}.${p.field}`, message: p.message });
    return undefined;
  }
}
