/**
 * A node:test reporter beside the spec one (test/run.ts): adds up each file's top-level tests and suites (their
 * hooks included) and writes `{file: ms}` as JSON to its destination, so a run can name the files that make the
 * suite slow. It prints nothing itself. Plain JavaScript: node loads reporters before `--import tsx` applies.
 *
 * @param {AsyncIterable<{type: string, data: {file?: string, nesting?: number, details?: {duration_ms?: number}}}>} source
 */
export default async function* timingReporter(source) {
  const byFile = new Map();
  for await (const { type, data } of source) {
    if ((type !== 'test:pass' && type !== 'test:fail') || data.nesting !== 0 || !data.file) continue;
    byFile.set(data.file, (byFile.get(data.file) ?? 0) + (data.details?.duration_ms ?? 0));
  }
  yield JSON.stringify(Object.fromEntries(byFile));
}
