/**
 * The `traffic-shift` strategy of a container app in multiple-revision mode: a new revision with the identity
 * settings starts at 0 % traffic, is smoke-tested through its own FQDN, then takes the traffic in the plan's steps
 * (percentages of the app's traffic, increasing, ending at 100), with a smoke test at each step.
 */

/** The steps when the plan names none: all the traffic at once, once the revision passed its smoke test. */
export const DEFAULT_TRAFFIC_STEPS: readonly number[] = [100];

export interface StrategyIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Every problem of a strategy's `steps` (loose input: the schema may not have parsed it): only traffic-shift has
 * steps; each is an integer 1–100, strictly increasing, and the last is 100.
 */
export function trafficStepIssues(strategy: Readonly<Record<string, unknown>>): StrategyIssue[] {
  const { type, steps } = strategy;
  if (steps === undefined) return [];
  if (type !== 'traffic-shift')
    return [{ path: ['strategy', 'steps'], message: 'only applies to the traffic-shift strategy' }];
  if (!Array.isArray(steps) || steps.length === 0)
    return [{ path: ['strategy', 'steps'], message: 'must list at least one percentage, the last 100' }];
  const issues: StrategyIssue[] = [];
  let previous = 0;
  steps.forEach((step: unknown, i) => {
    const at = ['strategy', 'steps', i];
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 1 || step > 100)
      issues.push({ path: at, message: 'must be a whole percentage from 1 to 100' });
    else if (step <= previous)
      issues.push({ path: at, message: `must be more than the step before it (${previous} %): steps only increase` });
    if (typeof step === 'number') previous = Math.max(previous, step);
  });
  if (steps.at(-1) !== 100)
    issues.push({
      path: ['strategy', 'steps', steps.length - 1],
      message: 'must be 100: the last step moves all traffic',
    });
  return issues;
}

/** "10 %, 50 %, 100 %". */
export const describeSteps = (steps: readonly number[]) => steps.map((s) => `${s} %`).join(', ');
