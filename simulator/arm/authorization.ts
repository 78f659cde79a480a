/**
 * Microsoft.Authorization: role definitions (built-ins, listed at any scope, `$filter=roleName eq '…'`) and role
 * assignments at any scope with Azure's semantics — GUID names, idempotent PUT (201 then 200), 409
 * `RoleAssignmentExists` for the same (principal, role, scope) under another name, 400
 * `RoleAssignmentUpdateNotPermitted`, `PrincipalNotFound` while a new principal replicates, DELETE 200/204.
 * Assignments to Entra groups carry `principalType: 'Group'`; `$filter=assignedTo('{id}')` lists the principal's
 * own assignments and its groups' (transitively, membership as of now), `principalId eq '{id}'` only its own.
 */
import { type SimResponse, SimError, isRecord, jsonBody } from '../http';
import { type RoleAssignment, key } from '../model';
import { effectivePrincipalIds, groupById } from '../groups';
import { type RoleDefinition, BUILT_IN_ROLES, findRole, isGuid, scopeCovers } from '../rbac';
import { pageOf } from './paging';
import { type ArmContext, type ArmRoute, badRequest } from './router';

const PROVIDER = '/providers/Microsoft.Authorization';

/** `/subscriptions/{sub}/…` scopes answer role definition ids qualified by the subscription, like Azure. */
function roleDefinitionId(scope: string, guid: string): string {
  const sub = /^\/subscriptions\/[^/]+/i.exec(scope)?.[0] ?? '';
  return `${sub}${PROVIDER}/roleDefinitions/${guid}`;
}

function definitionView(scope: string, def: RoleDefinition) {
  return {
    id: roleDefinitionId(scope, def.id),
    name: def.id,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: def.roleName,
      type: 'BuiltInRole',
      description: def.description,
      assignableScopes: ['/'],
      permissions: def.permissions.map((p) => ({
        actions: [...p.actions],
        notActions: [...p.notActions],
        dataActions: [...p.dataActions],
        notDataActions: [...p.notDataActions],
      })),
      createdOn: '2015-02-02T21:55:09.8806423Z',
      updatedOn: '2024-04-24T15:00:00.0000000Z',
      createdBy: null,
      updatedBy: null,
    },
  };
}

function assignmentView(ra: RoleAssignment) {
  return {
    id: ra.id,
    name: ra.name,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      roleDefinitionId: roleDefinitionId(ra.scope, ra.roleDefinitionId),
      principalId: ra.principalId,
      principalType: ra.principalType,
      scope: ra.scope,
      condition: null,
      conditionVersion: null,
      createdOn: new Date(ra.createdOn).toISOString(),
      updatedOn: new Date(ra.updatedOn).toISOString(),
      createdBy: ra.createdBy,
      updatedBy: ra.updatedBy,
      delegatedManagedIdentityResourceId: null,
      description: ra.description,
    },
  };
}

interface Filter {
  atScope: boolean;
  /** `principalId eq '…'`: the assignments to that principal or group itself. */
  principalId?: string;
  /** `assignedTo('…')`: the principal's own assignments and those of the groups it is a (transitive) member of. */
  assignedTo?: string;
  roleName?: string;
  type?: string;
}

/** Parses the `$filter` forms the SDKs send; unknown filters are Azure's 400 `InvalidFilter`. */
function parseFilter(raw: string | null): Filter {
  const out: Filter = { atScope: false };
  if (!raw) return out;
  for (const clause of raw.split(/\s+and\s+/i)) {
    const c = clause.trim();
    let m: RegExpExecArray | null;
    if (/^atScope\(\)$/i.test(c)) out.atScope = true;
    else if ((m = /^assignedTo\('([^']+)'\)$/i.exec(c))) out.assignedTo = m[1];
    else if ((m = /^principalId\s+eq\s+'([^']+)'$/i.exec(c))) out.principalId = m[1];
    else if ((m = /^roleName\s+eq\s+'([^']*)'$/i.exec(c))) out.roleName = m[1];
    else if ((m = /^type\s+eq\s+'([^']*)'$/i.exec(c))) out.type = m[1];
    else throw new SimError(400, 'InvalidFilter', `The filter '${raw}' is not supported.`);
  }
  return out;
}

function listDefinitions(ctx: ArmContext): SimResponse {
  const filter = parseFilter(ctx.req.url.searchParams.get('$filter'));
  const value = BUILT_IN_ROLES.filter(
    (d) => !filter.roleName || d.roleName.toLowerCase() === filter.roleName.toLowerCase(),
  )
    .filter(() => !filter.type || filter.type.toLowerCase() === 'builtinrole')
    .map((d) => definitionView(ctx.params.scope, d));
  return { status: 200, body: pageOf(ctx, value) };
}

/** A role definition id that is not a GUID is malformed (400), a GUID of no role does not exist (404). */
function invalidRoleDefinitionId(id: string): SimError {
  return badRequest(`The role definition ID '${id}' is not valid.`, 'InvalidRoleDefinitionId');
}

function getDefinition(ctx: ArmContext): SimResponse {
  if (!isGuid(ctx.params.id)) throw invalidRoleDefinitionId(ctx.params.id);
  const def = findRole(ctx.params.id);
  if (!def)
    throw new SimError(
      404,
      'RoleDefinitionDoesNotExist',
      `The specified role definition with ID '${ctx.params.id}' does not exist.`,
    );
  return { status: 200, body: definitionView(ctx.params.scope, def) };
}

function listAssignments(ctx: ArmContext): SimResponse {
  const scope = ctx.params.scope;
  const filter = parseFilter(ctx.req.url.searchParams.get('$filter'));
  // Membership as it is now (a group removed from it no longer lists, one added does).
  const assignedTo = filter.assignedTo ? effectivePrincipalIds(ctx.core.state, filter.assignedTo) : undefined;
  const value = Object.values(ctx.core.state.roleAssignments)
    // at or above the scope; below it too unless atScope()
    .filter((ra) => scopeCovers(ra.scope, scope) || (!filter.atScope && scopeCovers(scope, ra.scope)))
    .filter((ra) => !filter.principalId || ra.principalId.toLowerCase() === filter.principalId.toLowerCase())
    .filter((ra) => !assignedTo || assignedTo.has(ra.principalId.toLowerCase()))
    .sort((a, b) => a.createdOn - b.createdOn)
    .map(assignmentView);
  return { status: 200, body: pageOf(ctx, value) };
}

function findAssignment(ctx: ArmContext): RoleAssignment | undefined {
  return ctx.core.state.roleAssignments[key(`${ctx.params.scope}${PROVIDER}/roleAssignments/${ctx.params.name}`)];
}

function getAssignment(ctx: ArmContext): SimResponse {
  const ra = findAssignment(ctx);
  if (!ra) throw new SimError(404, 'RoleAssignmentNotFound', `The role assignment '${ctx.params.name}' is not found.`);
  return { status: 200, body: assignmentView(ra) };
}

function putAssignment(ctx: ArmContext): SimResponse {
  const { scope, name } = ctx.params;
  const core = ctx.core;
  if (!isGuid(name)) {
    throw badRequest(
      `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
      'InvalidRoleAssignmentId',
    );
  }
  const body = jsonBody(ctx.req);
  const props = isRecord(body) ? body.properties : undefined;
  if (!isRecord(props)) throw badRequest('The request body must carry properties.', 'InvalidRequestContent');
  const { roleDefinitionId: rdRaw, principalId, principalType } = props;
  if (typeof rdRaw !== 'string' || typeof principalId !== 'string') {
    throw badRequest(
      "'properties.roleDefinitionId' and 'properties.principalId' are required.",
      'InvalidRequestContent',
    );
  }
  if (!isGuid(principalId))
    throw badRequest(
      `The principal ID '${principalId}' is not valid. Principal ID must be a GUID.`,
      'InvalidPrincipalId',
    );
  const guid = rdRaw.split('/').pop() ?? '';
  if (!isGuid(guid)) throw invalidRoleDefinitionId(guid);
  const def = findRole(guid);
  if (!def)
    throw badRequest(`The specified role definition with ID '${guid}' does not exist.`, 'RoleDefinitionDoesNotExist');
  if (principalType !== undefined && typeof principalType !== 'string')
    throw badRequest("'properties.principalType' must be a string.", 'InvalidRequestContent');
  const description = typeof props.description === 'string' ? props.description : null;

  const id = `${scope}${PROVIDER}/roleAssignments/${name}`;
  const sameName = Object.values(core.state.roleAssignments).find((ra) => ra.name.toLowerCase() === name.toLowerCase());
  if (sameName) {
    const same =
      key(sameName.scope) === key(scope) &&
      sameName.principalId.toLowerCase() === principalId.toLowerCase() &&
      sameName.roleDefinitionId === def.id;
    if (!same)
      throw badRequest(
        'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
        'RoleAssignmentUpdateNotPermitted',
      );
    return { status: 200, body: assignmentView(sameName) };
  }
  const duplicate = Object.values(core.state.roleAssignments).find(
    (ra) =>
      key(ra.scope) === key(scope) &&
      ra.principalId.toLowerCase() === principalId.toLowerCase() &&
      ra.roleDefinitionId === def.id,
  );
  if (duplicate) {
    throw new SimError(
      409,
      'RoleAssignmentExists',
      `The role assignment already exists. The ID of the existing role assignment is ${duplicate.name.replace(/-/g, '')}.`,
    );
  }

  // Without principalType, Azure looks the principal up in the directory, where a new one may not be yet.
  const principal =
    core.principal(principalId.toLowerCase()) ?? core.principal(principalId) ?? groupById(core.state, principalId);
  const young = principal && core.now() - principal.createdAt < core.delays.principalReplicationMs;
  if (principalType === undefined && (!principal || young)) {
    const tenantId = ctx.subscription?.tenantId ?? ctx.caller.tenantId;
    throw badRequest(
      `Principal ${principalId.replace(/-/g, '')} does not exist in the directory ${tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
      'PrincipalNotFound',
    );
  }
  const actualType = principal ? ('members' in principal ? 'Group' : 'ServicePrincipal') : undefined;
  if (principalType !== undefined && actualType && principalType !== actualType) {
    throw badRequest(
      `The PrincipalId '${principalId.replace(/-/g, '')}' has type '${actualType}' , which is different from specified PrincipalType '${principalType}'.`,
      'UnmatchedPrincipalType',
    );
  }

  const now = core.now();
  const ra: RoleAssignment = {
    id,
    name,
    scope,
    roleDefinitionId: def.id,
    principalId,
    principalType: principalType ?? actualType ?? 'ServicePrincipal',
    createdOn: now,
    updatedOn: now,
    createdBy: ctx.caller.objectId,
    updatedBy: ctx.caller.objectId,
    description,
  };
  core.state.roleAssignments[key(id)] = ra;
  core.roleAssignmentsChanged();
  core.persist();
  return { status: 201, body: assignmentView(ra) };
}

function deleteAssignment(ctx: ArmContext): SimResponse {
  const ra = findAssignment(ctx);
  if (!ra) return { status: 204 };
  delete ctx.core.state.roleAssignments[key(ra.id)];
  ctx.core.roleAssignmentsChanged();
  // The data plane keeps honouring it until the removal propagates.
  ctx.core.state.revokedAssignments.push({ ...ra, deletedOn: ctx.core.now() });
  ctx.core.persist();
  return { status: 200, body: assignmentView(ra) };
}

/** Built-in role definitions are public at the tenant root; anywhere else reading them needs the read action. */
function authorizeDefinitionRead(ctx: ArmContext): void {
  if (ctx.params.scope) ctx.authorize('Microsoft.Authorization/roleDefinitions/read', ctx.params.scope);
}

const scopeOrRoot = (p: Record<string, string>) => p.scope || '/';

export const authorizationRoutes: ArmRoute[] = [
  {
    method: 'GET',
    template: `{*scope}${PROVIDER}/roleDefinitions`,
    operation: 'Microsoft.Authorization/roleDefinitions/read',
    action: null,
    handler: (ctx) => {
      authorizeDefinitionRead(ctx);
      return listDefinitions(ctx);
    },
  },
  {
    method: 'GET',
    template: `{*scope}${PROVIDER}/roleDefinitions/{id}`,
    operation: 'Microsoft.Authorization/roleDefinitions/read',
    action: null,
    handler: (ctx) => {
      authorizeDefinitionRead(ctx);
      return getDefinition(ctx);
    },
  },
  {
    method: 'GET',
    template: `{*scope}${PROVIDER}/roleAssignments`,
    operation: 'Microsoft.Authorization/roleAssignments/read',
    action: 'Microsoft.Authorization/roleAssignments/read',
    scope: scopeOrRoot,
    handler: listAssignments,
  },
  {
    method: 'GET',
    template: `{*scope}${PROVIDER}/roleAssignments/{name}`,
    operation: 'Microsoft.Authorization/roleAssignments/read',
    action: 'Microsoft.Authorization/roleAssignments/read',
    scope: scopeOrRoot,
    handler: getAssignment,
  },
  {
    method: 'PUT',
    template: `{*scope}${PROVIDER}/roleAssignments/{name}`,
    operation: 'Microsoft.Authorization/roleAssignments/write',
    action: 'Microsoft.Authorization/roleAssignments/write',
    scope: scopeOrRoot,
    handler: putAssignment,
  },
  {
    method: 'DELETE',
    template: `{*scope}${PROVIDER}/roleAssignments/{name}`,
    operation: 'Microsoft.Authorization/roleAssignments/delete',
    action: 'Microsoft.Authorization/roleAssignments/delete',
    scope: scopeOrRoot,
    handler: deleteAssignment,
  },
];
