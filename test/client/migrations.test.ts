/** The client's name for the workflow type is the one the worker registers: the workflow function's name. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATION_WORKFLOW_TYPE } from '../../client/migrations';
import { migrateToManagedIdentity } from '../../workflows';

test('MIGRATION_WORKFLOW_TYPE is the registered workflow function’s name', () => {
  assert.equal(MIGRATION_WORKFLOW_TYPE, migrateToManagedIdentity.name);
});
