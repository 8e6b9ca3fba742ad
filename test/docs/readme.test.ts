import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTENT } from '../../src/core/conformance/content';

const README = readFileSync(join(__dirname, '../../README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('the README matches the code', () => {
  test('it lists the canonical URL of every shipped resource', () => {
    const missing = CONTENT.map((r) => (r as { url?: string }).url).filter(
      (url) => url && !README.includes(`\`${url}\``)
    );
    expect(missing).toEqual([]);
  });

  test('every `npm run` script it names exists', () => {
    const named = [...README.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!);
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
