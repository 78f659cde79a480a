/**
 * The migration plan: what a change manager writes (YAML on disk) and what the workflow receives (JSON, normalized).
 *
 * The file format uses human durations ("15m") and sensible defaults; `parsePlan` turns it into a `MigrationPlan`
 * whose durations are milliseconds (`…Ms`) and whose optional parts are filled in. Unknown fields are errors, and
 * every error names the field it is about. A plan never holds a secret: settings to *set* are plain values by
 * definition, settings to *remove* are names.
 */
import { z } from 'zod';
import { DAY, HOUR, MINUTE, SECOND, formatDuration, parseDuration } from './durations';
import { PlanValidationError, toProblems } from './problems';
import { isKeyVaultReference, KEY_VAULT_REFERENCE_EXAMPLE, nameLooksSecret, secretShape } from './secrets';
import { type NotificationRule, notificationsSchema } from './notifications';
import { analysisSchema, type AnalysisPlan, observabilitySchema, type ObservabilityPlan } from './observation';
import { DEFAULT_TRAFFIC_STEPS, trafficStepIssues } from './traffic-shift';
import { DEFAULT_TARGET_KIND, TARGET_KIND_NAMES, TARGET_KINDS, type TargetSpec } from './targets';

export { type PlanProblem, PlanValidationError } from './problems';
export { targetLabel, targetOf, TARGET_KINDS, type TargetKind, type TargetSpec } from './targets';
export { formatDuration, parseDuration } from './durations';

export const DEFAULT_ROLE = 'Cognitive Services OpenAI User';

/** Roles that can read keys, manage access or change the account: never needed for inference. */
export const PRIVILEGED_ROLES = [
  'Owner',
  'Contributor',
  'User Access Administrator',
  'Role Based Access Control Administrator',
  'Cognitive Services Contributor',
] as const;

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const RESOURCE_GROUP = /^[-\w._()]{1,89}[-\w_()]$/;
export const SLOT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,58}$/;
export const ACCOUNT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}$/;
export const DEPLOYMENT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;
const UAMI_ID =
  /^\/subscriptions\/([0-9a-f-]{36})\/resourceGroups\/([-\w._()]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([-\w]{3,128})$/i;
/** A human duration field ("90s", "15m") checked against a range, as milliseconds. */
export function duration(min: number, max: number) {
  return z.string({ error: 'must be a duration such as "90s", "15m" or "2h"' }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration such as "90s", "15m" or "2h"` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${text} is out of range: must be between ${formatDuration(min)} and ${formatDuration(max)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

export const s = (re: RegExp, what: string) => z.string({ error: `must be ${what}` }).regex(re, `must be ${what}`);

const identitySchema = z
  .strictObject({
    type: z.enum(['system-assigned', 'user-assigned']).default('system-assigned'),
    resourceId: s(UAMI_ID, 'the ARM id of a user-assigned identity').optional(),
  })
  .superRefine((v, ctx) => {
    if (v.type === 'user-assigned' && !v.resourceId)
      ctx.addIssue({ code: 'custom', path: ['resourceId'], message: 'is required for a user-assigned identity' });
    if (v.type === 'system-assigned' && v.resourceId)
      ctx.addIssue({ code: 'custom', path: ['resourceId'], message: 'only applies to a user-assigned identity' });
  });

const smokeTestSchema = z.strictObject({
  path: z.string().startsWith('/', 'must start with "/"').default('/health'),
  identityProbePath: z
    .union([z.literal('none'), z.string().startsWith('/', 'must start with "/" (or be "none")')])
    .default('/health/identity'),
  baseUrl: z.url({ protocol: /^https$/, error: 'must be an https URL' }).optional(),
  expectStatus: z.number().int().min(100).max(599).default(200),
  expectJson: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({ authMode: 'identity' }),
  requestTimeout: duration(SECOND, 2 * MINUTE).default(10 * SECOND),
  interval: duration(100, 5 * MINUTE).default(2 * SECOND),
});

const appService = TARGET_KINDS['app-service'];
const targetFields = {
  resourceGroup: s(RESOURCE_GROUP, 'a resource group name'),
  name: s(appService.name, appService.nameRule),
  slot: s(SLOT_NAME, 'a deployment slot name').optional(),
};
/** A target's name rule is its kind's: checked with the kind (superRefine) for kinds other than sites. */
const kindTargetFields = { ...targetFields, name: z.string({ error: 'must be a name' }).min(1, 'must not be empty') };
const SITE_KINDS: readonly string[] = ['app-service', 'function-app'];

const planFileSchema = z
  .strictObject({
    version: z.literal(1, 'must be 1').default(1),
    changeTicket: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
    description: z.string().max(2000).optional(),
    tenantId: s(GUID, 'a GUID (the Entra tenant id)'),
    subscriptionId: s(GUID, 'a GUID (the subscription id)'),
    target: z
      .strictObject({
        kind: z.enum(TARGET_KIND_NAMES).default(DEFAULT_TARGET_KIND),
        ...kindTargetFields,
        accountKey: z.enum(['key1', 'key2'], 'must be key1 or key2').optional(),
      })
      .optional(),
    /** Before plans named a kind: an App Service app. */
    app: z.strictObject(targetFields).optional(),
    identity: identitySchema.default({ type: 'system-assigned' }),
    account: z.strictObject({
      subscriptionId: s(GUID, 'a GUID').optional(),
      resourceGroup: s(RESOURCE_GROUP, 'a resource group name').optional(),
      name: s(ACCOUNT_NAME, 'an Azure OpenAI account name'),
      deployment: s(DEPLOYMENT_NAME, 'a deployment name'),
    }),
    role: z.string().min(1).default(DEFAULT_ROLE),
    allowPrivilegedRole: z.boolean().default(false),
    settings: z
      .strictObject({
        remove: z.array(s(SETTING_NAME, 'an app setting name')).default(['AZURE_OPENAI_API_KEY']),
        set: z
          .record(s(SETTING_NAME, 'an app setting name'), z.string().max(1024))
          .default({ AZURE_OPENAI_AUTH_MODE: 'identity' }),
      })
      .default({ remove: ['AZURE_OPENAI_API_KEY'], set: { AZURE_OPENAI_AUTH_MODE: 'identity' } }),
    strategy: z
      .strictObject({
        type: z.enum(['in-place', 'slot-swap', 'traffic-shift']).default('in-place'),
        stagingSlot: s(SLOT_NAME, 'a deployment slot name').optional(),
        standby: z.enum(['migrate', 'keep']).optional(),
        // Checked in full below (trafficStepIssues), so that every bad step is named.
        steps: z.array(z.unknown()).optional(),
      })
      .default({ type: 'in-place' }),
    smokeTest: smokeTestSchema.default(smokeTestSchema.parse({})),
    budgets: z
      .strictObject({
        propagationWait: duration(SECOND, 2 * HOUR).default(15 * MINUTE),
        downtime: duration(SECOND, HOUR).default(2 * MINUTE),
        approvalTimeout: duration(MINUTE / 6, 30 * DAY).default(DAY),
        localAuthSwitch: duration(SECOND, 2 * HOUR).default(15 * MINUTE),
      })
      .default({
        propagationWait: 15 * MINUTE,
        downtime: 2 * MINUTE,
        approvalTimeout: DAY,
        localAuthSwitch: 15 * MINUTE,
      }),
    approvals: z
      .strictObject({
        beforeSettingsSwap: z.boolean().default(false),
        beforeDisableLocalAuth: z.boolean().default(true),
        fourEyes: z.boolean().default(true),
        onTimeout: z.enum(['rollback', 'wait']).default('rollback'),
      })
      .default({ beforeSettingsSwap: false, beforeDisableLocalAuth: true, fourEyes: true, onTimeout: 'rollback' }),
    localAuth: z
      .strictObject({
        disable: z.boolean().default(true),
        ifOtherCallers: z.enum(['skip', 'wait', 'fail']).default('skip'),
        recheckInterval: duration(SECOND, HOUR).default(MINUTE),
        quietPeriod: duration(0, 90 * DAY).default(HOUR),
      })
      .default({ disable: true, ifOtherCallers: 'skip', recheckInterval: MINUTE, quietPeriod: HOUR }),
    observability: observabilitySchema,
    analysis: analysisSchema,
    notifications: notificationsSchema,
  })
  // Runs even when a field is malformed (zod would skip it), so that every problem is listed at once: the input
  // is then only partly parsed, hence the guarded reads.
  .superRefine(
    (parsed, ctx) => {
      const p = parsed as unknown as Loose;
      const targetKey = p.target !== undefined ? 'target' : 'app';
      if (p.target !== undefined && p.app !== undefined)
        ctx.addIssue({ code: 'custom', path: ['app'], message: 'is the older name of target: give only target' });
      if (p.target === undefined && p.app === undefined)
        ctx.addIssue({ code: 'custom', path: ['target'], message: 'is required: the caller to migrate' });
      const strategy = loose(p.strategy);
      const kind = (loose(p.target).kind ?? DEFAULT_TARGET_KIND) as keyof typeof TARGET_KINDS;
      const strategies: readonly string[] = TARGET_KINDS[kind]?.strategies ?? [];
      const known = ['in-place', 'slot-swap', 'traffic-shift'].includes(strategy.type as string); // else the enum objects
      if (known && TARGET_KINDS[kind] && !strategies.includes(strategy.type as string))
        ctx.addIssue({
          code: 'custom',
          path: ['strategy', 'type'],
          message: `is not a way to switch ${TARGET_KINDS[kind].title}: use ${strategies.join(' or ')}`,
        });
      const target = loose(p[targetKey]);
      const words = TARGET_KINDS[kind] as (typeof TARGET_KINDS)[keyof typeof TARGET_KINDS] | undefined;
      // Sites' names are checked by the site kinds' (and the older `app`'s) own field.
      if (words && targetKey === 'target' && typeof target.name === 'string' && !words.name.test(target.name))
        ctx.addIssue({ code: 'custom', path: [targetKey, 'name'], message: `must be ${words.nameRule}` });
      if (words && !SITE_KINDS.includes(kind) && target.slot !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [targetKey, 'slot'],
          message: `must be absent: ${words.noun}s have no slots`,
        });
      if (kind !== 'ai-search' && target.accountKey !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [targetKey, 'accountKey'],
          message: 'only applies to an AI Search service (Azure shows its keys as <redacted>)',
        });
      const stagingSlot = typeof strategy.stagingSlot === 'string' ? strategy.stagingSlot : undefined;
      if (strategy.type === 'slot-swap') {
        if (!stagingSlot)
          ctx.addIssue({ code: 'custom', path: ['strategy', 'stagingSlot'], message: 'is required for slot-swap' });
        if (loose(p[targetKey]).slot)
          ctx.addIssue({
            code: 'custom',
            path: [targetKey, 'slot'],
            message: 'must be absent for slot-swap (it swaps into production)',
          });
        if (stagingSlot && stagingSlot.toLowerCase() === 'production')
          ctx.addIssue({ code: 'custom', path: ['strategy', 'stagingSlot'], message: 'must not be "production"' });
      } else if (stagingSlot) {
        ctx.addIssue({
          code: 'custom',
          path: ['strategy', 'stagingSlot'],
          message: 'only applies to the slot-swap strategy',
        });
      }
      for (const issue of trafficStepIssues(strategy))
        ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
      if (strategy.type !== 'slot-swap' && strategy.standby !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['strategy', 'standby'],
          message: 'only applies to the slot-swap strategy',
        });
      const role = typeof p.role === 'string' ? p.role : '';
      const privileged = PRIVILEGED_ROLES.find((r) => r.toLowerCase() === role.trim().toLowerCase());
      if (privileged && p.allowPrivilegedRole !== true)
        ctx.addIssue({
          code: 'custom',
          path: ['role'],
          message: `"${privileged}" grants far more than inference; use "${DEFAULT_ROLE}" or set allowPrivilegedRole: true`,
        });
      const settings = loose(p.settings);
      const remove = Array.isArray(settings.remove) ? settings.remove : undefined;
      const set = loose(settings.set);
      for (const name of remove ?? []) {
        if (typeof name === 'string' && Object.hasOwn(set, name))
          ctx.addIssue({
            code: 'custom',
            path: ['settings', 'set', name],
            message: 'is also listed in settings.remove',
          });
      }
      for (const [name, value] of Object.entries(set)) {
        if (typeof value !== 'string') continue;
        // Never the value itself in the message: it may be a live key pasted into the wrong place.
        const shape = secretShape(value);
        if (shape)
          ctx.addIssue({
            code: 'custom',
            path: ['settings', 'set', name],
            message: `looks like ${shape}, and a plan never holds a secret: put it in Key Vault and set a Key Vault reference instead, ${KEY_VAULT_REFERENCE_EXAMPLE}`,
          });
        else if (nameLooksSecret(name) && !isKeyVaultReference(value))
          ctx.addIssue({
            code: 'custom',
            path: ['settings', 'set', name],
            message: `is named like a secret, so its value must be a Key Vault reference (${KEY_VAULT_REFERENCE_EXAMPLE}): a plan never holds a secret`,
          });
      }
      if (remove?.length === 0)
        ctx.addIssue({ code: 'custom', path: ['settings', 'remove'], message: 'must name the key setting to remove' });
      if (loose(p.identity).type === 'user-assigned' && Object.hasOwn(set, 'AZURE_CLIENT_ID'))
        ctx.addIssue({
          code: 'custom',
          path: ['settings', 'set', 'AZURE_CLIENT_ID'],
          message: 'is set automatically to the user-assigned identity’s client id',
        });
    },
    { when: (payload) => isLoose(payload.value) },
  );

type Loose = Readonly<Record<string, unknown>>;
function isLoose(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function loose(value: unknown): Loose {
  return isLoose(value) ? value : {};
}

export type PlanFile = z.input<typeof planFileSchema>;

/** The normalized plan the workflow runs: every default filled in, durations in milliseconds. */
export interface MigrationPlan {
  readonly changeTicket: string;
  readonly description?: string;
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** The caller to migrate (plans written before kinds existed name it `app`). */
  readonly target: TargetSpec;
  readonly identity: { readonly type: 'system-assigned' | 'user-assigned'; readonly resourceId?: string };
  readonly account: {
    readonly subscriptionId: string;
    readonly resourceGroup: string;
    readonly name: string;
    readonly deployment: string;
  };
  readonly role: string;
  readonly allowPrivilegedRole: boolean;
  readonly settings: { readonly remove: readonly string[]; readonly set: Readonly<Record<string, string>> };
  readonly strategy: {
    readonly type: 'in-place' | 'slot-swap' | 'traffic-shift';
    readonly stagingSlot?: string;
    /** Traffic shift: the new revision's share of the traffic, step by step (increasing, the last 100). */
    readonly steps?: readonly number[];
    /**
     * Slot swap: what happens to the staging slot, which holds the old configuration (with the key) after the
     * swap: `migrate` moves it off the key too (so the key switch can go ahead), `keep` leaves it as a standby
     * that counts as a key holder like any other. Absent in plans recorded before it existed (`keep` then).
     */
    readonly standby?: 'migrate' | 'keep';
  };
  readonly smokeTest: {
    readonly path: string;
    /** The app's identity probe, or `none`: then the whole `propagationWait` is waited out blind. */
    readonly identityProbePath: string;
    readonly baseUrl?: string;
    readonly expectStatus: number;
    readonly expectJson: Readonly<Record<string, string | number | boolean>>;
    readonly requestTimeoutMs: number;
    readonly intervalMs: number;
  };
  readonly budgets: {
    readonly propagationWaitMs: number;
    readonly downtimeMs: number;
    readonly approvalTimeoutMs: number;
    readonly localAuthSwitchMs: number;
  };
  readonly approvals: {
    readonly beforeSettingsSwap: boolean;
    readonly beforeDisableLocalAuth: boolean;
    readonly fourEyes: boolean;
    readonly onTimeout: 'rollback' | 'wait';
  };
  /** Webhooks told about gates, rollbacks and the end (absent in plans recorded before notifications existed). */
  readonly notifications?: readonly NotificationRule[];
  readonly localAuth: {
    readonly disable: boolean;
    readonly ifOtherCallers: 'skip' | 'wait' | 'fail';
    /** With `wait`: how often to look again for other key callers. */
    readonly recheckIntervalMs: number;
    /**
     * How long the account's diagnostic logs must show no key call (other than this caller's, before it moved)
     * before keys are switched off; 0 turns the log check off. Absent in plans recorded before it existed (off).
     */
    readonly quietPeriodMs?: number;
  };
  /** Azure Monitor data lags and what to do without it (absent in plans recorded before it existed). */
  readonly observability?: ObservabilityPlan;
  /** The analysis after each traffic change (absent in plans recorded before it existed: none). */
  readonly analysis?: AnalysisPlan;
}

/** Validates a parsed document (from YAML or JSON) and returns the normalized plan. */
export function parsePlan(document: unknown, source?: string): MigrationPlan {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new PlanValidationError(
      [{ field: '', message: 'a plan must be a mapping of fields (see the plan reference)' }],
      source,
    );
  }
  const result = planFileSchema.safeParse(document, { reportInput: true });
  if (!result.success) {
    throw new PlanValidationError(
      result.error.issues.flatMap((issue) => toProblems(issue, planFileSchema)),
      source,
    );
  }
  const p = result.data;
  const target: TargetSpec = p.target ?? { kind: DEFAULT_TARGET_KIND, ...p.app! };
  return {
    changeTicket: p.changeTicket,
    ...(p.description ? { description: p.description } : {}),
    tenantId: p.tenantId.toLowerCase(),
    subscriptionId: p.subscriptionId.toLowerCase(),
    target,
    identity: p.identity,
    account: {
      subscriptionId: (p.account.subscriptionId ?? p.subscriptionId).toLowerCase(),
      resourceGroup: p.account.resourceGroup ?? target.resourceGroup,
      name: p.account.name,
      deployment: p.account.deployment,
    },
    role: p.role.trim(),
    allowPrivilegedRole: p.allowPrivilegedRole,
    settings: { remove: [...new Set(p.settings.remove)], set: p.settings.set },
    strategy: strategyOf(p.strategy),
    smokeTest: {
      path: p.smokeTest.path,
      identityProbePath: p.smokeTest.identityProbePath,
      ...(p.smokeTest.baseUrl ? { baseUrl: p.smokeTest.baseUrl } : {}),
      expectStatus: p.smokeTest.expectStatus,
      expectJson: p.smokeTest.expectJson,
      requestTimeoutMs: p.smokeTest.requestTimeout,
      intervalMs: p.smokeTest.interval,
    },
    budgets: {
      propagationWaitMs: p.budgets.propagationWait,
      downtimeMs: p.budgets.downtime,
      approvalTimeoutMs: p.budgets.approvalTimeout,
      localAuthSwitchMs: p.budgets.localAuthSwitch,
    },
    approvals: p.approvals,
    notifications: p.notifications,
    localAuth: {
      disable: p.localAuth.disable,
      ifOtherCallers: p.localAuth.ifOtherCallers,
      recheckIntervalMs: p.localAuth.recheckInterval,
      quietPeriodMs: p.localAuth.quietPeriod,
    },
    observability: p.observability,
    analysis: p.analysis,
  };
}

/** The strategy as the workflow receives it: a slot swap's standby and a traffic shift's steps filled in. */
function strategyOf(s: z.output<typeof planFileSchema>['strategy']): MigrationPlan['strategy'] {
  const { steps, ...rest } = s;
  if (rest.type === 'slot-swap') return { ...rest, standby: rest.standby ?? 'migrate' };
  if (rest.type === 'traffic-shift')
    return { type: rest.type, steps: (steps as number[]) ?? [...DEFAULT_TRAFFIC_STEPS] };
  return rest;
}
