/** Probing the caller from a stage: durable polling of its identity probe or its health endpoint. */
import type { ProbeResult, SiteSnapshot, StageId } from '../../../contracts/model';
import { pollUntilPass } from '../../kit/poll';
import { appProbe, probes } from '../activities';
import type { MigrationRun } from '../state';

export function urlOf(site: SiteSnapshot, path: string): string {
  return `${site.baseUrl.replace(/\/$/, '')}${path}`;
}

export interface ProbeOptions {
  /** Keep every answer in the evidence's smoke-test record. */
  readonly record: boolean;
  readonly backoff: boolean;
  readonly expectJson?: Record<string, string | number | boolean>;
  /** The whole budget, when `budgetMs` is what is left of it. */
  readonly totalBudgetMs?: number;
}

/** Polls `url` until it answers as the plan expects, within `budgetMs`; fails the stage otherwise. */
export function probeUntilPass(
  run: MigrationRun,
  stage: StageId,
  what: string,
  url: string,
  budgetMs: number,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const { smokeTest } = run.plan;
  return pollUntilPass(
    (n) =>
      probes.probeApp.executeWithOptions({ ...appProbe, summary: `${what} #${n}` }, [
        {
          url,
          expectStatus: smokeTest.expectStatus,
          expectJson: options.expectJson ?? smokeTest.expectJson,
          timeoutMs: smokeTest.requestTimeoutMs,
        },
      ]),
    {
      stage,
      what,
      budgetMs,
      ...(options.totalBudgetMs !== undefined ? { budgetText: `${Math.round(options.totalBudgetMs / 1000)}s` } : {}),
      intervalMs: smokeTest.intervalMs,
      backoff: options.backoff,
      ...(options.record
        ? {
            onResult: (result: ProbeResult) =>
              run.smokeTests.push({
                target: url,
                passed: result.ok,
                ...(result.status !== undefined ? { status: result.status } : {}),
                ...(result.requestId ? { requestId: result.requestId } : {}),
                ...(result.errorCode ? { errorCode: result.errorCode } : {}),
                at: result.at,
              }),
          }
        : {}),
      onRetry: (waitingFor) => run.board.wait(stage, waitingFor),
    },
  );
}

/** The smoke test: the health endpoint must pass within the downtime budget left. */
export function smokeTest(
  run: MigrationRun,
  stage: StageId,
  what: string,
  site: SiteSnapshot,
  budgetMs: number,
  totalBudgetMs?: number,
) {
  return probeUntilPass(run, stage, what, urlOf(site, run.plan.smokeTest.path), budgetMs, {
    record: true,
    backoff: false,
    ...(totalBudgetMs !== undefined ? { totalBudgetMs } : {}),
  });
}
