/**
 * One pass over the estate for several accounts: the fleet checks all its ready accounts at once. Against the
 * key-holder estate (a bystander in another subscription, keys behind Key Vault references, a vault the worker may
 * not read), the shared pass answers for each account exactly what that account's own pass answers, and reads each
 * app's settings once instead of once per account.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAzureContext } from '../../azure/context';
import { findKeyHolders, findKeyHoldersOfAccounts } from '../../azure/inventory';
import type { AccountRef, KeyHolderScan } from '../../contracts/model';
import { type Estate, startEstate, SUB } from '../support/estate';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'key-holders.yaml');
const account = (name: string): AccountRef => ({ subscriptionId: SUB, resourceGroup: 'rg-kh', name });
const ACCOUNTS = ['xsub-openai', 'kv-openai', 'locked-openai'].map(account);

/** What an answer says, without the time it was made at. */
const answer = ({ scannedAt: _, ...rest }: KeyHolderScan) => rest;

describe('the key-holder check of several accounts in one pass', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('key-holder-pass', SCENARIO);
  });
  after(async () => {
    await estate.close();
  });

  /** Runs `scan`, returning what it answered and how many app-settings reads it sent. */
  async function counted<T>(scan: () => Promise<T>): Promise<{ result: T; settingsReads: number }> {
    const from = estate.sim.control.requests().length;
    const result = await scan();
    const settingsReads = estate.sim.control
      .requests()
      .slice(from)
      .filter((r) => r.surface === 'arm' && /\/config\/appsettings\/list$/i.test(r.path.split('?')[0])).length;
    return { result, settingsReads };
  }

  test('answers as each account alone does, reading every app once', async () => {
    const ctx = createAzureContext({ credential: estate.credential, endpoints: estate.endpoints, governor: null });
    const exclude = [`/subscriptions/${SUB}/resourceGroups/rg-kh/providers/Microsoft.Web/sites/kv-bot`];
    const alone = [];
    for (const a of ACCOUNTS) alone.push(await counted(() => findKeyHolders(ctx, { account: a, exclude })));
    const together = await counted(() =>
      findKeyHoldersOfAccounts(
        ctx,
        ACCOUNTS.map((a) => ({ account: a, exclude })),
      ),
    );

    assert.deepEqual(
      together.result.map(answer),
      alone.map((r) => answer(r.result)),
    );
    // The estate really has holders of different kinds, so the comparison above compares something.
    assert.deepEqual(
      together.result.map((s) => s.verdict),
      ['holders', 'holders', 'holders'],
    );
    assert.ok(
      together.result[2].holders.some((h) => h.unverifiable),
      'a reference the worker may not read',
    );
    assert.ok(
      together.result[1].holders.some((h) => h.references?.length),
      'a key held through Key Vault',
    );
    assert.ok(
      together.result[1].excluded.some((id) => id.endsWith('/kv-bot')),
      'the excluded app is left out',
    );
    const aloneReads = alone.map((r) => r.settingsReads);
    console.log(`app-settings reads: ${aloneReads.join(' + ')} alone, ${together.settingsReads} in one pass`);
    assert.equal(together.settingsReads, aloneReads[0], 'one pass reads what one account’s pass reads');
    assert.ok(together.settingsReads < aloneReads.reduce((x, y) => x + y, 0));
  });
});
