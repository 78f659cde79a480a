/**
 * `cutover inventory --account NAME`: who can call an Azure OpenAI account. Identities holding a role with
 * data actions on it (they call with tokens), and apps whose settings hold one of its keys (they would break if
 * local auth were disabled). Read-only; key values never leave this process.
 */
import { createAzureClients, currentCredential } from '../../activities/azure-clients';
import { createActivities } from '../../activities/migration';
import { accountResourceId, authorizationScope } from '../../activities/resources';
import type { KeyCaller } from '../../workflows/types';
import { azureAccess, type CliContext } from '../context';
import { UserError } from '../errors';
import { table } from '../render';

export interface InventoryOptions {
  readonly account: string;
  readonly resourceGroup: string;
  readonly subscription?: string;
}

export interface TokenCaller {
  readonly principalId: string;
  readonly principalType?: string;
  readonly role: string;
  readonly scope: string;
  readonly roleAssignmentId: string;
}

export interface InventoryResult {
  readonly account: string;
  /** Whether key (local) auth is disabled on the account: then no key caller can work. */
  readonly localAuthDisabled: boolean;
  readonly tokenCallers: readonly TokenCaller[];
  readonly keyCallers: readonly KeyCaller[];
}

export async function inventoryCommand(ctx: CliContext, opts: InventoryOptions): Promise<InventoryResult> {
  const subscriptionId = opts.subscription ?? (ctx.config.azureConfigured ? undefined : ctx.dev?.azure.subscriptionId);
  if (!subscriptionId)
    throw new UserError('--subscription is required', 'the subscription id of the Azure OpenAI account');
  const access = azureAccess(ctx);
  const account = { subscriptionId, resourceGroup: opts.resourceGroup, name: opts.account };
  const accountId = accountResourceId(account);
  const { authorization, cognitive } = createAzureClients(
    currentCredential(access.credential),
    subscriptionId,
    access.endpoints,
  );
  let localAuthDisabled: boolean;
  try {
    localAuthDisabled =
      (await cognitive.accounts.get(opts.resourceGroup, opts.account)).properties?.disableLocalAuth === true;
  } catch (err) {
    const e = err as { statusCode?: number; code?: string; message?: string };
    throw new UserError(
      `cannot read account ${opts.account}: ${e.statusCode ?? ''} ${e.code ?? e.message ?? ''}`.trim(),
      'check --account, --resource-group and --subscription, and the worker’s Reader rights',
    );
  }
  const tokenCallers: TokenCaller[] = [];
  const roleNames = new Map<string, { name: string; data: boolean }>();
  try {
    for await (const ra of authorization.roleAssignments.listForScope(authorizationScope(accountId))) {
      const defId = ra.roleDefinitionId ?? '';
      if (!roleNames.has(defId)) {
        const def = await authorization.roleDefinitions.getById(authorizationScope(defId));
        const data = (def.permissions ?? []).some((p) =>
          (p.dataActions ?? []).some((a) => /^Microsoft\.CognitiveServices\/|^\*$/i.test(a)),
        );
        roleNames.set(defId, { name: def.roleName ?? defId, data });
      }
      const role = roleNames.get(defId)!;
      if (role.data)
        tokenCallers.push({
          principalId: ra.principalId ?? '',
          ...(ra.principalType ? { principalType: ra.principalType } : {}),
          role: role.name,
          scope: ra.scope ?? '',
          roleAssignmentId: ra.id ?? '',
        });
    }
  } catch (err) {
    const e = err as { statusCode?: number; code?: string; message?: string };
    throw new UserError(
      `cannot list role assignments on ${opts.account}: ${e.statusCode ?? ''} ${e.code ?? e.message ?? ''}`.trim(),
      'check the account name, resource group and the worker’s Reader rights',
    );
  }
  const activities = createActivities({
    credential: access.credential,
    endpoints: access.endpoints,
    evidenceDir: ctx.config.evidenceDir,
  });
  const keyCallers = await activities.findKeyCallers({ account, excludeSiteIds: [] });
  const result: InventoryResult = { account: accountId, localAuthDisabled, tokenCallers, keyCallers };
  ctx.out.result(result, () =>
    [
      `Callers of ${opts.account} (key auth ${localAuthDisabled ? 'disabled' : 'enabled'})`,
      '',
      `With a data-plane role (${tokenCallers.length}):`,
      tokenCallers.length
        ? table(
            tokenCallers.map((c) => [c.principalId, c.principalType ?? '', c.role, c.scope]),
            ['PRINCIPAL', 'TYPE', 'ROLE', 'SCOPE'],
          )
        : '  none',
      '',
      localAuthDisabled
        ? 'Holding its key in app settings: none can work — key auth is disabled.'
        : `Holding its key in app settings (${keyCallers.length}) — these break if local auth is disabled:`,
      localAuthDisabled
        ? ''
        : keyCallers.length
          ? table(
              keyCallers.map((c) => [c.siteResourceId, c.unverifiable ?? c.settingNames.join(', ')]),
              ['APP', 'SETTINGS'],
            )
          : '  none',
    ].join('\n'),
  );
  return result;
}
