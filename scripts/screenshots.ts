/**
 * The README's Web UI screenshots (docs/images/ui-*.png), from a real run: the Web UI browser test
 * (test/ui/approve.test.ts) on a Temporal dev server with the Azure simulator, as `npm test -- test/ui` runs it,
 * copying the screenshots it takes and checks into docs/images. Needs Debian's Chromium (/usr/bin/chromium).
 *
 *   npm run screenshots
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { README_SHOTS_ENV } from '../test/ui/screenshots';

const root = path.join(__dirname, '..');
const out = path.join(root, 'docs', 'images');

const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'test', 'run.ts'), 'test/ui/approve'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, [README_SHOTS_ENV]: out, CUTOVER_SKIP_BROWSER: '0' },
});
if (run.status !== 0) {
  console.error(`the Web UI test failed (exit ${run.status ?? run.signal}): docs/images may be incomplete`);
  process.exit(1);
}
let total = 0;
for (const f of readdirSync(out)
  .filter((n) => n.startsWith('ui-') && n.endsWith('.png'))
  .sort()) {
  const size = statSync(path.join(out, f)).size;
  total += size;
  console.log(`docs/images/${f}  ${(size / 1024).toFixed(0)} KB`);
}
console.log(`total ${(total / 1024).toFixed(0)} KB`);
