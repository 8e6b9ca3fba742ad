import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compile } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { checkHtml } from '../../../src/core/fhirpath/html-checks';
import { closure, fhirpathJs } from './outcomes';

/**
 * Our `htmlChecks()` scanner (html-checks.ts) against fhirpath.js's own, its oracle: the same answer
 * for narratives generated with every rule's traps (allowed and refused elements and attributes,
 * nesting, references, namespaces, empty and whitespace divs, comments, declarations, illegal
 * characters) and then broken by mutations (malformed markup), for every golden narrative, and for
 * the typing that picks a whole div, a div's content, or no answer.
 */

const asDocument = compile({ base: 'Narrative.div', expression: 'htmlChecks()' }, r4) as (
  text: string
) => unknown[];
const asFragment = compile('htmlChecks()', r4) as (text: string) => unknown[];

/** fhirpath.js's answer for `text` as a whole div, and as a div's content. */
function theirs(text: string): [unknown, unknown] {
  return [asDocument(text)[0], asFragment(text)[0]];
}

function ours(text: string): [boolean, boolean] {
  return [checkHtml(text, false), checkHtml(text, true)];
}

const NS = 'http://www.w3.org/1999/xhtml';

const allowedElementName = fc.constantFrom('p', 'span', 'b', 'table', 'tr', 'td', 'img', 'ul', 'li');
const anyElementName = fc.constantFrom(
  'p', 'br', 'div', 'a', 'span', 'b', 'table', 'tr', 'td', 'th', 'img', 'ul', 'li', 'pre', 'q',
  'blockquote', 'col', 'colgroup', 'h1', 'code', // allowed
  'script', 'map', 'area', 'P', 'font', 'x:p', 'td2', 'iframe' // refused
); // prettier-ignore
const elementName = fc.oneof(
  { arbitrary: allowedElementName, weight: 4 },
  { arbitrary: anyElementName, weight: 1 }
);

const allowedAttributeName = fc.constantFrom('title', 'class', 'id', 'colspan', 'style');
const anyAttributeName = fc.constantFrom(
  'title', 'class', 'id', 'xmlns', 'colspan', 'abbr', 'style', // global
  'href', 'name', 'src', 'alt', 'width', 'cite', 'nowrap', 'summary', 'border', // element's own
  'onclick', 'xml:lang', 'xmlns:x', 'space', 'usemap', 'HREF', 'a.href', '' // refused
); // prettier-ignore
const attributeName = fc.oneof(
  { arbitrary: allowedAttributeName, weight: 3 },
  { arbitrary: anyAttributeName, weight: 2 }
);

const goodText = fc.constantFrom('text', 'a &amp; b', '&#160;', ' x ', 'é', '\uD83D\uDE00', '<!-- c -->');
const trapText = fc.constantFrom(
  'text', ' ', '\n\t ', '', 'a &amp; b', '&lt;', '&#160;', '&#x41;', '&#x1F600;', '&nbsp;',
  '&#0;', '&#xD800;', '&#1114112;', '&amp', '& ', '&#;', '&#x;', 'x ]]> y', ']]', '\u0001',
  '\uD83D\uDE00', '\uD83D', '\uDE00', '\uFFFE', 'é', '>', '"', "'", '<!-- c -->', '<!-- a--b -->',
  '<!-- -->', '<!--x', '<![CDATA[x]]>', '<?xml version="1.0"?>', '<!DOCTYPE html>', '\r\n'
); // prettier-ignore
/** Mostly valid text, so that whole narratives pass as often as they fail. */
const text = fc.oneof({ arbitrary: goodText, weight: 4 }, { arbitrary: trapText, weight: 1 });

const anyAttributeValue = fc.constantFrom(
  '"v"', "'v'", '""', `"${NS}"`, `'${NS}'`, '"http://example.org"', 'v', '"a&amp;b"', '"a&b"',
  '"a<b"', '"\u0002"', '"\uD83D\uDE00"', '"x\'', `"${NS} "`, '"&#x3C;"'
); // prettier-ignore
const attributeValue = fc.oneof(
  { arbitrary: fc.constantFrom('"v"', "'v'"), weight: 3 },
  { arbitrary: anyAttributeValue, weight: 2 }
);

const attribute = fc
  .tuple(
    fc.constantFrom(' ', ' ', ' ', '  ', '\n', ''),
    attributeName,
    fc.constantFrom('=', '=', '=', ' = ', '', '=\t'),
    attributeValue
  )
  .map(([space, name, eq, value]) => `${space}${name}${eq}${value}`);

/** An element: start tag, content, end tag (or self-closed), with the occasional mismatch. */
const element: fc.Memo<string> = fc.memo((depth) =>
  fc
    .tuple(
      elementName,
      fc.array(attribute, { maxLength: 3 }),
      fc.constantFrom('>', ' >', '/>', ' />', '>'),
      depth <= 1
        ? fc.array(text, { maxLength: 3 })
        : fc.array(fc.oneof(text, element(depth - 1)), { maxLength: 3 }),
      fc.constantFrom('same', 'same', 'same', 'same', 'same', 'spaced', 'other', 'none')
    )
    .map(([name, attributes, close, content, end]) => {
      const start = `<${name}${attributes.join('')}`;
      if (close.includes('/')) {
        return start + close;
      }
      const body = content.join('');
      const endTag =
        end === 'same' ? `</${name}>` : end === 'spaced' ? `</${name} \n>` : end === 'other' ? '</p>' : '';
      return `${start}${close}${body}${endTag}`;
    })
);

/** A narrative: a div (with or without the namespace) around generated content, whitespace around. */
const narrative = fc
  .tuple(
    fc.constantFrom('', ' ', '\n'),
    fc.constantFrom(
      `<div xmlns="${NS}">`,
      '<div>',
      `<div xmlns='${NS}' class="c">`,
      '<div xmlns="x">',
      '<p>'
    ),
    fc.array(fc.oneof(text, element(3)), { maxLength: 4 }),
    fc.constantFrom('</div>', '</div>', '</div>', '</p>', ''),
    fc.constantFrom('', '', '', ' ', 'x', '<div>y</div>', '<!-- after -->')
  )
  .map((parts) => parts.join(''));

/** A narrative broken at one place: a cut, a character inserted, or a span removed. */
const mutated = fc
  .tuple(
    narrative,
    fc.nat(),
    fc.nat({ max: 6 }),
    fc.constantFrom('<', '>', '/', '&', '"', "'", '=', ' ', '-', '!', '?', ']', '\u0000')
  )
  .map(([html, at, length, insert]) => {
    const i = html.length === 0 ? 0 : at % html.length;
    return at % 3 === 0
      ? html.slice(0, i)
      : at % 3 === 1
        ? html.slice(0, i) + insert + html.slice(i)
        : html.slice(0, i) + html.slice(i + length);
  });

describe('htmlChecks(): our scanner answers as fhirpath.js', () => {
  it('on generated narratives, as a whole div and as a div content', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(narrative, (html) => {
        const answer = ours(html);
        seen.add(answer.join());
        expect({ html, answer }).toEqual({ html, answer: theirs(html) });
      }),
      { numRuns: 100 }
    );
    // both answers in both modes: the generator reaches valid and invalid narratives
    expect(seen.size).toBeGreaterThanOrEqual(3);
  });

  it('on generated narratives broken at one place (malformed markup)', () => {
    fc.assert(
      fc.property(mutated, (html) => {
        expect({ html, answer: ours(html) }).toEqual({ html, answer: theirs(html) });
      }),
      { numRuns: 100 }
    );
  });

  it('on arbitrary strings of markup characters', () => {
    const markup = fc
      .array(fc.constantFrom('<', '>', '/', 'div', 'p', ' ', '=', '"', 'x', '&', ';', '#', '-', '!'), {
        maxLength: 30,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(markup, (html) => {
        expect({ html, answer: ours(html) }).toEqual({ html, answer: theirs(html) });
      }),
      { numRuns: 100 }
    );
  });

  it.each([
    ['a valid div', `<div xmlns="${NS}"><p>ok</p></div>`],
    ['an empty div', `<div xmlns="${NS}"></div>`],
    ['a whitespace div', `<div xmlns="${NS}"> \n </div>`],
    ['an image with a source', `<div><img src="x.png"/></div>`],
    ['an image without one', `<div><img alt="x"/></div>`],
    ['a duplicate attribute', `<div><p class="a" class="b">x</p></div>`],
    ['an attribute of another element', `<div><p href="x">x</p></div>`],
    ['a table attribute anywhere', `<div><p rowspan="2">x</p></div>`],
    ['each of the 35 attributes once', `<div><table ${['title', 'style', 'class', 'id', 'lang', 'dir', 'accesskey', 'tabindex', 'span', 'align', 'valign', 'char', 'charoff', 'abbr', 'axis', 'headers', 'scope', 'rowspan', 'colspan', 'summary', 'width', 'border', 'frame', 'rules', 'cellspacing', 'cellpadding'].map((a) => `${a}="1"`).join(' ')}><tr><td>x</td></tr></table></div>`], // prettier-ignore
    [
      'a repeated late attribute',
      `<div><table cellpadding="1" cellpadding="2"><tr><td>x</td></tr></table></div>`,
    ],
    ['the namespace redeclared wrongly', `<div><p xmlns="http://x">x</p></div>`],
    ['a reference to a space', `<div>&#32;</div>`],
    ['two roots', `<div>a</div><div>b</div>`],
    ['a comment outside the root', `<!-- x --><div>a</div>`],
    ['a comment with --', `<div>a<!-- a -- b --></div>`],
    ['an end tag with a slash in its name', `<div><br/></br/></div>`],
    ['uppercase', `<DIV>a</DIV>`],
    ['a literal ]]>', `<div>a ]]> b</div>`],
    [']] without >', `<div>a ]] b</div>`],
    ['an HTML entity', `<div>a&nbsp;b</div>`],
    ['a reference past Unicode', `<div>&#x110000;</div>`],
    ['a reference to a surrogate', `<div>&#55296;</div>`],
    ['a control character', `<div>a\u0001b</div>`],
    ['a lone high surrogate', `<div>a\uD800</div>`],
    ['a lone low surrogate', `<div>\uDC00a</div>`],
    ['a surrogate pair', `<div>\uD83D\uDE00</div>`],
    ['U+FFFE', `<div>\uFFFE</div>`],
    ['a processing instruction', `<?xml version="1.0"?><div>a</div>`],
    ['a CDATA section', `<div><![CDATA[a]]></div>`],
    ['a DOCTYPE', `<!DOCTYPE div><div>a</div>`],
    ['an unquoted value', `<div><p class=a>x</p></div>`],
    ['a minimized attribute', `<div><td nowrap>x</td></div>`],
    ['no space between attributes', `<div><p title="a"class="c">x</p></div>`],
  ])('%s', (_name, html) => {
    expect(ours(html)).toEqual(theirs(html));
  });

  it('on every narrative of the golden fixtures', () => {
    const divs: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
          walk(path);
        } else if (name.endsWith('.json')) {
          collectDivs(parseJson(readFileSync(path, 'utf8')), divs);
        }
      }
    };
    walk(join(__dirname, '../../fixtures'));
    expect(divs.length).toBeGreaterThan(100);
    let valid = 0;
    for (const html of divs) {
      const answer = ours(html);
      expect({ html, answer }).toEqual({ html, answer: theirs(html) });
      valid += answer[0] ? 1 : 0;
    }
    expect(valid).toBe(divs.length); // the engine's narratives are all valid XHTML
  });
});

/** A fixture's JSON; undefined for the few fixtures that are deliberately not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function collectDivs(value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v) => collectDivs(v, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'div' && typeof v === 'string') {
        out.push(v);
      } else {
        collectDivs(v, out);
      }
    }
  }
}

describe('htmlChecks() in compiled FHIRPath: the type picks the rule, as fhirpath.js', () => {
  /** Text that differs as a whole div and as a div's content. */
  const samples = ['<p>x</p>', `<div xmlns="${NS}">x</div>`, '', 'plain', '<div><script/></div>'];
  const expressions = [
    'code.text.htmlChecks()', // string: a div's content
    'status.htmlChecks()', // code, derived from string
    'id.htmlChecks()', // id, derived from string
    'implicitRules.htmlChecks()', // uri: no answer
    'text.htmlChecks()', // an object: no answer
    'note.text.htmlChecks()', // markdown
    'note.htmlChecks()', // several: no answer
    "'<p>x</p>'.htmlChecks()", // System.String
    '%v.htmlChecks()', // a plain string in a variable
    'code.text.htmlChecks() and status.htmlChecks()',
  ];
  it('on each type and sample', () => {
    fc.assert(
      fc.property(fc.constantFrom(...samples), fc.constantFrom(...samples), (a, b) => {
        const resource = {
          resourceType: 'Observation',
          id: a,
          implicitRules: a,
          status: a,
          text: { status: 'generated', div: a },
          code: { text: b },
          note: [{ text: a }, { text: b }],
        };
        for (const expression of expressions) {
          const env = { v: b };
          const expected = fhirpathJs(expression, JSON.parse(JSON.stringify(resource)), env);
          const actual = closure(expression, JSON.parse(JSON.stringify(resource)), env);
          expect({ expression, actual }).toEqual({ expression, actual: expected });
        }
      }),
      { numRuns: 30 }
    );
  });

  it('on a narrative given as context with its base (xhtml: a whole div)', () => {
    // `div` is a keyword in FHIRPath: the invariant tier evaluates htmlChecks() on Narrative.div itself
    for (const html of samples) {
      expect(closure('htmlChecks()', html, {}, 'Narrative.div')).toEqual(
        fhirpathJs('htmlChecks()', html, {}, 'Narrative.div')
      );
    }
  });
});
