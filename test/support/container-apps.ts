/**
 * What the container-app integration tests look at: the parts of the estate a migration may change (footprint),
 * an app's revision history, its health endpoint as a caller reaches it, and a migration under load.
 */
import assert from 'node:assert/strict';
import { httpRequest } from '../../azure/http';
import type { MigrationResult } from '../../contracts/model';
import { startLoad } from '../../simulator';
import type { Estate } from './estate';
import { accessAfter, accessFootprint } from './footprint';
import { assertNoFailedCall } from './steady-calls';
import { WAIT_MS } from './wait';

export const RG = 'rg-aca';

/** The parts of the estate a container app migration may change. */
export function footprint(estate: Estate, accountName: string) {
  const s = estate.sim.control.state();
  const apps = Object.values(s.containerApps ?? {})
    .map((app) => {
      const live = Object.values(app.revisions).filter((r) => r.active);
      return {
        name: app.name,
        systemPrincipalId: app.systemPrincipalId ?? null,
        userAssigned: app.userAssigned.map((u) => u.toLowerCase()).sort(),
        secrets: [...app.secrets].sort((a, b) => a.name.localeCompare(b.name)),
        mode: app.configuration.activeRevisionsMode,
        traffic: app.configuration.ingress?.traffic,
        tags: app.tags,
        image: app.template.containers[0].image,
        // The order of env vars means nothing to a container: compared by name.
        liveEnv: live.map((r) =>
          Object.fromEntries(
            (r.template.containers[0].env ?? [])
              .map(
                (v) => [v.name, v.secretRef !== undefined ? { secretRef: v.secretRef } : { value: v.value }] as const,
              )
              .sort(([a], [b]) => a.localeCompare(b)),
          ),
        ),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return { apps, ...accessFootprint(s, accountName) };
}

export type Footprint = ReturnType<typeof footprint>;

export function appOf(fp: Footprint, name: string) {
  const app = fp.apps.find((a) => a.name === name);
  assert.ok(app, `${name} in the footprint`);
  return app;
}

/** Revision names of an app, oldest first, with whether each is active. */
export async function revisions(estate: Estate, name: string): Promise<{ name: string; active: boolean }[]> {
  const out: { name: string; active: boolean }[] = [];
  for await (const r of estate.azure.containerApps.containerAppsRevisions.listRevisions(RG, name))
    out.push({ name: r.name!, active: r.active! });
  return out;
}

/** `GET /health` on the app's FQDN until it says which auth mode it runs. */
export async function health(estate: Estate, name: string) {
  const app = await estate.azure.containerApps.containerApps.get(RG, name);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const res = await httpRequest(`https://${app.configuration!.ingress!.fqdn!}/health`, {
      timeoutMs: 30_000,
      ca: estate.sim.info.caCert,
    });
    const body = res.json<{ authMode?: string }>() ?? {};
    if (body.authMode || Date.now() > deadline) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * What a successful system-assigned migration of `name` leaves: a system identity (the principal Azure chose), one
 * role assignment for it on the account, the live env without the key's env var and with the identity mode, key
 * auth off, the secret that held the key removed; everything else as it was.
 */
export function expectedAfter(beforeState: Footprint, actual: Footprint, name: string, account: string): Footprint {
  const expected = structuredClone(beforeState);
  const app = appOf(expected, name);
  const principal = appOf(actual, name).systemPrincipalId;
  assert.ok(principal, `${name} has a system-assigned identity`);
  assert.equal(app.systemPrincipalId, null, `${name} had none before`);
  app.systemPrincipalId = principal;
  // The secret that held the key is removed after the key switch; any other secret stays.
  app.secrets = app.secrets.filter((x) => x.name !== 'openai-key');
  app.liveEnv = app.liveEnv.map(({ AZURE_OPENAI_API_KEY: _key, ...rest }) =>
    Object.fromEntries(
      Object.entries({ ...rest, AZURE_OPENAI_AUTH_MODE: { value: 'identity' } }).sort(([a], [b]) => a.localeCompare(b)),
    ),
  );
  return { ...expected, ...accessAfter(beforeState, actual, principal, RG, account) };
}

/**
 * Runs `migrate` while a load generator calls the app's `/health` every 50 ms; asserts it ran throughout and no
 * request failed, and that the app answers on its identity afterwards.
 */
export async function assertNoFailedRequest(
  estate: Estate,
  name: string,
  migrate: () => Promise<MigrationResult>,
): Promise<void> {
  const app = await estate.azure.containerApps.containerApps.get(RG, name);
  const load = startLoad({
    url: `https://${app.configuration!.ingress!.fqdn!}/health`,
    intervalMs: 50,
    ca: estate.sim.info.caCert,
  });
  await assertNoFailedCall(load, migrate);
  assert.equal((await health(estate, name)).authMode, 'identity');
}
