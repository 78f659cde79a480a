/**
 * Role definitions as the worker reads them. Built-in roles do not change under a running worker, so each is read
 * once per process and subscription (by id, or by name at a scope) — every migration of a fleet checks the same
 * four or five roles, and reading them again for each would be most of its preflight's requests. Custom roles can
 * change at any time: they are read every time.
 */
import type { AuthorizationManagementClient, RoleDefinition } from '@azure/arm-authorization';
import { authorizationScope } from './resources';

const BUILT_IN = 'BuiltInRole';
/** Reads by key, in flight or done: concurrent migrations asking for the same role share one read. */
const byId = new Map<string, Promise<RoleDefinition>>();
const byName = new Map<string, Promise<RoleDefinition[]>>();

/** The cached read of `key`, or a new one kept only if `keep` says its answer is a built-in role's. */
function shared<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>, keep: (v: T) => boolean) {
  const known = cache.get(key);
  if (known) return known;
  const reading = read();
  cache.set(key, reading);
  reading.then(
    (v) => {
      if (!keep(v)) cache.delete(key);
    },
    () => cache.delete(key),
  );
  return reading;
}

const subscriptionPart = (scopeOrId: string) => /subscriptions\/([^/]+)/i.exec(scopeOrId)?.[1]?.toLowerCase() ?? '';
const guidOf = (id: string) => id.split('/').pop()!.toLowerCase();

/** The role definition with this id (`/subscriptions/…/roleDefinitions/<guid>`). */
export async function roleDefinitionById(
  authorization: AuthorizationManagementClient,
  id: string,
): Promise<RoleDefinition> {
  return shared(
    byId,
    `${subscriptionPart(id)}|${guidOf(id)}`,
    () => authorization.roleDefinitions.getById(authorizationScope(id)),
    (def) => def.roleType === BUILT_IN,
  );
}

/** The role definitions named `roleName` that are usable at `scope` (none, or one). */
export async function roleDefinitionsNamed(
  authorization: AuthorizationManagementClient,
  scope: string,
  roleName: string,
): Promise<RoleDefinition[]> {
  const defs = await shared(
    byName,
    `${subscriptionPart(scope)}|${roleName.toLowerCase()}`,
    async () => {
      const out: RoleDefinition[] = [];
      for await (const d of authorization.roleDefinitions.list(authorizationScope(scope), {
        filter: `roleName eq '${roleName.replace(/'/g, "''")}'`,
      }))
        out.push(d);
      return out;
    },
    (out) => out.length === 1 && out[0].roleType === BUILT_IN,
  );
  return [...defs];
}

/** Forgets every cached read: the state of a worker that just started (a test's second run in one process). */
export function forgetRoleDefinitions(): void {
  byId.clear();
  byName.clear();
}
