/**
 * Analysis after a traffic change (observed-usage runs), as progressive-delivery controllers run it: `count`
 * measurements over consecutive windows of `interval`, each read once Azure Monitor's data for its window is complete;
 * each metric's result judged by the plan's failure and success conditions (neither, or no data: inconclusive).
 * More failures of a metric than `failureLimit` fail the stage (the run rolls back); more inconclusive ones than
 * `inconclusiveLimit` open a gate — approve to go on, reject to roll back. After the switch, the downtime Azure
 * Monitor counted is checked against the budget too.
 */
import { sleep } from '@temporalio/workflow';
import type { GateId, StageId } from '../../../contracts/model';
import type { AnalysisRecord, Measurement, MeasurementPhase } from '../../../contracts/observation';
import { conditionHolds, parseCondition } from '../../../plan/conditions';
import { formatDuration } from '../../../plan/durations';
import { ANALYSIS_METRICS, type AnalysisPoint } from '../../../plan/observation';
import { snapshotsOf } from '../../../contracts/targets';
import { StageFailure } from '../../kit/failures';
import { arm, armCall } from '../activities';
import type { MigrationRun } from '../state';

const STAGE: Record<AnalysisPoint, StageId & GateId> = { switch: 'analysis', 'key-switch': 'key-analysis' };
const WHEN: Record<AnalysisPoint, string> = { switch: 'after the switch', 'key-switch': 'after the key switch' };

export async function analyse(run: MigrationRun, point: AnalysisPoint): Promise<void> {
  const { board, plan } = run;
  const stageId = STAGE[point];
  const a = plan.analysis;
  if (!a?.after.includes(point)) return; // skipped on the board from the start
  const observability = plan.observability;
  const usesLogs = a.metrics.some((m) => ANALYSIS_METRICS[m.name].source === 'logs');
  const usesMetrics = a.metrics.some((m) => ANALYSIS_METRICS[m.name].source === 'metrics');
  const dataDelayMs = Math.max(
    usesLogs ? (observability?.logIngestionDelayMs ?? 0) : 0,
    usesMetrics ? (observability?.metricsDelayMs ?? 0) : 0,
  );
  const judges = a.metrics.map((m) => ({
    name: m.name,
    success: parseCondition(m.successCondition),
    failure: parseCondition(m.failureCondition),
  }));
  const record: AnalysisRecord = {
    point,
    startedAt: new Date().toISOString(),
    verdict: 'running',
    measurements: [],
    queries: [],
  };
  run.analyses.push(record);
  board.begin(
    stageId,
    `${a.count} measurement${a.count === 1 ? '' : 's'} every ${formatDuration(a.intervalMs)} (${judges.map((j) => j.name).join(', ')})`,
  );
  const { target } = snapshotsOf(run.b);
  const failed = new Map<string, number>();
  const inconclusive = new Map<string, number>();
  const start = Date.now();
  let verdict: 'successful' | 'failed' | 'inconclusive' = 'successful';
  let reason = '';
  for (let i = 0; i < a.count && verdict !== 'failed'; i++) {
    const window = { start: start + i * a.intervalMs, end: start + (i + 1) * a.intervalMs };
    const readAt = window.end + dataDelayMs;
    board.wait(
      stageId,
      `measurement ${i + 1}/${a.count} of ${new Date(window.start).toISOString()} – ${new Date(window.end).toISOString()}${dataDelayMs ? `, read once Azure Monitor has it (${formatDuration(dataDelayMs)} later)` : ''}`,
    );
    if (readAt > Date.now())
      await sleep(readAt - Date.now(), { summary: `analysis ${WHEN[point]}: measurement ${i + 1}/${a.count}` });
    board.mark(stageId, 'running');
    const r = await arm.measureAnalysis.executeWithOptions(
      { ...armCall, summary: `analysis ${WHEN[point]}: measurement ${i + 1}` },
      [
        {
          account: run.b.account.ref,
          app: { resourceId: target.resourceId },
          window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
          metrics: judges.map((j) => j.name),
        },
      ],
    );
    for (const q of r.queries) if (!record.queries.includes(q)) record.queries.push(q);
    const values = r.values.map((v) => {
      const judge = judges.find((j) => j.name === v.metric)!;
      const phase: MeasurementPhase =
        v.result === undefined
          ? 'inconclusive'
          : conditionHolds(judge.failure, v.result)
            ? 'failed'
            : conditionHolds(judge.success, v.result)
              ? 'successful'
              : 'inconclusive';
      return { ...v, phase };
    });
    const m: Measurement = {
      at: new Date().toISOString(),
      window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
      values,
    };
    record.measurements.push(m);
    for (const v of values) {
      if (v.phase === 'failed') failed.set(v.metric, (failed.get(v.metric) ?? 0) + 1);
      if (v.phase === 'inconclusive') inconclusive.set(v.metric, (inconclusive.get(v.metric) ?? 0) + 1);
    }
    board.note(
      stageId,
      `measurement ${i + 1}/${a.count}: ${values.map((v) => `${v.metric} ${v.result ?? '?'} (${v.phase})`).join(', ')}`,
    );
    const overLimit = [...failed].filter(([, n]) => n > a.failureLimit);
    if (overLimit.length) {
      verdict = 'failed';
      reason = overLimit
        .map(([metric]) => `${metric}: ${values.find((v) => v.metric === metric)?.detail ?? 'failed'}`)
        .join('; ');
    }
  }
  if (verdict !== 'failed') {
    const unsure = [...inconclusive].filter(([, n]) => n > a.inconclusiveLimit);
    if (unsure.length) {
      verdict = 'inconclusive';
      reason = unsure
        .map(([metric, n]) => {
          const last = [...record.measurements]
            .reverse()
            .flatMap((x) => x.values)
            .find((v) => v.metric === metric);
          return `${metric} inconclusive ${n}× (${last?.detail ?? 'no data'})`;
        })
        .join('; ');
    }
  }
  if (point === 'switch' && verdict !== 'failed') reason = (await checkConsumedDowntime(run, record)) ?? reason;
  if (reason && verdict === 'successful') verdict = 'failed';
  record.verdict = verdict;
  record.endedAt = new Date().toISOString();
  if (reason) record.reason = reason;
  board.waitingFor = undefined;
  if (verdict === 'failed') {
    board.end(stageId, 'failed', `analysis failed: ${reason}`);
    throw new StageFailure(stageId, `analysis ${WHEN[point]} failed: ${reason}`);
  }
  if (verdict === 'inconclusive') {
    const title = `Analysis ${WHEN[point]} inconclusive — ${reason}: approve to go on, reject to roll back`;
    run.notices.send(
      'analysis-inconclusive',
      title,
      `cutover approve ${run.info.workflowId} --gate ${stageId} --as NAME`,
    );
    await run.gates.open(stageId, title);
    return;
  }
  board.end(stageId, 'done', `${record.measurements.length} measurements passed`);
}

/**
 * Reads the downtime Azure Monitor counted since the switch and records it; returns why the downtime budget is
 * exceeded, if it is.
 */
async function checkConsumedDowntime(run: MigrationRun, record: AnalysisRecord): Promise<string | undefined> {
  if (!run.switchedAt || !run.recoveredAt) return undefined;
  const { target } = snapshotsOf(run.b);
  const r = await arm.measureDowntime.executeWithOptions({ ...armCall, summary: 'downtime Azure Monitor counted' }, [
    {
      app: { resourceId: target.resourceId },
      window: { start: run.switchedAt, end: new Date().toISOString() },
      recoveredAt: run.recoveredAt,
    },
  ]);
  if ('unavailable' in r) {
    run.warnings.push(`consumed downtime not measured: ${r.unavailable}`);
    return undefined;
  }
  run.consumedDowntime = r;
  record.consumedDowntime = r;
  const budget = run.plan.budgets.downtimeMs;
  return r.windowMs > budget
    ? `downtime as Azure Monitor counted it (${r.failedRequests} failed requests over ${formatDuration(r.windowMs)}) exceeds the budget of ${formatDuration(budget)}`
    : undefined;
}
