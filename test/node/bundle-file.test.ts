import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BundleFile } from '../../src/node/bundle-file';
import { resourcesPath } from '../../src/node/definitions';

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

  describe('entriesOfResourceUrl', () => {
    /** The reference: every entry whose own resource has the url, from the whole file parsed. */
    function reference(content: { entry: { resource?: { url?: unknown } }[] }, url: string): unknown[] {
      return content.entry.filter((e) => e.resource?.url === url);
    }

    const vs = (id: string, url: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      resourceType: 'ValueSet',
      id,
      extension: [{ url: 'http://x/ext', valueString: `"url": "${url}" { ]` }],
      ...extra,
      url,
    });

    test('finds every entry whose resource has the url, in file order, and not those holding it nested', () => {
      const content = {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { fullUrl: 'http://x/1', resource: vs('1', 'http://x/vs') },
          { fullUrl: 'http://x/2', resource: vs('2', 'http://x/other', { compose: { url: 'http://x/vs' } }) },
          { fullUrl: 'http://x/3', resource: { ...tricky, url: 'http://x/vs' } },
          { fullUrl: 'http://x/4', resource: vs('4', 'http://x/ext') },
        ],
      };
      for (const pretty of [true, false]) {
        const f = file(content, pretty);
        for (const url of ['http://x/vs', 'http://x/other', 'http://x/ext', 'http://x/none', 'http://x/1']) {
          expect(f.entriesOfResourceUrl(url)).toEqual(reference(content, url));
        }
      }
    });

    test('refuses (undefined) a file whose entries it cannot delimit, rather than miss one', () => {
      const nested = {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          {
            fullUrl: 'http://x/outer',
            resource: {
              resourceType: 'Bundle',
              type: 'collection',
              entry: [{ fullUrl: 'http://x/inner', resource: vs('i', 'http://x/inner-vs') }],
              url: 'http://x/outer-vs',
            },
          },
          { fullUrl: 'http://x/last', resource: vs('l', 'http://x/last-vs') },
        ],
      };
      for (const pretty of [true, false]) {
        // The outer resource's url lies after the nested entry's start: its range is not one entry.
        expect(file(nested, pretty).entriesOfResourceUrl('http://x/outer-vs')).toBeUndefined();
        expect(file({ resourceType: 'Bundle', entry: [] }, pretty).entriesOfResourceUrl('http://x/a')).toBe(
          undefined
        );
      }
    });

    test('equals a plain parse on generated Bundles (property)', () => {
      const urls = ['http://x/a', 'http://x/b', 'http://x/é', 'http://x/"q"'];
      const resource = fc.record({
        resourceType: fc.constantFrom('ValueSet', 'CodeSystem', 'Basic'),
        id: fc.string({ maxLength: 4 }),
        text: fc.string({ maxLength: 12 }),
        extension: fc.array(
          fc.record({ url: fc.constantFrom(...urls), valueString: fc.string({ maxLength: 8 }) }),
          {
            maxLength: 2,
          }
        ),
        url: fc.option(fc.constantFrom(...urls), { nil: undefined }),
      });
      const entries = fc.array(fc.record({ fullUrl: fc.constantFrom(...urls, 'http://x/f'), resource }), {
        minLength: 1,
        maxLength: 6,
      });
      fc.assert(
        fc.property(entries, fc.boolean(), (entry, pretty) => {
          const content = { resourceType: 'Bundle', type: 'collection', entry };
          const f = file(content, pretty);
          for (const url of urls) {
            // JSON.stringify drops `url: undefined`, as the reference's parse would.
            const parsed = JSON.parse(JSON.stringify(content)) as typeof content;
            expect(f.entriesOfResourceUrl(url)).toEqual(reference(parsed, url));
          }
        }),
        { numRuns: 60 }
      );
    });
  });

  describe('index passes read a window at a time', () => {
    /** A Bundle with random whitespace around keys and urls of random lengths, as text. */
    const bundleText = fc
      .record({
        ids: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,3}$/), { minLength: 1, maxLength: 6 }),
        pad: fc.array(fc.nat({ max: 40 }), { minLength: 8, maxLength: 8 }),
        long: fc.nat({ max: 120 }),
        nested: fc.boolean(),
      })
      .map(({ ids, pad, long, nested }) => {
        const sp = (i: number): string => ' '.repeat(pad[i % pad.length]!);
        const entries = ids.map((id, i) => {
          const url = `http://x/${id}${'/p'.repeat(i === 0 ? long : 0)}`;
          const inner =
            nested && i === 1 ? `{"fullUrl":"http://x/in-${id}","resource":{"resourceType":"Basic"}}` : '1';
          return (
            `${sp(i)}{${sp(i + 1)}"fullUrl"${sp(i + 2)}:${sp(i + 3)}"${url}",${sp(i + 4)}"resource"${sp(i)}:{` +
            `"resourceType":"ValueSet","id":"${id}","extension":[{"url":"http://x/e","valueString":"é ${'}'.repeat(i)}"}],` +
            `"contained":[${inner}],${sp(i + 5)}"url"${sp(i + 6)}:${sp(i + 7)}"${url}-vs"}}`
          );
        });
        return {
          text: `{"resourceType":"Bundle","type":"collection","entry":[${entries.join(',')}]}`,
          ids,
          long,
        };
      });

    test('give what one pass over the whole file gives, whatever the window (property)', () => {
      fc.assert(
        fc.property(bundleText, fc.integer({ min: 1, max: 300 }), ({ text }, window) => {
          const path = join(dir, 'windowed.json');
          writeFileSync(path, text);
          const whole = new BundleFile(path); // one window: the whole file
          const windowed = new BundleFile(path, window);
          expect(windowed.fullUrls()).toEqual(whole.fullUrls());
          const parsed = JSON.parse(text) as { entry: { fullUrl: string; resource: { url: string } }[] };
          for (const e of parsed.entry) {
            expect(windowed.entry(e.fullUrl)).toEqual(whole.entry(e.fullUrl));
            expect(windowed.entriesOfResourceUrl(e.resource.url)).toEqual(
              whole.entriesOfResourceUrl(e.resource.url)
            );
            expect(windowed.holdsUrl('http://x/e')).toBe(whole.holdsUrl('http://x/e'));
          }
        }),
        { numRuns: 100 }
      );
    });

    test('the real definitions file: the same index read in 1 MB windows as whole', () => {
      const path = resourcesPath();
      expect(path).toBeDefined();
      const windowed = new BundleFile(path!);
      const whole = new BundleFile(path!, Number.MAX_SAFE_INTEGER);
      expect(windowed.fullUrls()).toEqual(whole.fullUrls());
      expect(windowed.fullUrls().size).toBeGreaterThan(140);
      expect(windowed.wholeReads).toBe(0); // windows only, no fallback
      expect(whole.wholeReads).toBe(0); // one window holds the whole file
      for (const url of [
        'http://hl7.org/fhir/StructureDefinition/Condition',
        'http://hl7.org/fhir/StructureDefinition/Bundle',
      ]) {
        expect(windowed.entry(url)).toEqual(whole.entry(url));
      }
      expect(windowed.wholeReads).toBe(0); // entries are read alone
    });
  });
});
