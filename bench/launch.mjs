// `npm run bench`: builds the library (dist/, for the cold-start probes) and the benchmark bundle,
// then runs bench/evaluate.ts on the chosen Node binary.
//
//   npm run bench                                   all sections on the current Node
//   BENCH_NODE=/path/to/node npm run bench          the same on another Node (e.g. 22)
//   npm run bench -- --only=evaluation,stages       some sections (evaluation, stages, extraction, heap, cold)
//   npm run bench -- --quick                        shorter rounds, 10,000 evaluations for the heap
//   npm run bench -- --heap=20000                   another evaluation count for the heap section
//   BENCH_SKIP_BUILD=1 npm run bench                reuse dist/ and the bundle as they are
//
// The bundle (bench/results/.build/evaluate.cjs) can also be run directly:
//   /path/to/node --expose-gc bench/results/.build/evaluate.cjs [options]   (from the repository root)
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'bench/results/.build/evaluate.cjs');
const node = process.env.BENCH_NODE || process.execPath;

if (process.env.BENCH_SKIP_BUILD !== '1') {
  execFileSync(process.execPath, [join(root, 'src/tools/build.mjs')], { cwd: root, stdio: 'inherit' });
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // Like the library build: the project's code bundled, its packages loaded from node_modules.
  await build({
    entryPoints: [join(root, 'bench/evaluate.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)],
    sourcemap: true,
    logLevel: 'warning',
  });
}

const result = spawnSync(node, ['--expose-gc', bundle, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, BENCH_ROOT: root },
});
process.exit(result.status ?? 1);
