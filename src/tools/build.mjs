// Builds the library (ESM + CJS bundles with esbuild, declarations with tsc) and the HTTP server
// (one CommonJS file, dist/server/server.cjs, that `npm start` runs).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

rmSync('dist/cjs', { recursive: true, force: true });
rmSync('dist/esm', { recursive: true, force: true });
rmSync('dist/types', { recursive: true, force: true });
rmSync('dist/server', { recursive: true, force: true });

// Dependencies stay external, except JSON files inside them: in ESM those would need import
// attributes, so they are inlined instead (ajv's draft-06 meta-schema).
const { dependencies } = JSON.parse(readFileSync('package.json', 'utf8'));
const require = createRequire(import.meta.url);
const inlineDependencyJson = {
  name: 'inline-dependency-json',
  setup(b) {
    b.onResolve({ filter: /^[^./].*\.json$/ }, (args) => ({ path: require.resolve(args.path) }));
  },
};

const common = {
  entryPoints: ['src/index.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: Object.keys(dependencies),
  plugins: [inlineDependencyJson],
  sourcemap: true,
  logLevel: 'warning',
};
// The Node loaders resolve data files with createRequire(__filename), which ESM lacks.
const esmBanner =
  "import { fileURLToPath as __fileURLToPath } from 'node:url'; const __filename = __fileURLToPath(import.meta.url);";
await build({ ...common, format: 'esm', outfile: 'dist/esm/index.mjs', banner: { js: esmBanner } });
await build({ ...common, format: 'cjs', outfile: 'dist/cjs/index.cjs' });
// The server: dependencies stay external (installed by `npm ci`), the content is inlined; jose is ESM-only,
// so it is inlined too rather than relying on require(esm) (Node 20.19+, 22.12+).
await build({
  ...common,
  entryPoints: ['src/http/server.ts'],
  format: 'cjs',
  outfile: 'dist/server/server.cjs',
  external: common.external.filter((name) => name !== 'jose'),
});
// The server's worker threads (src/http/pool/pool.ts looks for this file beside the server bundle).
await build({
  ...common,
  entryPoints: ['src/http/pool/worker.ts'],
  format: 'cjs',
  outfile: 'dist/server/pool-worker.cjs',
  external: common.external.filter((name) => name !== 'jose'),
});
execFileSync('npx', ['tsc', '-p', 'src/tools/tsconfig.build.json'], { stdio: 'inherit' });
