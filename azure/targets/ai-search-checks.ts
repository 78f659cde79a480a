/**
 * What preflight checks of an AI Search plan, read-only, before anything changes: the probes are the service's
 * own (`/health/identity` or none, no base URL); each `apiKey` the plan removes belongs to a caller of the plan's account
 * (its `resourceUri` is one of the account's endpoints); and, since Azure shows keys as `<redacted>`, the plan says
 * which of the account's keys they hold (`target.accountKey`) — the one a rollback reads again and puts back.
 */
import type { SettingSnapshot } from '../../contracts/model';
import { type MigrationPlan, targetOf } from '../../plan/schema';
import type { AzureContext } from '../context';
import { fingerprint } from '../resources';
import type { HostingFinding, TargetView } from './adapter';
import { HIDDEN_KEY, parseSettingName, settingName } from './ai-search-settings';

/** `https://x.openai.azure.com/` and `https://x.openai.azure.com` alike. */
const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

export async function checkSearchPlan(
  ctx: AzureContext,
  _view: TargetView,
  plan: MigrationPlan,
  readSettings: () => Promise<Record<string, string>>,
): Promise<readonly HostingFinding[]> {
  const findings: HostingFinding[] = [];
  const probe = plan.smokeTest.identityProbePath;
  if (probe !== 'none' && probe.split('?')[0].replace(/\/+$/, '') !== '/health/identity')
    findings.push({
      problem: `a search service has no identity probe at ${probe}: its probe is /health/identity (a throwaway index whose vectorizer uses the identity)`,
      hint: 'set smokeTest.identityProbePath to /health/identity[?index=…&vectorizer=…], or none to wait propagationWait out in full',
    });
  if (plan.smokeTest.baseUrl)
    findings.push({
      problem:
        'smokeTest.baseUrl does not apply to a search service: its smoke test is a vector query and an indexer run',
      hint: 'remove smokeTest.baseUrl; name what to test in smokeTest.path (/health?index=…&indexer=…)',
    });
  const keys = plan.settings.remove.filter((n) => parseSettingName(n)?.field === 'apiKey');
  if (keys.length === 0) return findings;
  if (!targetOf(plan).accountKey)
    findings.push({
      problem: `Azure AI Search shows the keys of ${keys.join(', ')} as ${HIDDEN_KEY}, so cutover cannot tell which key of ${plan.account.name} to put back on rollback`,
      hint: 'give target.accountKey: key1 or key2 (which key the skills and vectorizers hold)',
    });
  const { account } = plan;
  const [settings, props] = await Promise.all([
    readSettings(),
    ctx.clients(account.subscriptionId).cognitive.accounts.get(account.resourceGroup, account.name),
  ]);
  const endpoints = [props.properties?.endpoint, ...Object.values(props.properties?.endpoints ?? {})].filter(
    (e): e is string => !!e,
  );
  for (const name of keys) {
    const uri = settings[settingName({ ...parseSettingName(name)!, field: 'resourceUri' })];
    if (settings[name] !== undefined && uri !== undefined && !endpoints.some((e) => sameUrl(e, uri)))
      findings.push({
        problem: `${name} is the key of ${uri}, not of ${account.name}`,
        hint: 'remove only the keys of skills and vectorizers that call the plan’s account',
      });
  }
  return findings;
}

/** A removed or set `apiKey` that reads `<redacted>`: the account key the plan names, else not restorable. */
export function snapshotHiddenKey(
  plan: MigrationPlan,
  name: string,
  value: string | undefined,
): SettingSnapshot | undefined {
  if (value !== HIDDEN_KEY || parseSettingName(name)?.field !== 'apiKey') return undefined;
  const keyName = targetOf(plan).accountKey;
  return keyName
    ? { kind: 'account-key', fingerprint: fingerprint(value), keyName }
    : { kind: 'secret', fingerprint: fingerprint(value) };
}
