/** Probing the caller from a stage: durable polling of its identity probe or its health endpoint. */
import type { ProbeResult, SiteSnapshot, SmokeTestRecord, StageId } from '../../../contracts/model';
import type { ProbeInput } from '../../../contracts/probes';
import { type PollBudget, pollFailure, pollUntilPass } from '../../kit/poll';
import { appPoll, appProbe, pollTimeout, probes } from '../activities';
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
export async function probeUntilPass(
  run: MigrationRun,
  stage: StageId,
  what: string,
  url: string,
  budgetMs: number,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const { smokeTest } = run.plan;
  const input: ProbeInput = {
    url,
    expectStatus: smokeTest.expectStatus,
    expectJson: options.expectJson ?? smokeTest.expectJson,
    timeoutMs: smokeTest.requestTimeoutMs,
  };
  const budget: PollBudget & { stage: StageId } = {
    stage,
    what,
    budgetMs,
    ...(options.totalBudgetMs !== undefined ? { budgetText: `${Math.round(options.totalBudgetMs / 1000)}s` } : {}),
  };
  if (!run.pollsInActivity) return pollInWorkflow(run, input, budget, options);
  run.board.wait(stage, `${what}: every ${smokeTest.intervalMs / 1000}s, for up to ${Math.round(budgetMs / 1000)}s`);
  const poll = await probes.pollApp.executeWithOptions(
    { ...appPoll, startToCloseTimeout: pollTimeout(budgetMs, smokeTest.requestTimeoutMs), summary: what },
    [{ ...input, budgetMs, intervalMs: smokeTest.intervalMs, record: options.record }],
  );
  for (const answer of poll.answers) run.smokeTests.push(smokeTestRecord(url, answer, answer.repeats));
  if (!poll.passed) throw pollFailure(budget, poll.attempts, poll.last);
  return poll.last;
}

/**
 * Polls several endpoints together in one activity (every slot's identity probe: one activity and its workflow
 * task, not one per slot); fails the stage with the first that did not pass.
 */
export async function probeAllUntilPass(
  run: MigrationRun,
  stage: StageId,
  probesOf: readonly { readonly what: string; readonly url: string }[],
  budgetMs: number,
  expectJson: Record<string, string | number | boolean>,
): Promise<void> {
  const { smokeTest } = run.plan;
  const what = probesOf.map((p) => p.what).join(', ');
  run.board.wait(stage, `${what}: every ${smokeTest.intervalMs / 1000}s, for up to ${Math.round(budgetMs / 1000)}s`);
  const polls = probesOf.map(({ url }) => ({
    url,
    expectStatus: smokeTest.expectStatus,
    expectJson,
    timeoutMs: smokeTest.requestTimeoutMs,
    budgetMs,
    intervalMs: smokeTest.intervalMs,
    record: false,
  }));
  const results = await probes.pollApps.executeWithOptions(
    { ...appPoll, startToCloseTimeout: pollTimeout(budgetMs, smokeTest.requestTimeoutMs), summary: what },
    [{ polls }],
  );
  const failed = results.findIndex((r) => !r.passed);
  if (failed >= 0)
    throw pollFailure(
      { stage, what: probesOf[failed].what, budgetMs },
      results[failed].attempts,
      results[failed].last,
    );
}

/** Executions that started before `POLL_IN_ACTIVITY`: one activity and one timer per attempt. */
function pollInWorkflow(
  run: MigrationRun,
  input: ProbeInput,
  budget: PollBudget & { stage: StageId },
  options: ProbeOptions,
): Promise<ProbeResult> {
  return pollUntilPass(
    (n) => probes.probeApp.executeWithOptions({ ...appProbe, summary: `${budget.what} #${n}` }, [input]),
    {
      ...budget,
      intervalMs: run.plan.smokeTest.intervalMs,
      backoff: options.backoff,
      ...(options.record
        ? { onResult: (result: ProbeResult) => run.smokeTests.push(smokeTestRecord(input.url, result)) }
        : {}),
      onRetry: (waitingFor) => run.board.wait(budget.stage, waitingFor),
    },
  );
}

function smokeTestRecord(target: string, result: ProbeResult, repeats?: number): SmokeTestRecord {
  return {
    target,
    passed: result.ok,
    ...(result.status !== undefined ? { status: result.status } : {}),
    ...(result.requestId ? { requestId: result.requestId } : {}),
    ...(result.errorCode ? { errorCode: result.errorCode } : {}),
    at: result.at,
    ...(repeats !== undefined && repeats > 1 ? { repeats } : {}),
  };
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
