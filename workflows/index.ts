/** Every workflow the cutover worker registers. */
export { healthCheck } from './health';
export { accountLock } from './account-lock';
export { migrateToManagedIdentity } from './migration';
