// Runs a benchmark on the bundled code, as `npm start` and the library run it (tsx would add its own
// transform: names kept on every function, about 5 % more CPU per evaluation).
//
//   npm run bench                                   bench/evaluate.ts, all sections, on the current Node
//   BENCH_NODE=/path/to/node npm run bench          the same on another Node (e.g. 22)
//   npm run bench -- --only=evaluation,stages       some sections (evaluation, stages, extraction, heap, cold)
//   npm run bench -- --quick                        shorter rounds, 10,000 evaluations for the heap
//   npm run bench -- --heap=20000                   another evaluation count for the heap section
//   npm run bench:http                              bench/http.ts (--bench=http), the pool's worker built beside it
//   BENCH_SKIP_BUILD=1 npm run bench                reuse dist/ and the bundle as they are
//
// The bundles (bench/results/.build/evaluate.cjs, http.cjs) can also be run directly, from the
// repository root: /path/to/node --expose-gc bench/results/.build/evaluate.cjs [options]
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv.find((a) => a.startsWith('--bench='))?.slice('--bench='.length) ?? 'evaluate';
if (which !== 'evaluate' && which !== 'http') {
  console.error(`--bench must be evaluate or http, not ${which}`);
  process.exit(2);
}
const args = process.argv.slice(2).filter((a) => !a.startsWith('--bench='));
const outDir = join(root, 'bench/results/.build');
const bundle = join(outDir, `${which}.cjs`);
const node = process.env.BENCH_NODE || process.execPath;

if (process.env.BENCH_SKIP_BUILD !== '1') {
  if (which === 'evaluate') {
    // dist/ for the cold-start probes, which import the built library.
    execFileSync(process.execPath, [join(root, 'src/tools/build.mjs')], { cwd: root, stdio: 'inherit' });
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // Like the library build: the project's code bundled, its packages loaded from node_modules.
  const options = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)],
    sourcemap: true,
    logLevel: 'warning',
  };
  await build({ ...options, entryPoints: [join(root, `bench/${which}.ts`)], outfile: bundle });
  if (which === 'http') {
    // The pool looks for its worker beside the code that creates it (src/http/pool/pool.ts).
    await build({
      ...options,
      entryPoints: [join(root, 'src/http/pool/worker.ts')],
      outfile: join(outDir, 'pool-worker.cjs'),
    });
  }
}

const result = spawnSync(node, ['--expose-gc', bundle, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, BENCH_ROOT: root },
});
process.exit(result.status ?? 1);
