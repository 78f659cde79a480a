/**
 * `cutover inventory --account NAME`: who can call an Azure OpenAI account. Identities holding a role with
 * data actions on it (they call with tokens), and apps whose settings hold one of its keys (they would break if
 * local auth were disabled). Read-only; key values never leave this process.
 */
import {
  findKeyHolders,
  observedInventory,
  type ObservedInventory,
  tokenCallers as listTokenCallers,
  type TokenCaller,
} from '../../azure/inventory';
import { formatDuration, parseDuration } from '../../plan/durations';
import { accountResourceId } from '../../azure/resources';
import { keyCallersOf } from '../../contracts/key-holders';
import type { KeyCaller } from '../../contracts/model';
import { azureContext } from '../azure';
import type { CliContext } from '../context';
import { UserError } from '../errors';
import { table } from '../render';

export type { TokenCaller };

export interface InventoryOptions {
  readonly account: string;
  readonly resourceGroup: string;
  readonly subscription?: string;
  /** How far back to read the account's diagnostic logs ("7d", "24h"). */
  readonly window?: string;
}

export interface InventoryResult {
  readonly account: string;
  /** Whether key (local) auth is disabled on the account: then no key caller can work. */
  readonly localAuthDisabled: boolean;
  readonly tokenCallers: readonly TokenCaller[];
  readonly keyCallers: readonly KeyCaller[];
  /** Who called the account over the window, from its diagnostic logs (or why that cannot be read). */
  readonly observed: ObservedInventory;
}

export async function inventoryCommand(ctx: CliContext, opts: InventoryOptions): Promise<InventoryResult> {
  const windowMs = parseDuration(opts.window ?? '7d');
  if (windowMs === undefined || windowMs <= 0)
    throw new UserError(`--window ${opts.window} is not a duration`, 'for example --window 7d or --window 24h');
  const subscriptionId = opts.subscription ?? (ctx.config.azureConfigured ? undefined : ctx.dev?.azure.subscriptionId);
  if (!subscriptionId)
    throw new UserError('--subscription is required', 'the subscription id of the Azure OpenAI account');
  const azure = azureContext(ctx);
  const account = { subscriptionId, resourceGroup: opts.resourceGroup, name: opts.account };
  const accountId = accountResourceId(account);
  const unreadable = (what: string, hint: string) => (err: unknown) => {
    const e = err as { statusCode?: number; code?: string; message?: string };
    throw new UserError(`cannot ${what}: ${e.statusCode ?? ''} ${e.code ?? e.message ?? ''}`.trim(), hint);
  };
  const localAuthDisabled = await azure
    .clients(subscriptionId)
    .cognitive.accounts.get(opts.resourceGroup, opts.account)
    .then(
      (a) => a.properties?.disableLocalAuth === true,
      unreadable(
        `read account ${opts.account}`,
        'check --account, --resource-group and --subscription, and the worker’s Reader rights',
      ),
    );
  const tokenCallers = await listTokenCallers(azure, account).catch(
    unreadable(
      `list role assignments on ${opts.account}`,
      'check the account name, resource group and the worker’s Reader rights',
    ),
  );
  const keyCallers = keyCallersOf(await findKeyHolders(azure, { account, exclude: [] }));
  const now = Date.now();
  const observed = await observedInventory(
    azure,
    account,
    { start: new Date(now - windowMs).toISOString(), end: new Date(now).toISOString() },
    keyCallers.filter((c) => !c.unverifiable).map((c) => c.siteResourceId),
  );
  const result: InventoryResult = { account: accountId, localAuthDisabled, tokenCallers, keyCallers, observed };
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
              keyCallers.map((c) => [c.kind ?? '', c.siteResourceId, c.unverifiable ?? c.settingNames.join(', ')]),
              ['KIND', 'APP', 'SETTINGS'],
            )
          : '  none',
      '',
      ...renderObserved(observed, formatDuration(windowMs)),
    ].join('\n'),
  );
  return result;
}

function renderObserved(observed: ObservedInventory, window: string): string[] {
  if (observed.status === 'unobservable') return [`Seen calling it over the last ${window}: unknown — ${observed.why}`];
  const { callers } = observed;
  return [
    `Seen calling it over the last ${window} (diagnostic logs, ${callers.length}):`,
    callers.length
      ? table(
          callers.map((c) => [
            c.objectId ? 'token' : 'KEY',
            c.objectId ?? '',
            c.knownAs ?? (c.objectId ? 'unresolved identity' : 'unknown'),
            c.ip,
            c.userAgent ?? '',
            String(c.calls),
            String(c.failed),
            c.lastSeen,
          ]),
          ['AUTH', 'OBJECT ID', 'WHO', 'ADDRESS', 'USER AGENT', 'CALLS', 'FAILED', 'LAST SEEN'],
        )
      : '  nobody',
  ];
}
