// Runs a benchmark on the bundled code, as `npm start` and the library run it (tsx would add its own
// transform: names kept on every function, about 5 % more CPU per evaluation).
//
//   npm run bench                                   bench/evaluate.ts, all sections, on the current Node
//   BENCH_NODE=/path/to/node npm run bench          the same on another Node (e.g. 22)
//   npm run bench -- --only=evaluation,stages       some sections (evaluation, stages, extraction, heap, cold)
//   npm run bench -- --quick                        shorter rounds, 10,000 evaluations for the heap
//   npm run bench -- --heap=20000                   another evaluation count for the heap section
//   npm run bench:http                              bench/http.ts (--bench=http), the pool's worker built beside it
//   npm run bench:ab -- main                        bench/ab.ts (--bench=ab): this tree against a git revision
//   BENCH_SKIP_BUILD=1 npm run bench                reuse dist/ and the bundle as they are
//
// The bundles (bench/results/.build/evaluate.cjs, http.cjs) can also be run directly, from the
// repository root: /path/to/node --expose-gc bench/results/.build/evaluate.cjs [options]
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv.find((a) => a.startsWith('--bench='))?.slice('--bench='.length) ?? 'evaluate';
if (!['evaluate', 'http', 'ab'].includes(which)) {
  console.error(`--bench must be evaluate, http or ab, not ${which}`);
  process.exit(2);
}
let args = process.argv.slice(2).filter((a) => !a.startsWith('--bench='));
// bench:ab's revision: the first argument that is not an option.
const revision = which === 'ab' ? args.find((a) => !a.startsWith('--')) : undefined;
if (which === 'ab') {
  if (!revision) {
    console.error('npm run bench:ab -- <git revision>: the revision to compare this tree with');
    process.exit(2);
  }
  args = args.filter((a) => a !== revision);
}
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
  if (which === 'ab') {
    // The revision's engine, from its own sources and content; its packages are this tree's node_modules.
    const base = join(outDir, 'base');
    rmSync(base, { recursive: true, force: true });
    mkdirSync(base, { recursive: true });
    const archive = execFileSync(
      'git',
      ['archive', '--format=tar', revision, 'src', 'profiles', 'valuesets'],
      {
        cwd: root,
        maxBuffer: 1 << 30,
      }
    );
    execFileSync('tar', ['-x', '-C', base], { input: archive });
    await build({
      ...options,
      stdin: {
        contents:
          "export { evaluateResponse } from './src/core/operations/evaluate';\n" +
          "export { createNodeEngine } from './src/node/engine';\n",
        resolveDir: base,
        loader: 'ts',
        sourcefile: 'ab-base.ts',
      },
      outfile: join(outDir, 'ab-base.cjs'),
    });
  }
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
  env: { ...process.env, BENCH_ROOT: root, ...(revision ? { BENCH_BASE_LABEL: revision } : {}) },
});
process.exit(result.status ?? 1);
