/**
 * Hints for preflight problems with a known cause in the local dev environment: `cutover dev` keeps its simulator's
 * state across restarts, so an app migrated once (by hand, or by an older `cutover demo`) has no key setting left to
 * remove, and the plan that worked yesterday now fails.
 */
import type { MigrationPlan } from '../plan/schema';
import type { PreflightProblem } from '../contracts/model';

export function withDevHints(problems: readonly PreflightProblem[], plan: MigrationPlan): PreflightProblem[] {
  return problems.map((p) => {
    // The preflight's wording (activities/migration.ts): "app … has no setting NAME to remove".
    const name = /has no setting (\S+) to remove/.exec(p.message)?.[1];
    if (p.check !== 'settings' || !name || !plan.settings.remove.includes(name)) return p;
    return {
      ...p,
      hint: `the dev environment keeps its simulator's state, so ${plan.target.name} may be migrated already: stop \`cutover dev\` and start it again with \`cutover dev --reset\` to go back to the demo scenario`,
    };
  });
}
