/** The workflow bundle's entry: every workflow type the worker registers. */
export { healthCheck } from './health';
export { migrateFleet } from './fleet/workflow';
export { accountLock } from './lock/workflow';
export { migrateToManagedIdentity } from './migration/workflow';
export { revokeAccess } from './revoke/workflow';
export { revokeReviewed } from './revoke/batch';
