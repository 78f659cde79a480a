/**
 * Microsoft.App container apps as a cutover touches them: GET and list (paged), createOrUpdate (PUT, 201/200 with
 * `Azure-AsyncOperation`) and update (PATCH, 202 with `Azure-AsyncOperation`, a JSON merge of the app: objects merge,
 * arrays replace), both long-running, polled at the provider's location-scoped `containerappOperationResults`;
 * `listSecrets`; revisions list / get / activate / deactivate / restart. A PATCH's `template` replaces the
 * template whole: a new revision is made of exactly what it names. Identity system- and/or user-assigned.
 *
 * Validation, as Azure answers it: a secret needs a value, or a Key Vault URL and an identity the app has
 * (`ContainerAppSecretInvalid`); an env var's `secretRef` names an existing secret (`ContainerAppSecretRefNotFound`);
 * traffic weights are integers 0–100 summing to 100, each naming an existing revision or the latest one, at most one
 * `latestRevision` entry (`ContainerAppInvalidTrafficWeight`, a code of the simulator's). In single-revision mode the
 * traffic is stored as given (ContainerApps_CreateOrUpdate.json names a revision) but all of it goes to the latest. Any change to `template` makes a new revision
 * `{app}--{revisionSuffix or random}`; in single-revision mode the old revision is deactivated once the new one
 * runs, and keeps serving if it fails. Secrets and traffic change without a revision.
 */
import { type SimResponse, SimError, isRecord, jsonBody } from '../http';
import {
  type ContainerApp,
  type ContainerAppConfiguration,
  type ContainerAppRevision,
  type ContainerAppSecret,
  type ContainerAppTemplate,
  type TrafficWeight,
  clone,
  containerAppId,
  key,
} from '../model';
import { liveRevisions, newRevisionSuffix, revisionName } from '../container-apps';
import { applyIdentity } from './managed-identity';
import {
  type ArmContext,
  type ArmRoute,
  RG,
  SUB,
  badRequest,
  resourceGroupOf,
  resourceNotFound,
  retryAfter,
} from './router';
import { pageOf } from './paging';
import { appView, revisionView } from './container-app-views';
import { isoSeconds } from './account-updates';

const APP = `${RG}/providers/Microsoft.App/containerApps/{name}`;
const REVISION = `${APP}/revisions/{revision}`;
const appScope = (p: Record<string, string>) => containerAppId(p.sub, p.rg, p.name);
const TYPE = 'Microsoft.App/containerApps';
/** Read-only properties a PUT or PATCH may echo back from a GET: ignored, as Azure does. */
const READ_ONLY = new Set([
  'provisioningState',
  'runningStatus',
  'managedEnvironmentId',
  'latestRevisionName',
  'latestReadyRevisionName',
  'latestRevisionFqdn',
  'customDomainVerificationId',
  'outboundIpAddresses',
  'eventStreamEndpoint',
]);

function findApp(ctx: ArmContext): ContainerApp {
  const rg = resourceGroupOf(ctx);
  const app = ctx.core.state.containerApps?.[key(containerAppId(ctx.subscription!.id, rg.name, ctx.params.name))];
  if (!app) throw resourceNotFound(TYPE, ctx.params.name, ctx.params.rg);
  return app;
}

function findRevision(ctx: ArmContext, app: ContainerApp): ContainerAppRevision {
  const rev = app.revisions[key(ctx.params.revision)];
  if (!rev) throw resourceNotFound(`${TYPE}/revisions`, `${app.name}/${ctx.params.revision}`, ctx.params.rg);
  return rev;
}

/** JSON merge: objects merge key by key, anything else (arrays too) replaces; null removes. */
function merge(base: unknown, patch: unknown): unknown {
  if (!isRecord(base) || !isRecord(patch)) return clone(patch);
  const out: Record<string, unknown> = { ...clone(base) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

// --- validation and normalisation --------------------------------------------------------------------------------

function invalidSecrets(names: string[], why: string): SimError {
  return badRequest(
    `Invalid Request: Container app secret(s) with name(s) '${names.join(', ')}' are invalid: ${why}`,
    'ContainerAppSecretInvalid',
  );
}

function parseSecrets(
  app: Pick<ContainerApp, 'systemPrincipalId' | 'userAssigned'>,
  raw: unknown,
): ContainerAppSecret[] {
  if (!Array.isArray(raw)) throw badRequest("'configuration.secrets' must be an array.", 'InvalidRequestContent');
  const out: ContainerAppSecret[] = [];
  for (const s of raw) {
    if (!isRecord(s) || typeof s.name !== 'string' || !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$|^[a-z0-9]$/.test(s.name))
      throw invalidSecrets(
        [isRecord(s) && typeof s.name === 'string' ? s.name : ''],
        "a secret name must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character.",
      );
    if (out.some((o) => o.name === s.name)) throw invalidSecrets([s.name], 'the name is used twice.');
    if (typeof s.value === 'string' && s.keyVaultUrl === undefined) {
      out.push({ name: s.name, value: s.value });
      continue;
    }
    if (typeof s.keyVaultUrl !== 'string' || typeof s.identity !== 'string' || s.value !== undefined)
      throw invalidSecrets([s.name], 'value or keyVaultUrl and identity should be provided.');
    const system = key(s.identity) === 'system';
    if (system ? !app.systemPrincipalId : !app.userAssigned.some((u) => key(u) === key(s.identity as string)))
      throw invalidSecrets(
        [s.name],
        `the identity '${s.identity}' is not assigned to the container app: assign it before referencing Key Vault with it.`,
      );
    out.push({ name: s.name, keyVaultUrl: s.keyVaultUrl, identity: system ? 'system' : s.identity });
  }
  return out;
}

/** The template as Azure stores it: each container's resources defaulted, `custom` http scale rules as `http`. */
function parseTemplate(raw: unknown, secrets: ContainerAppSecret[]): ContainerAppTemplate {
  if (!isRecord(raw) || !Array.isArray(raw.containers) || raw.containers.length === 0)
    throw badRequest("'template.containers' must list at least one container.", 'ContainerAppInvalidTemplate');
  const template = clone(raw) as ContainerAppTemplate;
  for (const c of template.containers) {
    if (!isRecord(c) || typeof c.name !== 'string' || !c.name || typeof c.image !== 'string' || !c.image)
      throw badRequest('Each container needs a name and an image.', 'ContainerAppInvalidTemplate');
    c.resources ??= { cpu: 0.5, memory: '1Gi' };
    if (c.env !== undefined && !Array.isArray(c.env))
      throw badRequest(`'env' of container '${c.name}' must be an array.`, 'InvalidRequestContent');
    for (const v of c.env ?? []) {
      if (!isRecord(v) || typeof v.name !== 'string' || !v.name)
        throw badRequest(`Each env var of container '${c.name}' needs a name.`, 'InvalidRequestContent');
      if (v.secretRef !== undefined && !secrets.some((s) => s.name === v.secretRef))
        throw badRequest(
          `SecretRef '${String(v.secretRef)}' defined for container '${c.name}' not found.`,
          'ContainerAppSecretRefNotFound',
        );
    }
  }
  const scale = isRecord(template.scale) ? template.scale : {};
  template.scale = { minReplicas: 0, maxReplicas: 10, ...scale };
  if (Array.isArray(scale.rules))
    template.scale = {
      ...(template.scale as object),
      rules: scale.rules.map((r: unknown) =>
        isRecord(r) && isRecord(r.custom) && r.custom.type === 'http'
          ? { name: r.name, http: { metadata: r.custom.metadata } }
          : r,
      ),
    };
  if (template.revisionSuffix !== undefined && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(String(template.revisionSuffix)))
    throw badRequest(
      `Invalid revisionSuffix '${String(template.revisionSuffix)}': lower case alphanumeric characters or '-', starting and ending with an alphanumeric character.`,
      'ContainerAppInvalidRevisionSuffix',
    );
  return template;
}

function parseMode(raw: unknown): ContainerAppConfiguration['activeRevisionsMode'] {
  if (raw === undefined) return 'Single';
  const s = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (s !== 'single' && s !== 'multiple')
    throw badRequest(
      `Invalid activeRevisionsMode '${JSON.stringify(raw)}': 'Single' or 'Multiple'.`,
      'InvalidRequestContent',
    );
  return s === 'single' ? 'Single' : 'Multiple';
}

function invalidTraffic(message: string): SimError {
  return badRequest(message, 'ContainerAppInvalidTrafficWeight');
}

/** Checks traffic against the revisions the app will have (`names`, lower-cased). */
function checkTraffic(traffic: unknown, names: Set<string>) {
  if (!Array.isArray(traffic)) throw invalidTraffic("'ingress.traffic' must be an array.");
  let sum = 0;
  let latest = 0;
  for (const raw of traffic) {
    if (!isRecord(raw)) throw invalidTraffic('Each traffic entry must be an object.');
    const t = raw as Partial<TrafficWeight>;
    if (typeof t.weight !== 'number' || !Number.isInteger(t.weight) || t.weight < 0 || t.weight > 100)
      throw invalidTraffic('Traffic weight must be an integer between 0 and 100.');
    sum += t.weight;
    if (t.latestRevision === true) {
      latest++;
      if (t.revisionName) throw invalidTraffic('A traffic entry cannot set both revisionName and latestRevision.');
    } else if (!t.revisionName) throw invalidTraffic('A traffic entry needs a revisionName or latestRevision: true.');
    else if (!names.has(key(t.revisionName)))
      throw invalidTraffic(`Traffic weight is set for revision '${t.revisionName}', which does not exist.`);
  }
  if (latest > 1) throw invalidTraffic('Only one traffic entry can set latestRevision.');
  if (traffic.length > 0 && sum !== 100)
    throw invalidTraffic(`The sum of all traffic weights must be 100, but was ${sum}.`);
}

// --- writes -------------------------------------------------------------------------------------------------------

interface Desired {
  location: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
  configuration: Record<string, unknown>;
  template: unknown;
  secrets: unknown;
}

/** The app's current envelope as a PATCH merges into it (secret values stay aside). */
function current(app: ContainerApp): Desired {
  return {
    location: app.location,
    tags: clone(app.tags),
    properties: clone(app.properties),
    configuration: clone(app.configuration),
    template: clone(app.template),
    secrets: undefined,
  };
}

function desiredOf(body: Record<string, unknown>, base: Desired | undefined): Desired {
  const props = body.properties ?? {};
  if (!isRecord(props)) throw badRequest("'properties' must be an object.", 'InvalidRequestContent');
  const { configuration = {}, template, ...rest } = props;
  if (!isRecord(configuration)) throw badRequest("'configuration' must be an object.", 'InvalidRequestContent');
  const { secrets, ...config } = configuration;
  const others = Object.fromEntries(Object.entries(rest).filter(([k]) => !READ_ONLY.has(k)));
  const tags = isRecord(body.tags)
    ? Object.fromEntries(Object.entries(body.tags).map(([k, v]) => [k, String(v)]))
    : undefined;
  if (!base) {
    if (typeof body.location !== 'string' || !body.location)
      throw badRequest("'location' is required.", 'LocationRequired');
    const env = others.environmentId ?? props.managedEnvironmentId;
    if (
      typeof env !== 'string' ||
      !/\/providers\/Microsoft\.App\/(managedEnvironments|connectedEnvironments)\//i.test(env)
    )
      throw badRequest(
        "'properties.environmentId' must be the ARM id of a managed environment.",
        'InvalidRequestContent',
      );
    return {
      location: body.location,
      tags: tags ?? {},
      properties: { ...others, environmentId: env },
      configuration: config,
      template,
      secrets: secrets ?? [],
    };
  }
  return {
    location: base.location,
    tags: tags ?? base.tags,
    properties: merge(base.properties, others) as Record<string, unknown>,
    configuration: merge(base.configuration, config) as Record<string, unknown>,
    // A template replaces the whole template (a new revision is made of exactly what is given).
    template: template === undefined ? base.template : template,
    secrets,
  };
}

const secretsOf = (body: Record<string, unknown>) =>
  isRecord(body.properties) && isRecord(body.properties.configuration)
    ? body.properties.configuration.secrets
    : undefined;

const sameTemplate = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Applies a PUT or PATCH; answers the LRO the SDK polls. */
function write(ctx: ArmContext, method: 'PUT' | 'PATCH'): SimResponse {
  const rg = resourceGroupOf(ctx);
  const id = containerAppId(ctx.subscription!.id, rg.name, ctx.params.name);
  const existing = ctx.core.state.containerApps?.[key(id)];
  if (!existing && method === 'PATCH') throw resourceNotFound(TYPE, ctx.params.name, ctx.params.rg);
  if (existing?.provisioningState === 'InProgress')
    throw new SimError(
      409,
      'ContainerAppOperationInProgress',
      `Cannot modify a container app '${existing.name}' because there is a pending operation on the resource, please try again later.`,
    );
  if (!existing && (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(ctx.params.name) || ctx.params.name.includes('--')))
    throw badRequest(
      `Invalid ContainerApp name '${ctx.params.name}'. A name must consist of lower case alphanumeric characters or '-', start with a letter, end with an alphanumeric character, cannot have '--', and must be less than 32 characters.`,
      'ContainerAppInvalidName',
    );
  const body = jsonBody(ctx.req);
  if (!isRecord(body)) throw badRequest('The request body must be a container app envelope.', 'InvalidRequestContent');
  const base = existing && method === 'PATCH' ? current(existing) : undefined;
  const desired = desiredOf(existing && method === 'PUT' ? { location: existing.location, ...body } : body, base);
  // A PUT of an existing app keeps its secrets when the body leaves them out.
  if (existing && method === 'PUT' && secretsOf(body) === undefined) desired.secrets = undefined;

  // Work on a copy: nothing changes unless every check passes.
  const app: ContainerApp = existing
    ? clone(existing)
    : {
        id,
        subscriptionId: ctx.subscription!.id,
        resourceGroup: rg.name,
        name: ctx.params.name,
        location: desired.location,
        userAssigned: [],
        secrets: [],
        configuration: { activeRevisionsMode: 'Single' },
        template: { containers: [] },
        properties: {},
        revisions: {},
        latestRevisionName: '',
        supportsIdentity: true,
        tags: {},
        provisioningState: 'Succeeded',
      };
  const principalsBefore = { ...ctx.core.state.principals };
  if (body.identity !== undefined)
    applyIdentity(ctx, app, { resourceId: id, principalName: app.name, writeAction: `${TYPE}/write` }, body.identity);
  try {
    if (desired.secrets !== undefined) app.secrets = parseSecrets(app, desired.secrets);
    const mode = parseMode(desired.configuration.activeRevisionsMode);
    const template = parseTemplate(desired.template, app.secrets);
    const changed = !existing || !sameTemplate(template, existing.template);
    let revision: ContainerAppRevision | undefined;
    if (changed) {
      const suffix = template.revisionSuffix ? String(template.revisionSuffix) : newRevisionSuffix();
      const name = revisionName(app.name, suffix);
      if (app.revisions[key(name)])
        throw badRequest(
          `Revision with suffix '${suffix}' already exists for container app '${app.name}': give the new template another revisionSuffix.`,
          'ContainerAppRevisionSuffixConflict',
        );
      revision = {
        name,
        createdAt: ctx.core.now(),
        template,
        active: true,
        supportsIdentity: app.supportsIdentity,
        provisioningState: 'Provisioning',
      };
    }
    const names = new Set([...Object.keys(app.revisions), ...(revision ? [key(revision.name)] : [])]);
    const ingress = desired.configuration.ingress;
    if (ingress !== undefined) {
      if (!isRecord(ingress)) throw badRequest("'ingress' must be an object.", 'InvalidRequestContent');
      ingress.traffic ??= [{ latestRevision: true, weight: 100 }];
      checkTraffic(ingress.traffic, names);
    }
    app.configuration = { ...desired.configuration, activeRevisionsMode: mode };
    app.template = template;
    app.properties = desired.properties;
    app.tags = desired.tags;
    if (revision) {
      app.revisions[key(revision.name)] = revision;
      app.latestRevisionName = revision.name;
    }
    app.provisioningState = 'InProgress';
    (ctx.core.state.containerApps ??= {})[key(id)] = app;
    return answer(ctx, app, revision, existing, method);
  } catch (err) {
    // The identity change is part of the refused request: undo the principal it may have created.
    ctx.core.state.principals = principalsBefore;
    throw err;
  }
}

/** Starts the LRO (the new revision's start, then single mode's deactivation of the others). */
function answer(
  ctx: ArmContext,
  app: ContainerApp,
  revision: ContainerAppRevision | undefined,
  existing: ContainerApp | undefined,
  method: 'PUT' | 'PATCH',
): SimResponse {
  const core = ctx.core;
  const runtime = core.containerApps;
  const op = core.startOperation(
    { kind: 'containerAppUpdate', resourceId: app.id, principalId: ctx.caller.objectId },
    async () => {
      await core.wait(core.delays.lroMs);
      if (revision) {
        const ok = await runtime.start(app, revision);
        if (!ok)
          throw new Error(
            `Failed to provision revision for container app '${app.name}'. Error details: ${revision.provisioningError ?? 'the revision did not start.'}`,
          );
        if (app.configuration.activeRevisionsMode === 'Single')
          for (const other of Object.values(app.revisions))
            if (other !== revision && other.active) {
              other.active = false;
              await runtime.stop(app, other);
            }
      }
      app.provisioningState = 'Succeeded';
    },
    () => {
      app.provisioningState = 'Failed';
    },
    ctx.lroFail,
  );
  core.persist();
  const headers = {
    'azure-asyncoperation': `${core.baseUrl}/subscriptions/${app.subscriptionId}/providers/Microsoft.App/locations/${encodeURIComponent(key(app.location).replace(/\s+/g, ''))}/containerappOperationResults/${op.id}?api-version=${ctx.apiVersion}`,
    ...retryAfter(core.delays.lroMs),
  };
  if (method === 'PATCH') return { status: 202, headers };
  return { status: existing ? 200 : 201, headers, body: appView(ctx, app) };
}

function operationResult(ctx: ArmContext): SimResponse {
  const op = ctx.core.state.operations[ctx.params.operationId];
  if (!op || op.kind !== 'containerAppUpdate' || op.principalId !== ctx.caller.objectId)
    throw new SimError(404, 'NotFound', `The operation '${ctx.params.operationId}' could not be found.`);
  return {
    status: 200,
    headers: op.status === 'InProgress' ? retryAfter(op.startedAt + ctx.core.delays.lroMs - ctx.core.now()) : {},
    body: {
      id: decodeURIComponent(ctx.req.path),
      name: op.id,
      status: op.status,
      startTime: isoSeconds(op.startedAt),
      ...(op.endedAt ? { endTime: isoSeconds(op.endedAt) } : {}),
      ...(op.error ? { error: { code: 'ContainerAppOperationError', message: op.error.message } } : {}),
    },
  };
}

// --- reads and revision actions -----------------------------------------------------------------------------------

function listApps(ctx: ArmContext): SimResponse {
  const rg = ctx.params.rg ? resourceGroupOf(ctx).name : undefined;
  const value = Object.values(ctx.core.state.containerApps ?? {})
    .filter((a) => key(a.subscriptionId) === key(ctx.subscription!.id) && (!rg || key(a.resourceGroup) === key(rg)))
    .map((a) => appView(ctx, a));
  return { status: 200, body: pageOf(ctx, value) };
}

function listSecrets(ctx: ArmContext): SimResponse {
  const app = findApp(ctx);
  return {
    status: 200,
    body: {
      value: app.secrets.map((s) =>
        s.keyVaultUrl
          ? { name: s.name, keyVaultUrl: s.keyVaultUrl, identity: s.identity }
          : { name: s.name, value: s.value },
      ),
    },
  };
}

async function revisionAction(ctx: ArmContext, action: 'activate' | 'deactivate' | 'restart'): Promise<SimResponse> {
  const app = findApp(ctx);
  const rev = findRevision(ctx, app);
  const runtime = ctx.core.containerApps;
  if (action === 'deactivate') {
    if (liveRevisions(app).length === 1 && rev.active && app.configuration.activeRevisionsMode === 'Single')
      throw badRequest(
        `Cannot deactivate the only active revision '${rev.name}' of a container app in single revision mode.`,
        'ContainerAppRevisionCannotBeDeactivated',
      );
    rev.active = false;
    await runtime.stop(app, rev);
  } else {
    rev.active = true;
    await runtime.start(app, rev);
  }
  ctx.core.persist();
  return { status: 200 };
}

const READ = `${TYPE}/read`;
const WRITE = `${TYPE}/write`;

export const containerAppRoutes: ArmRoute[] = [
  {
    method: 'GET',
    template: APP,
    operation: READ,
    action: READ,
    scope: appScope,
    handler: (ctx) => ({ status: 200, body: appView(ctx, findApp(ctx)) }),
  },
  {
    method: 'PUT',
    template: APP,
    operation: WRITE,
    action: WRITE,
    scope: appScope,
    handler: (ctx) => write(ctx, 'PUT'),
  },
  {
    method: 'PATCH',
    template: APP,
    operation: WRITE,
    action: WRITE,
    scope: appScope,
    handler: (ctx) => write(ctx, 'PATCH'),
  },
  {
    method: 'POST',
    template: `${APP}/listSecrets`,
    operation: `${TYPE}/listSecrets/action`,
    action: `${TYPE}/listSecrets/action`,
    scope: appScope,
    handler: listSecrets,
  },
  {
    method: 'GET',
    template: `${RG}/providers/Microsoft.App/containerApps`,
    operation: READ,
    action: READ,
    scope: (p) => `/subscriptions/${p.sub}/resourceGroups/${p.rg}`,
    handler: listApps,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.App/containerApps`,
    operation: READ,
    action: READ,
    scope: (p) => `/subscriptions/${p.sub}`,
    handler: listApps,
  },
  {
    method: 'GET',
    template: `${APP}/revisions`,
    operation: `${TYPE}/revisions/read`,
    action: `${TYPE}/revisions/read`,
    scope: appScope,
    handler: (ctx) => {
      const app = findApp(ctx);
      const page = pageOf(
        ctx,
        Object.values(app.revisions).map((r) => revisionView(ctx, app, r)),
      );
      // Container Apps answers the last page with an explicit `nextLink: null` (Revisions_List.json).
      return { status: 200, body: { ...page, nextLink: page.nextLink ?? null } };
    },
  },
  {
    method: 'GET',
    template: REVISION,
    operation: `${TYPE}/revisions/read`,
    action: `${TYPE}/revisions/read`,
    scope: appScope,
    handler: (ctx) => {
      const app = findApp(ctx);
      return { status: 200, body: revisionView(ctx, app, findRevision(ctx, app)) };
    },
  },
  ...(['activate', 'deactivate', 'restart'] as const).map((action): ArmRoute => ({
    method: 'POST',
    template: `${REVISION}/${action}`,
    operation: `${TYPE}/revisions/${action}/action`,
    action: `${TYPE}/revisions/${action}/action`,
    scope: appScope,
    handler: (ctx) => revisionAction(ctx, action),
  })),
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.App/locations/{location}/containerappOperationResults/{operationId}`,
    operation: 'Microsoft.App/locations/containerappOperationResults/read',
    // The operation's owner reads it, whatever its roles (as ARM).
    action: null,
    handler: operationResult,
  },
];
