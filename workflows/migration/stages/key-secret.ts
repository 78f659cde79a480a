/**
 * After the key switch (container apps, `LEAN_HISTORY` runs): the secret that held the key — referenced by an env
 * var the migration removed, and used by no active revision any more — is removed, a traffic shift's old revisions
 * deactivated first. Its restore is recorded first with WHICH key it held (from the before-state, never the value),
 * to be undone after key auth is back on (the account gives its keys again only then).
 */
import { snapshotsOf } from '../../../contracts/targets';
import { arm, armCall, armLong, armLongRunning } from '../activities';
import type { MigrationRun } from '../state';
import { retireOldRevisions } from './traffic';

export async function removeKeySecret(run: MigrationRun): Promise<void> {
  const { target } = snapshotsOf(run.b);
  const site = target.site;
  if (!run.lean || site.kind !== 'container-app') return;
  await retireOldRevisions(run);
  const found = await arm.findKeySecrets.executeWithOptions({ ...armCall, summary: `secrets of ${site.name}` }, [
    { site, settings: run.plan.settings.remove },
  ]);
  const account = run.b.account.ref;
  const names: string[] = [];
  for (const { secret, setting } of found) {
    const before = target.touchedSettings[setting];
    if (before?.kind !== 'account-key') continue; // a Key Vault reference or another secret: not the key itself
    run.saga.recordUnder(
      'enable-local-auth',
      { kind: 'restore-secret', site, secret, keyName: before.keyName, account },
      `restore secret ${secret} of ${site.name} (${before.keyName} of ${account.name})`,
    );
    names.push(secret);
  }
  if (names.length === 0) return;
  await armLong.removeSecrets.executeWithOptions({ ...armLongRunning, summary: `remove secret ${names.join(', ')}` }, [
    { site, names },
  ]);
  run.board.note('local-auth', `secret ${names.join(', ')} of ${site.name} (it held the key) removed`);
}
