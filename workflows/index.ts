/** Every workflow the cutover worker registers. */
export { healthCheck } from './health';
export { migrateToManagedIdentity } from './migration';
