/** Stage 1: the managed identity, on every slot the app will run in. Returns the principals to grant. */

import { arm, armCall } from '../activities';
import { targetLabel } from '../../../plan/targets';
import type { MigrationRun } from '../state';

export async function enableIdentity(run: MigrationRun): Promise<string[]> {
  const { board, plan, b } = run;
  board.begin('identity');
  const principals: string[] = [];
  const enabled = (r: { principalId: string; clientId?: string }) => {
    if (!principals.includes(r.principalId)) principals.push(r.principalId);
    if (r.clientId) run.identityClientId = r.clientId;
  };
  for (const site of b.sites) {
    run.compensate(
      { kind: 'restore-identity', site: site.site, before: site.identity },
      `restore identity of ${targetLabel(site.site)}`,
    );
    run.resourcesTouched.add(site.resourceId);
    if (run.lean) continue; // every slot in one activity, below
    enabled(
      await arm.enableIdentity.executeWithOptions({ ...armCall, summary: `identity on ${targetLabel(site.site)}` }, [
        { site: site.site, identity: plan.identity },
      ]),
    );
  }
  if (run.lean)
    for (const r of await arm.enableIdentities.executeWithOptions(
      { ...armCall, summary: `identity on ${b.sites.map((s) => targetLabel(s.site)).join(', ')}` },
      [{ sites: b.sites.map((s) => s.site), identity: plan.identity }],
    ))
      enabled(r);
  run.principalIds.push(...principals);
  board.end('identity', 'done', `principal ${principals.join(', ')}`);
  return principals;
}
