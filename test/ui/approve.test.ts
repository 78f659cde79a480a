/**
 * A change manager approves a migration in the Temporal Web UI, in headless Debian Chromium at 1280×800:
 * - the gate notice's link (the run's User Metadata tab) shows "WAITING FOR APPROVAL: …" within the window, checked
 *   on the element's box and on the screenshot's pixels there;
 * - the workflow list shows ticket, app, stage and outcome (the Cutover search-attribute columns);
 * - an approval with no name is refused with the reason; the wrong gate too;
 * - from the list, the approval takes at most APPROVE_CLICKS clicks and the Data `"bob"` (no JSON object to type);
 * - pressing R on the User Metadata tab (no reload) shows the gate approved, then the run succeeded.
 * Screenshots go to the run's work dir (and to docs/images with `npm run screenshots`).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../contracts/ids';
import { MESSAGE_DESCRIPTIONS, progressQuery } from '../../workflows/migration/messages';
import type { Evidence } from '../../contracts/model';
import { chromiumOrSkip } from '../support/browser';
import { waitForProgress } from '../support/progress';
import { testEnv } from '../support/env';
import { estatePlan, startEstate } from '../support/estate';
import { type Box, forReadme, inkIn, withinViewport } from './screenshots';
import { VIEWPORT, WorkflowPage, withPage } from './workflow-page';

/**
 * Clicks from the workflow list to a sent approval: the workflow's id, More Actions, Send an Update, Select an
 * Update, `approve`, the Data field, Submit. It was 8 (and a JSON object to type) when the README sent people to the
 * User Metadata tab first to read the input's shape; the update's description in the list now says it.
 */
const APPROVE_CLICKS = 7;

/** What the line count below uses of an element, typed here because this project compiles without the DOM lib. */
interface TextBoxes {
  readonly ownerDocument: {
    createRange(): { selectNodeContents(node: unknown): void; getClientRects(): ArrayLike<{ top: number }> };
  };
}

async function shot(page: Page, file: string, what: string, target?: Locator): Promise<Buffer> {
  const png = target ? await target.screenshot({ path: file }) : await page.screenshot({ path: file });
  console.log(`screenshot (${what}): ${file}`);
  return png;
}

describe('Temporal Web UI', () => {
  test('a change manager sees the waiting gate and approves it in the Web UI', { timeout: 900_000 }, async (t) => {
    const skip = chromiumOrSkip();
    if (skip) {
      console.log(`browser test skipped: ${skip}`);
      t.skip(skip);
      return;
    }
    const started = Date.now();
    const shots = path.join(testEnv('workDir'), 'ui');
    mkdirSync(shots, { recursive: true });
    const plan = estatePlan('claims-bot', 'claims-openai', {
      approvals: { beforeSettingsSwap: true, beforeDisableLocalAuth: false },
      localAuth: { disable: false },
    });
    const summary = `${plan.changeTicket}: ${plan.target.name} → managed identity on ${plan.account.name}`;

    const estate = await startEstate('ui');
    try {
      await estate.temporal.withWorker(estate.activities(), async () => {
        const workflowId = `${migrationWorkflowId(plan)}/ui-${Date.now()}`;
        const handle = await estate.temporal.client.workflow.start(migrateToManagedIdentity, {
          taskQueue: estate.temporal.taskQueue,
          workflowId,
          args: [{ plan, initiatedBy: 'alice' }],
          staticSummary: summary,
          staticDetails: `Plan: ui test · identity ${plan.identity.type} · strategy ${plan.strategy.type} · started by alice`,
        });
        await waitForProgress(handle, (p) => p.pendingGate?.gate === 'settings', 'the settings gate');

        await withPage(path.join(shots, 'approve-failure.png'), async (page) => {
          const browser = page.context().browser()!;
          const uiUrl = testEnv('temporalUiUrl');

          // 1. The gate notice's link: the run's User Metadata tab. The gate is named in the first line, in the window.
          const notice = new WorkflowPage(page, uiUrl, workflowId);
          await notice.openUserMetadata(handle.firstExecutionRunId);
          await notice.summary().getByText(summary, { exact: true }).waitFor();
          const waiting = notice
            .currentDetails()
            .getByText(/^WAITING FOR APPROVAL: Swap settings \(remove the key\)$/)
            .first();
          await notice.waitForMetadata(() => waiting, 'the waiting gate');
          const firstLine = (await notice.currentDetails().locator('p').first().innerText()).trim();
          assert.match(
            firstLine,
            /^WAITING FOR APPROVAL: Swap settings \(remove the key\) — approve with cutover approve claims-bot --gate settings --as NAME or Send an Update → approve$/,
          );
          await notice
            .currentDetails()
            .getByRole('row', { name: /^Approval: settings\s+… wait\b/ })
            .waitFor();
          const box = await waiting.boundingBox();
          assert.ok(withinViewport(box, VIEWPORT), `the waiting gate is within the window: ${JSON.stringify(box)}`);
          const atGate = await shot(page, path.join(shots, 'approve-at-gate.png'), 'gate open, 1280×800');
          const inkAtGate = await inkIn(browser, atGate, box);
          assert.ok(
            inkAtGate.dark > 0.02 && inkAtGate.colours > 2,
            `text where the gate is: ${JSON.stringify(inkAtGate)}`,
          );
          const inkAll = await inkIn(browser, atGate, { x: 0, y: 0, ...VIEWPORT });
          assert.ok(inkAll.colours > 50, `the screenshot is not blank: ${JSON.stringify(inkAll)}`);
          // For the README: the page without the navigation bar on the left.
          await forReadme(page, 'ui-gate.png', { x: 256, y: 0, width: VIEWPORT.width - 256, height: VIEWPORT.height });
          // The compact table: the panel shows every stage's status on one line (one row per line).
          const rows = notice.currentDetails().locator('tbody tr');
          for (const row of await rows.all()) {
            const status = row.getByRole('cell').nth(1);
            // Lines the status text takes in the page: the distinct tops of its boxes.
            const lines = await status.evaluate((el) => {
              const range = (el as unknown as TextBoxes).ownerDocument.createRange();
              range.selectNodeContents(el);
              return new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size;
            });
            assert.equal(lines, 1, `status "${await status.innerText()}" on one line`);
          }

          // 2. Refusals, shown in the dialog, change nothing: no name (the UI sends no caller identity), wrong gate.
          assert.deepEqual(await notice.sendUpdate('approve', MESSAGE_DESCRIPTIONS.approve, undefined), {
            accepted: false,
            message: 'approver is required: send your name, e.g. "bob" or {"approver": "bob", "comment": "…"}',
          });
          assert.deepEqual(
            await notice.sendUpdate('approve', MESSAGE_DESCRIPTIONS.approve, { approver: 'bob', gate: 'local-auth' }),
            { accepted: false, message: 'gate "local-auth" is not open; the open gate is "settings"' },
          );
          assert.deepEqual(await notice.sendUpdate('approve', MESSAGE_DESCRIPTIONS.approve, 'alice'), {
            accepted: false,
            message: 'four-eyes rule: alice started this migration and cannot approve it',
          });
          assert.equal((await handle.query(progressQuery)).pendingGate?.gate, 'settings', 'the gate is still open');

          // 3. From the workflow list to a sent approval, every click counted, in a second tab.
          const listPage = await page.context().newPage();
          const ui = new WorkflowPage(listPage, uiUrl, workflowId);
          await ui.openList();
          const row = ui.listRow();
          await row.getByRole('cell', { name: plan.changeTicket, exact: true }).waitFor();
          await row.getByRole('cell', { name: 'approve-settings', exact: true }).waitFor();
          await row.getByRole('cell', { name: 'running', exact: true }).waitFor();
          await forReadme(listPage, 'ui-list.png', await listShot(listPage, path.join(shots, 'list.png')));
          await ui.openFromList();
          ui.beforeSubmit = async (dialog) => {
            await shot(listPage, path.join(shots, 'approve-dialog.png'), 'Send an Update', dialog);
            await forReadme(listPage, 'ui-approve.png', dialog);
          };
          assert.deepEqual(await ui.sendUpdate('approve', MESSAGE_DESCRIPTIONS.approve, 'bob'), { accepted: true });
          console.log(`clicks from the workflow list to a sent approval: ${ui.clicks}`);
          assert.ok(ui.clicks <= APPROVE_CLICKS, `${ui.clicks} clicks, at most ${APPROVE_CLICKS}`);

          const result = await handle.result();
          assert.equal(result.outcome, 'succeeded', result.reason);
          const expected = [{ gate: 'settings', decision: 'approved', by: 'bob' }];
          const approvals = (e: Evidence) => e.approvals.map(({ gate, decision, by }) => ({ gate, decision, by }));
          assert.deepEqual(approvals(result.evidence), expected);
          assert.ok(result.evidencePath, 'evidence file written');
          assert.deepEqual(approvals(JSON.parse(readFileSync(result.evidencePath, 'utf8')) as Evidence), expected);

          // 4. Back on the first tab, never reloaded: R re-runs the details query and the gate shows approved.
          await page.bringToFront();
          await notice.waitForMetadata(
            (p) => p.currentDetails().getByRole('row', { name: /^Approval: settings\s+✔ done\s.*approved by bob$/ }),
            'the approval in the stage table',
          );
          await notice.waitForMetadata((p) => p.currentDetails().getByText(/^SUCCEEDED$/), 'the outcome');
          assert.equal(
            await notice
              .currentDetails()
              .getByText(/WAITING FOR APPROVAL/)
              .count(),
            0,
          );
          await notice.waitForMetadata((p) => p.status('Completed'), 'the Completed status', { reload: true });
          const done = path.join(shots, 'approve-done.png');
          await page.setViewportSize({ width: VIEWPORT.width, height: 1400 });
          await shot(
            page,
            done,
            'approved, completed: the details panel',
            page.locator('iframe#user-metadata-current-details'),
          );
          await forReadme(page, 'ui-done.png', page.locator('iframe#user-metadata-current-details'));
        });
      });
    } finally {
      await estate.close();
    }
    console.log(`Web UI approval test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});

/** The list's header and first rows, without the navigation: what the README shows. */
async function listShot(page: Page, file: string): Promise<Box> {
  const table = page.getByRole('table').first();
  const box = await table.boundingBox();
  assert.ok(box, 'the workflow table is shown');
  const clip = {
    x: box.x,
    y: Math.max(0, box.y - 100),
    width: Math.min(box.width, VIEWPORT.width - box.x),
    height: 200,
  };
  await page.screenshot({ path: file, clip });
  console.log(`screenshot (workflow list): ${file}`);
  return clip;
}
