/**
 * Builds the Medplum bot: ONE CommonJS file, `dist/bot/re-fhir-bot.cjs`, in the `exports.handler`
 * form Medplum deploys (its Lambda wrapper `require`s the file and calls `handler`; VM-context bots
 * run the text with `exports` and `module` in scope and call `exports.handler`).
 * What Medplum's bot runtime provides stays external
 * (`src/bot/runtime.ts`); everything else is inlined, including the conformance JSON. The
 * JSON-schema tier (ajv and its 3.4 MB schema) and the HTTP adapter are kept out: the build fails
 * if anything imports them.
 *
 * Usage: npx tsx src/tools/build-bot.ts   (npm run build:bot)
 */
import type { Metafile, Plugin } from 'esbuild';
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { BOT_RUNTIME_MODULES } from '../bot/runtime';
import { REPO_ROOT } from './paths';

/** Where `npm run build:bot` writes the bundle. */
export const BOT_BUNDLE = path.join(REPO_ROOT, 'dist', 'bot', 're-fhir-bot.cjs');

/** The bot's entry module. */
export const BOT_ENTRY = path.join(REPO_ROOT, 'src', 'bot', 'handler.ts');

/** Modules that must never reach the bundle, with the reason. */
const FORBIDDEN: readonly { readonly pattern: RegExp; readonly reason: string }[] = [
  { pattern: /^ajv(\/|$)/, reason: 'the JSON-schema tier is not part of the bot' },
  { pattern: /^@asymmetrik\//, reason: 'the 3.4 MB R4 JSON schema is not part of the bot' },
  { pattern: /^(express|cors|helmet|pino)(\/|$)/, reason: 'the HTTP adapter is not part of the bot' },
  {
    pattern: /(^|\/)src\/(http|node\/engine)(\/|\.ts$|$)/,
    reason: 'the bot builds its own engine, without the schema tier',
  },
];

/**
 * Medplum's VM-context runtime runs the bot in a bare `vm` context that has `require`, `console`,
 * `fetch`, `URL` and the text codecs, but none of Node's other globals. The bundle uses a few
 * (the core's `Buffer`; `global` and the timers in fhirpath.js's dependencies), so the banner
 * supplies them where they are missing and is a no-op on Lambda. It starts with the strict-mode directive, which must come first to count.
 */
const VM_CONTEXT_GLOBALS = [
  '"use strict";',
  'var global = typeof globalThis.global === "object" ? globalThis.global : globalThis;',
  'var Buffer = globalThis.Buffer || require("node:buffer").Buffer;',
  'var setTimeout = globalThis.setTimeout || require("node:timers").setTimeout;',
  'var clearTimeout = globalThis.clearTimeout || require("node:timers").clearTimeout;',
].join('\n');

/** Options of {@link buildBot}. */
export interface BuildBotOptions {
  /** Entry module (default {@link BOT_ENTRY}; the tests build others to prove the guards). */
  readonly entry?: string;
  /** Output file (default {@link BOT_BUNDLE}). */
  readonly outfile?: string;
  /** Minify (default true: about 60% of the size; stack traces in the bot log lose local names). */
  readonly minify?: boolean;
}

/** The result of a build. */
export interface BuiltBot {
  readonly outfile: string;
  readonly bytes: number;
  /** Every module inlined, relative to the repository root, with its size in the output. */
  readonly inputs: Record<string, number>;
  /** Every module left to the runtime (`require` calls in the bundle). */
  readonly external: string[];
}

/** Bundles the bot; see the file comment. */
export async function buildBot(options: BuildBotOptions = {}): Promise<BuiltBot> {
  const outfile = options.outfile ?? BOT_BUNDLE;
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [options.entry ?? BOT_ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: [...BOT_RUNTIME_MODULES],
    minify: options.minify ?? true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
    plugins: [withoutSchemaTier, forbidden],
    banner: { js: VM_CONTEXT_GLOBALS },
    // esbuild replaces `module.exports`; VM-context bots read the `exports` object they passed in.
    footer: { js: 'Object.assign(exports, module.exports);' },
  });
  return {
    outfile,
    bytes: fs.statSync(outfile).size,
    inputs: inputsOf(result.metafile, outfile),
    external: externalsOf(result.metafile, outfile),
  };
}

/** Substitutes the bot's stub for the schema tier (see `src/bot/no-schema-tier.ts`). */
const withoutSchemaTier: Plugin = {
  name: 'without-schema-tier',
  setup(b) {
    b.onResolve({ filter: /^\.\/schema$/ }, (args) =>
      args.importer.endsWith(path.join('core', 'validation', 'validator.ts'))
        ? { path: path.join(REPO_ROOT, 'src', 'bot', 'no-schema-tier.ts') }
        : undefined
    );
  },
};

/** Fails the build when a forbidden module is imported. */
const forbidden: Plugin = {
  name: 'forbidden-in-bot',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const request = args.path.startsWith('.')
        ? path.relative(REPO_ROOT, path.resolve(args.resolveDir, args.path)).split(path.sep).join('/')
        : args.path;
      const hit = FORBIDDEN.find((f) => f.pattern.test(request));
      return hit
        ? {
            errors: [
              { text: `${request} (imported by ${path.relative(REPO_ROOT, args.importer)}): ${hit.reason}` },
            ],
          }
        : undefined;
    });
  },
};

function outputOf(metafile: Metafile, outfile: string): Metafile['outputs'][string] | undefined {
  return Object.entries(metafile.outputs).find(([file]) => path.resolve(REPO_ROOT, file) === outfile)?.[1];
}

function inputsOf(metafile: Metafile, outfile: string): Record<string, number> {
  const inputs: Record<string, number> = {};
  for (const [file, { bytesInOutput }] of Object.entries(outputOf(metafile, outfile)?.inputs ?? {})) {
    inputs[file] = bytesInOutput;
  }
  return inputs;
}

function externalsOf(metafile: Metafile, outfile: string): string[] {
  const imports = outputOf(metafile, outfile)?.imports ?? [];
  return [...new Set(imports.filter((i) => i.external).map((i) => i.path))].sort();
}

if (require.main === module) {
  buildBot().then(
    ({ outfile, bytes, external }) => {
      console.log(
        `Wrote ${path.relative(process.cwd(), outfile)}: ${(bytes / 1e6).toFixed(2)} MB; external: ${external.join(', ')}`
      );
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    }
  );
}
