/**
 * The one connection resolver (client/connect.ts): which Temporal the CLI, `cutover worker` and the demo talk to.
 * Flags beat the configuration (TEMPORAL_* settings, profiles), which beats a running `cutover dev`, which beats
 * the defaults; the dev environment's namespace and Web UI come only with its address.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveTemporal, type TemporalSettings } from '../../client/connect';
import { loadConfig } from '../../config/env';
import type { DevEnvironment } from '../../worker/dev-env';

const dev = {
  temporal: { address: '127.0.0.1:17233', namespace: 'dev-ns', uiUrl: 'http://127.0.0.1:18233' },
  taskQueue: 'dev-queue',
} as unknown as DevEnvironment;

function settings(env: NodeJS.ProcessEnv, extra: Partial<TemporalSettings> = {}): TemporalSettings {
  return { config: loadConfig({ HOME: '/nonexistent', ...env }), ...extra };
}

describe('resolveTemporal', () => {
  test('defaults with nothing set', () => {
    const r = resolveTemporal(settings({}));
    assert.deepEqual(
      { address: r.address, namespace: r.namespace, taskQueue: r.taskQueue, explicit: r.explicit, uiUrl: r.uiUrl },
      { address: 'localhost:7233', namespace: 'default', taskQueue: 'cutover', explicit: false, uiUrl: undefined },
    );
  });

  test('a running dev environment is used when nothing explicit is set', () => {
    const r = resolveTemporal(settings({}, { dev }));
    assert.equal(r.address, '127.0.0.1:17233');
    assert.equal(r.namespace, 'dev-ns');
    assert.equal(r.taskQueue, 'dev-queue');
    assert.equal(r.uiUrl, 'http://127.0.0.1:18233');
    assert.equal(r.explicit, false);
  });

  test('TEMPORAL_ADDRESS wins over the dev environment, whose namespace and Web UI then do not apply', () => {
    const r = resolveTemporal(settings({ TEMPORAL_ADDRESS: 'temporal.internal:7233' }, { dev }));
    assert.equal(r.address, 'temporal.internal:7233');
    assert.equal(r.namespace, 'default');
    assert.equal(r.uiUrl, undefined);
    assert.equal(r.explicit, true);
  });

  test('flags win over the configuration; an explicit CUTOVER_TASK_QUEUE over the dev environment’s', () => {
    const env = {
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      CUTOVER_TASK_QUEUE: 'cutover-prod',
      CUTOVER_WEB_UI_URL: 'https://ui.example',
    };
    const configured = resolveTemporal(settings(env, { dev }));
    assert.equal(configured.namespace, 'prod');
    assert.equal(configured.taskQueue, 'cutover-prod');
    assert.equal(configured.uiUrl, 'https://ui.example');
    const flagged = resolveTemporal(
      settings(env, { dev, overrides: { address: 'other:7233', namespace: 'flag-ns', taskQueue: 'flag-queue' } }),
    );
    assert.deepEqual([flagged.address, flagged.namespace, flagged.taskQueue], ['other:7233', 'flag-ns', 'flag-queue']);
  });

  test('TLS and API-key options come from the standard Temporal settings', () => {
    const r = resolveTemporal(settings({ TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' }));
    assert.equal(r.connectionOptions.apiKey, 'k');
  });
});
