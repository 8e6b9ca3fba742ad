// Builds the library: ESM + CJS bundles with esbuild, declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });

const common = {
  entryPoints: ['src/index.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
};
await build({ ...common, format: 'esm', outfile: 'dist/esm/index.mjs' });
await build({ ...common, format: 'cjs', outfile: 'dist/cjs/index.cjs' });
execFileSync('npx', ['tsc', '-p', 'src/tools/tsconfig.build.json'], { stdio: 'inherit' });
