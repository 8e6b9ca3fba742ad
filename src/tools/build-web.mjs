// Builds the clinician web page (src/web) into static files: index.html, app.js, app.css.
// `npm run build` runs it (output dist/web/, served by the Express app); the browser tests run it
// with `--outdir` and a temporary directory of their own.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * fhirclient falls back to `isomorphic-webcrypto` only where `globalThis.crypto` is missing; every browser
 * the page targets has Web Crypto (on https and on localhost), so the fallback is left out of the bundle:
 * an empty module in its place.
 * @type {import('esbuild').Plugin}
 */
const noWebcryptoPolyfill = {
  name: 'no-webcrypto-polyfill',
  setup(b) {
    b.onResolve({ filter: /^isomorphic-webcrypto$/ }, () => ({
      path: 'isomorphic-webcrypto',
      namespace: 'empty',
    }));
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({
      contents: 'module.exports = {};',
      loader: 'js',
    }));
  },
};

/**
 * Bundles the page with esbuild (React, Mantine, Medplum's QuestionnaireForm and the page code in one
 * minified script, their styles in one stylesheet) and copies index.html next to them.
 * @param {{ outdir?: string, minify?: boolean }} [options] - Output directory (default dist/web).
 * @returns {Promise<{ outdir: string, files: { name: string, bytes: number, gzipBytes: number }[] }>}
 */
export async function buildWeb(options = {}) {
  const outdir = resolve(options.outdir ?? join(root, 'dist/web'));
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: { app: 'src/web/main.tsx', launch: 'src/web/launch.ts' },
    outdir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    minify: options.minify ?? true,
    legalComments: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    plugins: [noWebcryptoPolyfill],
  });
  copyFileSync(join(root, 'src/web/index.html'), join(outdir, 'index.html'));
  copyFileSync(join(root, 'src/web/launch.html'), join(outdir, 'launch.html'));
  const files = ['index.html', 'app.js', 'app.css', 'launch.html', 'launch.js'].map((name) => {
    const path = join(outdir, name);
    return { name, bytes: statSync(path).size, gzipBytes: gzipSync(readFileSync(path)).length };
  });
  return { outdir, files };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // `--outdir DIR` builds elsewhere (the browser tests build into a temporary directory).
  const at = process.argv.indexOf('--outdir');
  const { outdir, files } = await buildWeb(at > 0 ? { outdir: process.argv[at + 1] } : {});
  console.log(`web page built in ${outdir}`);
  for (const f of files) {
    console.log(
      `  ${f.name.padEnd(10)} ${(f.bytes / 1024).toFixed(1).padStart(8)} KiB  (gzip ${(f.gzipBytes / 1024).toFixed(1)} KiB)`
    );
  }
}
