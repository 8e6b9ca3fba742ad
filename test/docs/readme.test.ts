import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { CONTENT } from '../../src/core/conformance/content';
import type { TestServer } from '../helpers/http';
import { startServer } from '../helpers/http';

const ROOT = join(__dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The README and every page under docs/, by path. */
const DOCS = new Map<string, string>([
  ['README.md', README],
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => [`docs/${f}`, readFileSync(join(ROOT, 'docs', f), 'utf8')] as [string, string]),
]);
const ALL = [...DOCS.values()].join('\n');
const LIBRARY = DOCS.get('docs/library.md') ?? '';
const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('the README and docs match the code', () => {
  test('they list the canonical URL of every shipped resource', () => {
    const missing = CONTENT.map((r) => (r as { url?: string }).url).filter(
      (url) => url && !ALL.includes(`\`${url}\``)
    );
    expect(missing).toEqual([]);
  });

  test('every `npm run` script they name exists', () => {
    const named = [...ALL.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((s) => !(s in pkg.scripts))).toEqual([]);
  });

  test('its two commands install, then start the server and run the tests', () => {
    expect(README).toContain('npm ci && npm start');
    expect(README).toContain('npm ci && npm test');
    expect(pkg.scripts.start).toBeDefined();
    expect(pkg.scripts.test).toContain('TZ=UTC');
  });
});

/** The ```ts blocks of one README section (from its `## ` heading to the next). */
function tsBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) {
    return [];
  }
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/**
 * Type-checks `source` as a consumer's strict TypeScript file would be (`tsc --strict`, bundler
 * resolution, JSON imports), with `re-fhir` resolved to this repository's sources and
 * `re-fhir/profiles/*` to the shipped files, as the package's `exports` map them. The file exists
 * only in memory, beside this test, so that its imports resolve through the repository's node_modules.
 * @returns one line per diagnostic, `file:line: message`.
 */
function typeCheck(source: string): string[] {
  const fileName = join(__dirname, '__readme-example__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    resolveJsonModule: true,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    baseUrl: ROOT,
    paths: { 're-fhir': ['src/index.ts'], 're-fhir/profiles/*': ['profiles/*'] },
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName
      ? ts.createSourceFile(name, source, language, true)
      : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === fileName || fileExists.call(host, name);
  host.readFile = (name) => (name === fileName ? source : readFile.call(host, name));
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${d.file.fileName.replace(`${ROOT}/`, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : 'options';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe('the library example (docs/library.md)', () => {
  const blocks = tsBlocks(LIBRARY, 'Library usage');

  test('is one TypeScript block that calls each library function', () => {
    expect(blocks).toHaveLength(1);
    for (const name of ['evaluate(', 'extract(', 'apply(', 'validateQuestionnaireResponse(']) {
      expect(blocks[0]).toContain(name);
    }
  });

  test('type-checks under tsc --strict, as a consumer compiles it', () => {
    expect(typeCheck(blocks[0]!)).toEqual([]);
  }, 60_000);

  test('the type check reports an error in the example (a JSON-typed response in a Bundle entry)', () => {
    const untyped = blocks[0]!.replace(
      'const response = example as QuestionnaireResponse;',
      'const response = example;'
    );
    expect(untyped).not.toBe(blocks[0]);
    const errors = typeCheck(untyped);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^test\/docs\/__readme-example__\.ts:\d+: Type '\{ resourceType: string;.* is not assignable to type 'Resource \| undefined'/
    );
  }, 60_000);
});

describe('links in the README and docs', () => {
  test('every relative link names a file that exists, or one of the pages other work adds', () => {
    // Pages written alongside this one (the integrator brings them in).
    const expectedElsewhere = new Set(
      ['upstream', 'amendments', 'medplum', 'authoring', 'performance', 'server-operations'].map(
        (p) => `docs/${p}.md`
      )
    );
    const broken: string[] = [];
    for (const [path, text] of DOCS) {
      const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) {
          continue;
        }
        const resolved = join(dir, target!).replace(/\\/g, '/');
        const exists = (() => {
          try {
            readFileSync(join(ROOT, resolved));
            return true;
          } catch {
            return false;
          }
        })();
        if (!exists && !expectedElsewhere.has(resolved)) {
          broken.push(`${path}: ${target}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

/** Every curl command of the README and docs, continuation lines joined, with the page it is in. */
function curlCommands(): { page: string; command: string }[] {
  const found: { page: string; command: string }[] = [];
  for (const [page, text] of DOCS) {
    for (const [, block] of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
      const joined = block!.replace(/\\\n\s*/g, ' ');
      for (const line of joined.split('\n')) {
        if (line.trim().startsWith('curl ')) {
          found.push({ page, command: line.trim() });
        }
      }
    }
  }
  return found;
}

describe('every curl of the README and docs, against the real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  const commands = curlCommands();
  test('there are curls to check', () => {
    expect(commands.length).toBeGreaterThan(10);
  });

  test.each(commands.map((c) => [c.page, c.command] as const))('%s: %s', async (_page, command) => {
    // A trailing `# 406` (or any status) names the expected answer; otherwise 200. The server runs in
    // this process, so curl runs asynchronously (a synchronous child would block the server).
    const expected = Number(/#\s*(\d{3})\b/.exec(command)?.[1] ?? 200);
    const bare = command.replace(/\s+#.*$/, '').replaceAll('http://localhost:8080', server.origin);
    const { stdout } = await promisify(execFile)('bash', ['-c', `${bare} -o /dev/null -w '%{http_code}'`], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(stdout.trim().slice(-3)).toBe(String(expected));
  });
});
