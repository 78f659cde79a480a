/**
 * A traffic shift's Azure calls against the simulator, over the real @azure/arm-appcontainers client: the rollback's
 * traffic restore is to the letter while the new revision does not exist (an abort before it was made), pinned by
 * revision once it does; each call is idempotent.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAzureContext } from '../../azure/context';
import * as traffic from '../../azure/targets/container-app-traffic';
import type { SiteRef } from '../../contracts/model';
import { RG } from '../support/container-apps';
import { type Estate, startEstate, SUB } from '../support/estate';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'container-app-traffic.yaml');
const site: SiteRef = { kind: 'container-app', subscriptionId: SUB, resourceGroup: RG, name: 'shift-aca' };

describe('container app traffic calls', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('container-app-traffic-calls', SCENARIO);
  });
  after(async () => {
    await estate.close();
  });

  test('restore before and after the revision is made; a second create writes nothing', async () => {
    const ctx = createAzureContext({ credential: estate.credential, endpoints: estate.endpoints, governor: null });
    const before = await traffic.readTraffic(ctx, site);
    assert.deepEqual(before, {
      traffic: [{ latestRevision: true, weight: 100 }],
      latestRevisionName: 'shift-aca--blue',
      activeRevisions: ['shift-aca--blue'],
    });
    const rawTraffic = () =>
      estate.sim.control.state().containerApps![
        Object.keys(estate.sim.control.state().containerApps!).find((k) => k.endsWith('/shift-aca'))!
      ].configuration.ingress?.traffic;
    await traffic.restoreTraffic(ctx, site, before, 'shift-aca--never');
    assert.deepEqual(rawTraffic(), [{ latestRevision: true, weight: 100 }], 'nothing made: to the letter');

    const input = {
      suffix: 'green',
      before,
      remove: ['AZURE_OPENAI_API_KEY'],
      set: { AZURE_OPENAI_AUTH_MODE: 'identity' },
    };
    const made = await traffic.createRevision(ctx, site, input);
    assert.equal(made.revision, 'shift-aca--green');
    assert.match(made.fqdn, /\/containerapps\/shift-aca--green$/);
    assert.deepEqual(rawTraffic(), [
      { revisionName: 'shift-aca--blue', weight: 100 },
      { revisionName: 'shift-aca--green', weight: 0 },
    ]);
    const writes = estate.sim.control.requests().length;
    assert.deepEqual(await traffic.createRevision(ctx, site, input), made);
    assert.equal(
      estate.sim.control
        .requests()
        .slice(writes)
        .filter((q) => q.method !== 'GET' && !/listSecrets/.test(q.path)).length,
      0,
      'a second create writes nothing',
    );
    await traffic.restoreTraffic(ctx, site, before, made.revision);
    assert.deepEqual(
      rawTraffic(),
      [{ revisionName: 'shift-aca--blue', weight: 100 }],
      'pinned: the latest is the new one',
    );
  });
});
