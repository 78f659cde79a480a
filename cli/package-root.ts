/** The installed package's root folder (works from source under tsx and from dist/). */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'examples'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the cutover package root above ${__dirname}`);
    dir = parent;
  }
  return dir;
}
