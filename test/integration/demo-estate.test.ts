/**
 * The demo estate (simulator/scenarios/demo.yaml) migrated as the README's fleet example (examples/fleet.yaml) plans
 * it: the claims chatbot on its own account, and the document RAG pipeline that shares docs-openai — a Functions
 * app, a container app and an AI Search service, three kinds of caller — moved in waves, then each account's key
 * switch. Only the bakes are shortened; the research workspace's account is not in the fleet and keeps its keys.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAzureClients } from '../../azure/clients';
import { fleetWorkflowId } from '../../contracts/fleet';
import { parseFleetPlan } from '../../plan/fleet';
import { loadYamlFile } from '../../plan/load';
import { migrateFleet } from '../../workflows';
import { approveFleetUpdate, fleetProgressQuery } from '../../workflows/fleet/messages';
import { type Estate, startEstate } from '../support/estate';
import { saveHistory } from '../support/histories';
import { pollUntil } from '../support/wait';

const ROOT = path.join(__dirname, '..', '..');
const DEMO = path.join(ROOT, 'simulator', 'scenarios', 'demo.yaml');
const SUB = '5b2e8c1d-9f3a-4b6e-a7c2-8d1e4f0a3b95';

/** The parts of the example this test changes: its ticket (a fleet per run) and its bakes. */
interface FleetDocument {
  changeTicket: string;
  accounts: { keySwitch: Record<string, unknown> }[];
}

describe('the demo estate, migrated by the fleet example', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('demo-estate', DEMO);
  });
  after(async () => {
    await estate.close();
  });

  test('every caller of claims-openai and docs-openai moves, of every kind; both accounts switch their keys off', async () => {
    const document = await loadYamlFile(path.join(ROOT, 'examples', 'fleet.yaml'), (d) => d as FleetDocument);
    document.changeTicket = `CHG-DEMO-${Date.now()}`;
    for (const a of document.accounts) a.keySwitch = { ...a.keySwitch, bake: '0s' };
    const plan = parseFleetPlan(document);
    const result = await estate.temporal.withWorker(estate.activities(), async () => {
      const handle = await estate.temporal.client.workflow.start(migrateFleet, {
        taskQueue: estate.temporal.taskQueue,
        workflowId: fleetWorkflowId(plan.changeTicket),
        args: [{ plan, initiatedBy: 'alice' }],
      });
      // The wave gate before `rest`, then each account's key-switch gate: approved by a second person.
      for (;;) {
        const p = await pollUntil(
          async () => {
            const progress = await handle.query(fleetProgressQuery).catch(() => undefined);
            return progress?.pendingGate || (progress && progress.outcome !== 'running') ? progress : undefined;
          },
          'a gate or the end',
          { intervalMs: 200 },
        );
        if (!p.pendingGate) break;
        await handle.executeUpdate(approveFleetUpdate, { args: [{ approver: 'bob', gate: p.pendingGate.gate }] });
      }
      const r = await handle.result();
      await saveHistory('fleet-demo-estate', await handle.fetchHistory());
      return r;
    });
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.deepEqual(
      result.evidence.accounts.map((a) => [a.name, a.state, a.callers.map((c) => [c.id, c.kind, c.state])]),
      [
        ['claims-openai', 'off', [['claims-bot', 'app-service', 'succeeded']]],
        [
          'docs-openai',
          'off',
          [
            ['docs-ingest', 'function-app', 'succeeded'],
            ['docs-api', 'container-app', 'succeeded'],
            ['docs-search', 'ai-search', 'succeeded'],
          ],
        ],
      ],
    );
    const azure = createAzureClients(estate.credential, SUB, estate.endpoints);
    const keysOff = async (rg: string, name: string) =>
      (await azure.cognitive.accounts.get(rg, name)).properties?.disableLocalAuth === true;
    assert.equal(await keysOff('rg-claims', 'claims-openai'), true);
    assert.equal(await keysOff('rg-docs', 'docs-openai'), true);
    assert.equal(await keysOff('rg-research', 'research-openai'), false, 'not in the fleet: its keys stay on');
    // Each caller on its identity: the function app's settings, the container app's env, the search service's callers.
    const ingest = (await azure.web.webApps.listApplicationSettings('rg-docs', 'docs-ingest')).properties ?? {};
    assert.equal(ingest.AZURE_OPENAI_API_KEY, undefined);
    assert.equal(ingest.AZURE_OPENAI_AUTH_MODE, 'identity');
    const api = await azure.containerApps.containerApps.get('rg-docs', 'docs-api');
    const env = api.template?.containers?.[0]?.env ?? [];
    assert.equal(
      env.find((e) => e.name === 'AZURE_OPENAI_API_KEY'),
      undefined,
    );
    assert.equal(env.find((e) => e.name === 'AZURE_OPENAI_AUTH_MODE')?.value, 'identity');
    const search = Object.values(estate.sim.control.state().searchServices ?? {}).find((s) => s.name === 'docs-search');
    assert.ok(search?.systemPrincipalId, 'the search service has its identity');
    assert.doesNotMatch(JSON.stringify(search?.skillsets), /"apiKey":"[^"]/, 'no skill holds a key');
    assert.doesNotMatch(JSON.stringify(search?.indexes), /"apiKey":"[^"]/, 'no vectorizer holds a key');
  });
});
