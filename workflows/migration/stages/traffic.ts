/**
 * Stage 4 for a container app in multiple-revision mode (`strategy: traffic-shift`): a new revision with the
 * identity settings is made at 0 % traffic and smoke-tested through its own FQDN, then takes the traffic in the
 * plan's steps, the app smoke-tested at each. The old revisions keep running (at 0 %) until the end of the
 * migration, then are deactivated. Compensations, recorded before each change: deactivate the new revision, and
 * put the traffic back as recorded before (once the new revision exists, each entry pinned to the revision it
 * reached: the new revision is the latest from then on); reactivate the old revisions once retired.
 */
import type { Compensation, SiteSnapshot } from '../../../contracts/model';
import { snapshotsOf } from '../../../contracts/targets';
import { pinned, trafficAt, type TrafficEntry } from '../../../contracts/traffic';
import { describeSteps } from '../../../plan/traffic-shift';
import { arm, armCall, armLong, armLongRunning, undo } from '../activities';
import type { MigrationRun } from '../state';
import { smokeTest } from './probe';

/** "claims-aca--v1 80 %, claims-aca--green 20 %". */
const describeTraffic = (traffic: readonly TrafficEntry[]) =>
  traffic.map((t) => `${t.revisionName ?? 'latest'} ${t.weight} %`).join(', ');

export async function shiftTraffic(run: MigrationRun, set: Record<string, string>): Promise<void> {
  const { board, plan } = run;
  const { target } = snapshotsOf(run.b);
  const site = target.site;
  const steps = plan.strategy.steps ?? [100];
  const before = await arm.readTraffic.executeWithOptions({ ...armCall, summary: `traffic of ${site.name}` }, [
    { site },
  ]);
  const suffix = `cutover-${Date.now().toString(36)}`;
  const revision = `${site.name}--${suffix}`;
  run.compensate(
    { kind: 'set-revisions-active', site, revisions: [revision], active: false },
    `deactivate revision ${revision}`,
  );
  const back = pinned(before);
  run.compensate({ kind: 'restore-traffic', site, before, revision }, `traffic back to ${describeTraffic(back)}`);
  run.settingsSites.push(target.resourceId);
  board.note('settings', `making revision ${revision} at 0 % traffic`);
  const made = await armLong.createRevision.executeWithOptions(
    { ...armLongRunning, summary: `revision ${revision} at 0 %` },
    [{ site, suffix, before, remove: plan.settings.remove, set }],
  );
  const own: SiteSnapshot = { ...target, baseUrl: `https://${made.fqdn}` };
  await smokeTest(run, 'settings', `smoke test of revision ${revision} (0 % traffic)`, own, plan.budgets.downtimeMs);
  const downtimeStart = Date.now();
  for (const step of steps) {
    const traffic = trafficAt(before, revision, step);
    board.note('settings', `${revision} at ${step} % (${describeSteps(steps)})`);
    await arm.setTraffic.executeWithOptions({ ...armCall, summary: `${revision} at ${step} %` }, [{ site, traffic }]);
    await smokeTest(
      run,
      'settings',
      `smoke test of ${site.name} with ${revision} at ${step} %`,
      target,
      plan.budgets.downtimeMs - (Date.now() - downtimeStart),
      plan.budgets.downtimeMs,
    );
  }
  run.downtimeMs = 0; // the old revisions served throughout; the new one took traffic only once it passed
  run.switchedAt = new Date(downtimeStart).toISOString();
  run.recoveredAt = new Date().toISOString();
  const retire = back.filter((t) => t.weight > 0 && t.revisionName !== revision).map((t) => t.revisionName!);
  run.trafficShift = { revision, retire: [...new Set(retire)], retired: false };
  board.waitingFor = undefined;
  board.end('settings', 'done', `${revision} takes all traffic (${describeSteps(steps)}); smoke tests passed`);
}

/**
 * The end of a traffic shift: the old revisions, at 0 % since the shift, are deactivated (their reactivation
 * recorded first, to be undone after the key switch's undo, which must come first). Once only.
 */
export async function retireOldRevisions(run: MigrationRun): Promise<void> {
  const shift = run.trafficShift;
  if (!shift || shift.retired || shift.retire.length === 0) return;
  const site = snapshotsOf(run.b).target.site;
  const names = shift.retire.join(', ');
  run.saga.recordUnder(
    'enable-local-auth',
    { kind: 'set-revisions-active', site, revisions: shift.retire, active: true },
    `reactivate revision(s) ${names}`,
  );
  shift.retired = true;
  await arm.setRevisionsActive.executeWithOptions({ ...armCall, summary: `deactivate ${names}` }, [
    { site, revisions: shift.retire, active: false },
  ]);
}

/** Undoes a traffic shift's step (see the module comment). */
export async function undoTrafficStep(
  step: Extract<Compensation, { kind: 'restore-traffic' | 'set-revisions-active' }>,
  opts: Parameters<typeof undo.setTraffic.executeWithOptions>[0],
): Promise<void> {
  if (step.kind === 'restore-traffic')
    await undo.restoreTraffic.executeWithOptions(opts, [
      { site: step.site, before: step.before, revision: step.revision },
    ]);
  else
    await undo.setRevisionsActive.executeWithOptions(opts, [
      { site: step.site, revisions: step.revisions, active: step.active },
    ]);
}
