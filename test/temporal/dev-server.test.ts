import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { healthCheck } from '../../workflows';
import { CutoverStage } from '../../contracts/search-attributes';
import { testEnv } from '../support/env';

test('the dev server started through the resolver runs a workflow on a real worker', async () => {
  const address = testEnv('temporalAddress');
  const taskQueue = `health-${process.pid}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: { codePath: testEnv('workflowBundle') },
  });
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const result = await worker.runUntil(
      client.workflow.execute(healthCheck, { taskQueue, workflowId: `health-${Date.now()}` }),
    );
    assert.deepEqual(result, { ok: true, taskQueue, namespace: 'default' });

    // The server was started with cutover's search attributes registered.
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    assert.ok(CutoverStage.name in (customAttributes ?? {}), 'CutoverStage is registered');
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
});
