import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundleFile } from '../../src/node/bundle-file';

describe('BundleFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bundle-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(content: unknown, pretty = true): BundleFile {
    const path = join(dir, `b${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, pretty ? JSON.stringify(content, null, 2) : JSON.stringify(content));
    return new BundleFile(path);
  }

  const tricky = {
    resourceType: 'Basic',
    id: 'b',
    text: { status: 'generated', div: '<div>braces } { and "quotes" \\ and é ünïcödé</div>' },
  };
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'http://x/a', resource: tricky },
      {
        fullUrl: 'http://x/b',
        resource: { resourceType: 'Basic', id: 'other', note: 'mentions "http://x/a"' },
      },
    ],
  };

  test('parses exactly the entry with the fullUrl, braces, quotes and non-ASCII text inside strings included', () => {
    for (const pretty of [true, false]) {
      const f = file(bundle, pretty);
      expect(f.entry('http://x/a')).toEqual(bundle.entry[0]);
      expect(f.entry('http://x/b')).toEqual(bundle.entry[1]);
    }
  });

  test('gives undefined for a fullUrl it does not have, or one that is not the first key of its entry', () => {
    expect(file(bundle).entry('http://x/c')).toBeUndefined();
    const reordered = { ...bundle, entry: [{ resource: tricky, fullUrl: 'http://x/a' }] };
    expect(file(reordered).entry('http://x/a')).toBeUndefined();
  });

  test('mentions tells a fullUrl absent from the file from one it holds in an unexpected shape', () => {
    const f = file(bundle);
    expect(f.mentions('http://x/a')).toBe(true);
    expect(f.mentions('http://x/c')).toBe(false);
    expect(f.mentions('http://x/')).toBe(false); // whole JSON strings only
  });
});
