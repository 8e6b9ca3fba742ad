// Builds the library and, unless `--lib` is given, the HTTP server.
// - Library (what the npm package exports; `npm pack` runs `build:lib` through `prepack`): ESM and CJS
//   bundles with esbuild, declarations with tsc for the graph of src/index.ts only, and one
//   declaration entry per format (index.d.mts, index.d.cts) so that TypeScript reads each format's
//   types as that format under node16/nodenext resolution.
// - Server (dist/server/server.cjs, which `npm start` runs; not in the npm package): one CommonJS file
//   with its server-only dependencies (express, helmet, cors, pino, jose) inlined, so that a library
//   user never installs them and the built server runs beside the library's own dependencies.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const libraryOnly = process.argv.includes('--lib');

for (const dir of ['dist/cjs', 'dist/esm', 'dist/types', ...(libraryOnly ? [] : ['dist/server'])]) {
  rmSync(dir, { recursive: true, force: true });
}

// The library's dependencies stay external, except JSON files inside them: in ESM those would need
// import attributes, so they are inlined instead (ajv's draft-06 meta-schema).
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
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
  external,
  plugins: [inlineDependencyJson],
  logLevel: 'warning',
};
// The Node loaders resolve data files with createRequire(__filename), which ESM lacks.
const esmBanner =
  "import { fileURLToPath as __fileURLToPath } from 'node:url'; const __filename = __fileURLToPath(import.meta.url);";
await build({ ...common, format: 'esm', outfile: 'dist/esm/index.mjs', banner: { js: esmBanner } });
await build({ ...common, format: 'cjs', outfile: 'dist/cjs/index.cjs' });
execFileSync('npx', ['tsc', '-p', 'src/tools/tsconfig.build.json'], { stdio: 'inherit' });
pruneUnreachableDeclarations('dist/types/index.d.ts');
resolveFhirTypesAsEsm('dist/types');
// dist/types has no package.json "type", so its .d.ts files are CommonJS declarations; the ESM entry
// re-exports them (allowed from ESM), the CJS entry likewise, each beside its own JavaScript.
const typesEntry = "export * from '../types/index.js';\n";
writeFileSync('dist/esm/index.d.mts', typesEntry);
writeFileSync('dist/cjs/index.d.cts', typesEntry);

if (!libraryOnly) {
  // Inlined content and server-only dependencies; the library's dependencies stay external (they
  // read data files from their packages at run time). Source maps for stack traces in the logs.
  await build({
    ...common,
    entryPoints: ['src/http/server.ts'],
    format: 'cjs',
    outfile: 'dist/server/server.cjs',
    sourcemap: true,
  });
  // The server's worker threads (src/http/pool/pool.ts looks for this file beside the server bundle).
  await build({
    ...common,
    entryPoints: ['src/http/pool/worker.ts'],
    format: 'cjs',
    outfile: 'dist/server/pool-worker.cjs',
    sourcemap: true,
  });
}

/**
 * dist/types are CommonJS declarations, and @medplum/fhirtypes 5 is an ES module (4.5 is not): under
 * node16/nodenext a type import of it from CommonJS needs `resolution-mode` (TypeScript 5.3 and later
 * accept it under every resolution). Only type imports of @medplum/fhirtypes are in our declarations.
 * @param {string} dir - The declarations directory.
 */
function resolveFhirTypesAsEsm(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.d.ts')) continue;
    const path = join(e.parentPath, e.name);
    const text = readFileSync(path, 'utf8');
    const fixed = text.replace(
      /^(import type \{[^}]*\} from '@medplum\/fhirtypes');$/gm,
      "$1 with { 'resolution-mode': 'import' };"
    );
    if (
      /from '@medplum\/(?!fhirtypes')/.test(fixed) ||
      /^import (?!type )[^;]*'@medplum\/fhirtypes'/m.test(fixed)
    ) {
      throw new Error(`${path}: a declaration imports Medplum other than as types of @medplum/fhirtypes`);
    }
    writeFileSync(path, fixed);
  }
}

/**
 * tsc declares every file the entry imports, also those imported only for their values; the package
 * carries only the declarations that index.d.ts reaches through relative imports.
 * @param {string} entry - The root declaration file.
 */
function pruneUnreachableDeclarations(entry) {
  const reached = new Set();
  const visit = (file) => {
    if (reached.has(file)) return;
    reached.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:from|import\()\s*'(\.[^']*)'/g)) {
      const base = resolve(dirname(file), spec.replace(/\.js$/, ''));
      const candidates = [`${base}.d.ts`, join(base, 'index.d.ts')];
      const found = candidates.find((c) => {
        try {
          readFileSync(c);
          return true;
        } catch {
          return false;
        }
      });
      if (!found) throw new Error(`${file}: cannot resolve ${spec}`);
      visit(found);
    }
  };
  visit(resolve(entry));
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = resolve(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (!reached.has(path)) rmSync(path);
    }
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  };
  walk(dirname(resolve(entry)));
  console.log(`declarations: ${reached.size} files reached from ${relative('.', entry)}`);
}
