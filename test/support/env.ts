/** Names of the variables test/run.ts hands to every test file. */
export const TEST_ENV = {
  temporalAddress: 'CUTOVER_TEST_TEMPORAL_ADDRESS',
  temporalUiUrl: 'CUTOVER_TEST_TEMPORAL_UI_URL',
  temporalCliPath: 'CUTOVER_TEST_TEMPORAL_CLI',
  workflowBundle: 'CUTOVER_TEST_WORKFLOW_BUNDLE',
  workDir: 'CUTOVER_TEST_WORK_DIR',
} as const;

/** Reads a variable set by test/run.ts; a test file run on its own without it fails with a clear message. */
export function testEnv(name: keyof typeof TEST_ENV): string {
  const value = process.env[TEST_ENV[name]];
  if (!value) throw new Error(`${TEST_ENV[name]} is not set: run tests through \`npm test\` (test/run.ts)`);
  return value;
}
