// Runs before `npm start`: compiles src/ to dist/ when TypeScript is installed (a development
// checkout; incremental, so a build with nothing changed takes a moment). A production install
// (`npm ci --omit=dev`) has no compiler and starts the dist/ it was given. Nothing newer than the
// last build: nothing to do.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}
/** The newest modification time under a folder (files only). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const stamp = 'dist/.tsbuildinfo';
// Only a checkout with sources and a compiler can be stale: a production copy has dist/ and no src/.
const stale = () =>
  existsSync('src') &&
  (!existsSync(stamp) || Math.max(newest('src'), statSync('tsconfig.json').mtimeMs, statSync('tsconfig.build.json').mtimeMs) > statSync(stamp).mtimeMs);
if (tsc && stale()) {
  const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (built.status !== 0) {
    process.stderr.write('tacit: the build failed (npm run build); fix the errors above, or run `npm run dev` to start from source\n');
    process.exit(built.status ?? 1);
  }
} else if (!existsSync('dist/main.js')) {
  process.stderr.write('tacit: dist/ is missing and TypeScript is not installed: run `npm ci && npm run build` first (or use the Docker image)\n');
  process.exit(1);
}
