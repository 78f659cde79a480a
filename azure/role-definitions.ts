/**
 * Role definitions as the worker reads them. Built-in roles do not change under a running worker, so each is read
 * once per process and subscription (by id, or by name at a scope) — every migration of a fleet checks the same
 * four or five roles, and reading them again for each would be most of its preflight's requests. Custom roles can
 * change at any time: they are read every time.
 */
import type { AuthorizationManagementClient, RoleDefinition } from '@azure/arm-authorization';
import { authorizationScope } from './resources';

const BUILT_IN = 'BuiltInRole';
const byId = new Map<string, RoleDefinition>();
const byName = new Map<string, RoleDefinition>();

const subscriptionPart = (scopeOrId: string) => /subscriptions\/([^/]+)/i.exec(scopeOrId)?.[1]?.toLowerCase() ?? '';
const guidOf = (id: string) => id.split('/').pop()!.toLowerCase();

/** The role definition with this id (`/subscriptions/…/roleDefinitions/<guid>`). */
export async function roleDefinitionById(
  authorization: AuthorizationManagementClient,
  id: string,
): Promise<RoleDefinition> {
  const cacheKey = `${subscriptionPart(id)}|${guidOf(id)}`;
  const known = byId.get(cacheKey);
  if (known) return known;
  const def = await authorization.roleDefinitions.getById(authorizationScope(id));
  if (def.roleType === BUILT_IN) byId.set(cacheKey, def);
  return def;
}

/** The role definitions named `roleName` that are usable at `scope` (none, or one). */
export async function roleDefinitionsNamed(
  authorization: AuthorizationManagementClient,
  scope: string,
  roleName: string,
): Promise<RoleDefinition[]> {
  const cacheKey = `${subscriptionPart(scope)}|${roleName.toLowerCase()}`;
  const known = byName.get(cacheKey);
  if (known) return [known];
  const out: RoleDefinition[] = [];
  for await (const d of authorization.roleDefinitions.list(authorizationScope(scope), {
    filter: `roleName eq '${roleName.replace(/'/g, "''")}'`,
  }))
    out.push(d);
  if (out.length === 1 && out[0].roleType === BUILT_IN) byName.set(cacheKey, out[0]);
  return out;
}
