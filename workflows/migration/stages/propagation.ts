/** Stage 3: wait durably until each slot's identity probe reaches the data plane (role propagation takes minutes). */
import { sleep } from '@temporalio/workflow';
import { targetLabel } from '../../../plan/targets';

import type { MigrationRun } from '../state';
import { probeAllUntilPass, probeUntilPass, urlOf } from './probe';

export async function waitForPropagation(run: MigrationRun): Promise<void> {
  const { board, plan, b } = run;
  const { identityProbePath } = plan.smokeTest;
  board.begin('propagation');
  if (identityProbePath === 'none') {
    // No probe to ask: wait the whole budget, and let the smoke test's downtime budget absorb any remainder.
    board.wait(
      'propagation',
      `role propagation: the app has no identity probe, waiting ${Math.round(plan.budgets.propagationWaitMs / 1000)}s`,
    );
    await sleep(plan.budgets.propagationWaitMs, { summary: 'role propagation (no identity probe)' });
  }
  const sites = identityProbePath === 'none' ? [] : b.sites;
  const identityProbes = sites.map((site) => ({
    what: `identity probe of ${targetLabel(site.site)}`,
    url: probeUrl(urlOf(site, identityProbePath), run.identityClientId),
  }));
  const expectJson = { authMode: 'identity' };
  if (run.lean && identityProbes.length)
    await probeAllUntilPass(run, 'propagation', identityProbes, plan.budgets.propagationWaitMs, expectJson);
  else
    for (const { what, url } of identityProbes)
      await probeUntilPass(run, 'propagation', what, url, plan.budgets.propagationWaitMs, {
        record: false,
        backoff: true,
        expectJson,
      });
  board.waitingFor = undefined;
  board.end('propagation', 'done', 'the app’s identity can call Azure OpenAI');
}

/** A user-assigned identity is named to the probe: before the settings switch the app has no AZURE_CLIENT_ID yet. */
function probeUrl(url: string, clientId: string | undefined): string {
  return clientId ? `${url}${url.includes('?') ? '&' : '?'}clientId=${encodeURIComponent(clientId)}` : url;
}
