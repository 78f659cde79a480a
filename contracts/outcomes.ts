/** Every outcome a migration can be listed with (`cutover list --outcome`): recorded ones, and the ways it can be ended from outside. */
export const OUTCOMES = [
  'running',
  'succeeded',
  'rolled-back',
  'rollback-incomplete',
  'rollback-blocked',
  'preflight-failed',
  'failed',
  'terminated',
  'cancelled',
  'timed-out',
] as const;
