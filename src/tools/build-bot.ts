/**
 * Builds the Medplum bot: ONE CommonJS file, `dist/bot/re-fhir-bot.cjs`, in the `exports.handler`
 * form Medplum deploys (its Lambda wrapper `require`s the file and calls `handler`; VM-context bots
 * run the text with `exports` and `module` in scope and call `exports.handler`).
 * What Medplum's bot runtime provides stays external
 * (`src/bot/runtime.ts`); everything else is inlined, the JSON compressed (see `compressedJson`), so
 * that the `$deploy` body stays well inside Medplum's default 1 MiB JSON limit. The
 * JSON-schema tier (ajv and its 3.4 MB schema) and the HTTP adapter are kept out: the build fails
 * if anything imports them.
 *
 * Usage: npx tsx src/tools/build-bot.ts   (npm run build:bot)
 */
import type { BuildOptions, Metafile, Plugin } from 'esbuild';
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { BOT_RUNTIME_MODULES } from '../bot/runtime';
import { BASE85_DECODER_SOURCE, encodeBase85 } from './base85';
import { REPO_ROOT } from './paths';

/** Where `npm run build:bot` writes the bundle. */
export const BOT_BUNDLE = path.join(REPO_ROOT, 'dist', 'bot', 're-fhir-bot.cjs');

/** The bot's entry module. */
export const BOT_ENTRY = path.join(REPO_ROOT, 'src', 'bot', 'handler.ts');

/** The population bot (SDC `$populate` against the project): its entry and bundle. */
export const POPULATE_BOT_ENTRY = path.join(REPO_ROOT, 'src', 'bot', 'populate-handler.ts');
export const POPULATE_BOT_BUNDLE = path.join(REPO_ROOT, 'dist', 'bot', 're-fhir-populate-bot.cjs');

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
 * (the core's `Buffer`; `global` and the timers in fhirpath.js's dependencies; `setImmediate`, with
 * which the definition reader releases the file it read), so the banner
 * supplies them where they are missing and is a no-op on Lambda. It starts with the strict-mode directive, which must come first to count.
 */
const VM_CONTEXT_GLOBALS = [
  '"use strict";',
  'var global = typeof globalThis.global === "object" ? globalThis.global : globalThis;',
  'var Buffer = globalThis.Buffer || require("node:buffer").Buffer;',
  'var setTimeout = globalThis.setTimeout || require("node:timers").setTimeout;',
  'var clearTimeout = globalThis.clearTimeout || require("node:timers").clearTimeout;',
  'var setImmediate = globalThis.setImmediate || require("node:timers").setImmediate;',
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
  /** The JSON files inlined, compressed together (relative to the repository root). */
  readonly jsonFiles: string[];
}

/** Bundles the bot; see the file comment. */
export async function buildBot(options: BuildBotOptions = {}): Promise<BuiltBot> {
  const outfile = options.outfile ?? BOT_BUNDLE;
  const common: BuildOptions = {
    absWorkingDir: REPO_ROOT,
    entryPoints: [options.entry ?? BOT_ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: [...BOT_RUNTIME_MODULES],
    minify: options.minify ?? true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
  };
  // First pass: which JSON files the bot imports (the content, fhirpath.js's R4 model, UCUM's units).
  const probe = await build({
    ...common,
    outfile,
    write: false,
    plugins: [withoutSchemaTier, forbidden, fhirpathSources],
  });
  const jsonFiles = Object.keys(outputOf(probe.metafile!, outfile)?.inputs ?? {})
    .filter((file) => file.endsWith('.json'))
    .sort();
  const atns = serializedAtns();
  const result = await build({
    ...common,
    outfile,
    plugins: [
      withoutSchemaTier,
      forbidden,
      fhirpathSources,
      atnsFromStore(atns),
      compressedJson(jsonFiles, atns),
    ],
    banner: { js: VM_CONTEXT_GLOBALS },
    // esbuild replaces `module.exports`; VM-context bots read the `exports` object they passed in.
    footer: { js: 'Object.assign(exports, module.exports);' },
  });
  return {
    outfile,
    bytes: fs.statSync(outfile).size,
    inputs: inputsOf(result.metafile!, outfile),
    external: externalsOf(result.metafile!, outfile),
    jsonFiles,
  };
}

/**
 * fhirpath.js's CommonJS sources (what Node and the tests run) instead of its prebuilt ESM file,
 * which has UCUM's 230 kB unit table baked in as code: from the sources that table is a JSON
 * import, and so compressed with the rest.
 */
const fhirpathSources: Plugin = {
  name: 'fhirpath-sources',
  setup(b) {
    b.onResolve({ filter: /^fhirpath$/ }, () => ({ path: require.resolve('fhirpath') }));
  },
};

/** The virtual module holding every JSON file of the bundle, compressed together. */
const JSON_STORE = 're-fhir:compressed-json';

/** fhirpath.js's generated ANTLR lexer and parser, whose serialized ATN the store holds. */
const ATN_MODULES = /[\\/]fhirpath[\\/]src[\\/]parser[\\/]generated[\\/]FHIRPath(Lexer|Parser)\.js$/;
/** The array literal, up to the first `].join("");` (which no part of the literal contains). */
const ATN_LITERAL = /const serializedATN = (\[[\s\S]*?\])\.join\(""\);/;

/**
 * The serialized ATN of fhirpath.js's lexer and parser, by module name (`FHIRPathLexer`,
 * `FHIRPathParser`). It is 6,854 UTF-16 units, two thirds of them control characters, which the
 * `$deploy` JSON body spells as six-byte `\u00XX` escapes: about 30 KB as code, a few KB in the
 * compressed store. Read as a literal in an empty context, as the module itself would read it.
 */
function serializedAtns(): Record<string, string> {
  const dir = path.dirname(require.resolve('fhirpath/src/parser/generated/FHIRPathParser.js'));
  const atns: Record<string, string> = {};
  for (const name of ['FHIRPathLexer', 'FHIRPathParser']) {
    const literal = ATN_LITERAL.exec(fs.readFileSync(path.join(dir, `${name}.js`), 'utf8'))?.[1];
    const parts: unknown = literal === undefined ? undefined : vm.runInNewContext(`(${literal})`);
    if (!Array.isArray(parts) || !parts.every((part) => typeof part === 'string')) {
      throw new Error(`fhirpath's ${name}.js has no serializedATN literal of the expected form`);
    }
    atns[name] = parts.join('');
  }
  return atns;
}

/** fhirpath.js's lexer and parser read their serialized ATN from the compressed store. */
function atnsFromStore(atns: Record<string, string>): Plugin {
  return {
    name: 'atns-from-store',
    setup(b) {
      b.onLoad({ filter: ATN_MODULES }, (args) => {
        const name = ATN_MODULES.exec(args.path)![1] === 'Lexer' ? 'FHIRPathLexer' : 'FHIRPathParser';
        const source = fs.readFileSync(args.path, 'utf8');
        const key = `atn:${name}`;
        if (atns[name] === undefined || !ATN_LITERAL.test(source)) {
          throw new Error(`fhirpath's ${name}.js has no serializedATN literal of the expected form`);
        }
        return {
          loader: 'js',
          contents: source.replace(
            ATN_LITERAL,
            () => `const serializedATN = require(${JSON.stringify(JSON_STORE)})(${JSON.stringify(key)});`
          ),
        };
      });
    },
  };
}

/**
 * JSON is three quarters of the bundle (1.5 MB of 2 MB) and compresses about twelvefold with
 * brotli, so every imported JSON file becomes a lookup in ONE brotli-compressed, base-85-encoded
 * store (base85.ts) (one stream compresses far better than 80 small ones). The store is inflated and parsed
 * once, when the bundle loads (node:zlib, which both Medplum runtimes provide), and each import
 * gets the very value the plain JSON import would give.
 */
function compressedJson(files: readonly string[], atns: Record<string, string>): Plugin {
  return {
    name: 'compressed-json',
    setup(b) {
      const keys = new Set(files);
      b.onResolve({ filter: new RegExp(`^${JSON_STORE}$`) }, () => ({
        path: JSON_STORE,
        namespace: JSON_STORE,
      }));
      b.onLoad({ filter: /.*/, namespace: JSON_STORE }, () => {
        const all: Record<string, unknown> = {};
        for (const file of files) {
          all[file] = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'));
        }
        for (const [name, atn] of Object.entries(atns)) {
          all[`atn:${name}`] = atn;
        }
        const packed = brotliCompressSync(Buffer.from(JSON.stringify(all), 'utf8'), {
          params: { [zlibConstants.BROTLI_PARAM_QUALITY]: zlibConstants.BROTLI_MAX_QUALITY },
        });
        return {
          loader: 'js',
          contents: [
            'const { brotliDecompressSync } = require("node:zlib");',
            BASE85_DECODER_SOURCE,
            `const packed = decodeBase85(${JSON.stringify(encodeBase85(packed))}, ${packed.length});`,
            'const all = JSON.parse(brotliDecompressSync(packed).toString("utf8"));',
            'module.exports = (file) => all[file];',
          ].join('\n'),
        };
      });
      b.onLoad({ filter: /\.json$/ }, (args) => {
        const file = path.relative(REPO_ROOT, args.path).split(path.sep).join('/');
        return keys.has(file)
          ? {
              loader: 'js',
              contents: `module.exports = require(${JSON.stringify(JSON_STORE)})(${JSON.stringify(file)});`,
            }
          : undefined;
      });
    },
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
  (async () => [
    await buildBot(),
    await buildBot({ entry: POPULATE_BOT_ENTRY, outfile: POPULATE_BOT_BUNDLE }),
  ])().then(
    (built) => {
      for (const { outfile, bytes, external } of built) {
        console.log(
          `Wrote ${path.relative(process.cwd(), outfile)}: ${(bytes / 1e6).toFixed(2)} MB; external: ${external.join(', ')}`
        );
      }
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    }
  );
}
