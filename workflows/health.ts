/**
 * `healthCheck`: the smallest workflow there is. `cutover doctor` and the test suite run it to prove that a worker
 * polls the task queue and that the server executes workflows end to end.
 */
import { workflowInfo } from '@temporalio/workflow';

export interface HealthCheckResult {
  readonly ok: true;
  readonly taskQueue: string;
  readonly namespace: string;
}

export async function healthCheck(): Promise<HealthCheckResult> {
  const info = workflowInfo();
  return { ok: true, taskQueue: info.taskQueue, namespace: info.namespace };
}
