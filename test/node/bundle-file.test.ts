import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  test('after its one pass over the file, reads only the bytes of the entry asked for', async () => {
    const many = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: ['a', 'b', 'c', 'd'].map((id) => ({ fullUrl: `http://x/${id}`, resource: { ...tricky, id } })),
    };
    for (const pretty of [true, false]) {
      const path = join(dir, `index-${String(pretty)}.json`);
      const text = pretty ? JSON.stringify(many, null, 2) : JSON.stringify(many);
      writeFileSync(path, text);
      const f = new BundleFile(path);
      expect(f.entry('http://x/a')).toEqual(many.entry[0]); // The pass: every fullUrl and where its entry starts.
      await new Promise((resolve) => setImmediate(resolve)); // The file's bytes are released.
      // Every byte outside entry c is overwritten (same length), and where entry a was, a decoy with
      // c's fullUrl is written: a search of the whole file would find the decoy first; reading c's own
      // bytes finds c. b, whose bytes are now blanks, is not found.
      const blanked = Buffer.from(text, 'utf8'); // Byte offsets: the text has multi-byte characters.
      const cKey = blanked.lastIndexOf('"fullUrl"', blanked.indexOf('http://x/c'));
      const cStart = blanked.lastIndexOf('{', cKey);
      const cEnd = blanked.indexOf('"fullUrl"', cKey + 1);
      blanked.fill(0x20, 0, cStart);
      blanked.fill(0x20, cEnd);
      blanked.write('{"fullUrl":"http://x/c","resource":{"resourceType":"Basic","id":"decoy"}}', 0, 'utf8');
      writeFileSync(path, blanked);
      expect(readFileSync(path).length).toBe(Buffer.byteLength(text));
      expect(new BundleFile(path).entry('http://x/c')?.resource).toEqual({
        resourceType: 'Basic',
        id: 'decoy',
      });
      expect(f.entry('http://x/c')).toEqual(many.entry[2]);
      expect(f.entry('http://x/b')).toBeUndefined();
      expect(f.fullUrls()).toEqual(new Set(['http://x/a', 'http://x/b', 'http://x/c', 'http://x/d']));
    }
  });

  test('finds an entry whose range the index cut short (a nested entry with a fullUrl first)', () => {
    const nested = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'http://x/outer',
          resource: {
            resourceType: 'Bundle',
            type: 'collection',
            entry: [{ fullUrl: 'http://x/inner', resource: tricky }],
          },
        },
        { fullUrl: 'http://x/last', resource: tricky },
      ],
    };
    for (const pretty of [true, false]) {
      const f = file(nested, pretty);
      expect(f.entry('http://x/outer')).toEqual(nested.entry[0]);
      expect(f.entry('http://x/inner')).toEqual({ fullUrl: 'http://x/inner', resource: tricky });
      expect(f.entry('http://x/last')).toEqual(nested.entry[1]);
    }
  });
});
