/**
 * FHIRPath's `htmlChecks()` (R4's txt-1 and txt-2 on every narrative): the rules of fhirpath.js 5.2.2's
 * own scanner (src/html-checks.js), the same answer for every input, malformed ones included. Ours
 * makes no string per tag: element and attribute names are looked up by a hash of their characters
 * in a table without collisions and compared in place, and the open elements are kept as numbers. fhirpath.js's substring, Set
 * look-up and string compare per name cost it about 10 ns per character of a tag-dense narrative.
 * test/core/fhirpath/html-checks.test.ts compares the two on generated and golden narratives.
 */

/** Elements allowed in narrative XHTML (fhirpath.js's ALLOWED_ELEMENT_LIST). */
const ELEMENTS = [
  'p', 'br', 'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'span', 'b', 'em', 'i', 'strong',
  'small', 'big', 'tt', 'dfn', 'q', 'var', 'abbr', 'acronym', 'cite', 'blockquote', 'hr',
  'address', 'bdo', 'kbd', 'sub', 'sup', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'pre', 'table',
  'caption', 'colgroup', 'col', 'thead', 'tr', 'tfoot', 'tbody', 'th', 'td', 'code', 'samp', 'img',
]; // prettier-ignore

/** Attributes allowed on every element (fhirpath.js's ALLOWED_ATTR_LIST). */
const GLOBAL_ATTRIBUTES = [
  'title', 'style', 'class', 'id', 'lang', 'dir', 'accesskey', 'tabindex', 'xmlns', 'span',
  'align', 'valign', 'char', 'charoff', 'abbr', 'axis', 'headers', 'scope', 'rowspan', 'colspan',
]; // prettier-ignore

/** Attributes allowed on one element (fhirpath.js's ALLOWED_ELEMENT_ATTR_LIST). */
const ELEMENT_ATTRIBUTES = [
  'a.href', 'a.name', 'img.src', 'img.border', 'img.alt', 'img.longdesc', 'img.height',
  'img.width', 'blockquote.cite', 'q.cite', 'table.summary', 'table.width', 'table.border',
  'table.frame', 'table.rules', 'table.cellspacing', 'table.cellpadding', 'col.width',
  'colgroup.width', 'th.width', 'td.width', 'td.nowrap',
]; // prettier-ignore

const XHTML_NS = 'http://www.w3.org/1999/xhtml';

/** Every attribute name either list knows, each once: an attribute is its position here. */
const ATTRIBUTES = [...new Set([...GLOBAL_ATTRIBUTES, ...ELEMENT_ATTRIBUTES.map((a) => a.split('.')[1]!)])];
const GLOBAL = ATTRIBUTES.map((name) => GLOBAL_ATTRIBUTES.includes(name));
/** allowedOn[element * ATTRIBUTES.length + attribute]: an element's own attributes. */
const allowedOn = new Uint8Array(ELEMENTS.length * ATTRIBUTES.length);
for (const pair of ELEMENT_ATTRIBUTES) {
  const [element, attribute] = pair.split('.') as [string, string];
  allowedOn[ELEMENTS.indexOf(element) * ATTRIBUTES.length + ATTRIBUTES.indexOf(attribute)] = 1;
}
const DIV = ELEMENTS.indexOf('div');
const IMG = ELEMENTS.indexOf('img');
const SRC = ATTRIBUTES.indexOf('src');
const XMLNS = ATTRIBUTES.indexOf('xmlns');

/** The hash of a name's characters, computed as the scanner reads them. */
function step(hash: number, c: number): number {
  return (Math.imul(hash, 31) + c) | 0;
}

/**
 * A direct table from a name's hash to its position + 1 in `names`: the first table size (a power
 * of two) where no two names share a slot, so a name not at its own slot is none of them.
 */
interface NameTable {
  readonly mask: number;
  readonly slots: Int32Array;
  readonly names: readonly string[];
}

function nameTable(names: readonly string[]): NameTable {
  for (let size = 64; ; size *= 2) {
    const slots = new Int32Array(size);
    const mask = size - 1;
    const free = names.every((name, index) => {
      let hash = 0;
      for (let i = 0; i < name.length; i++) {
        hash = step(hash, name.charCodeAt(i));
      }
      if (slots[hash & mask] !== 0) {
        return false;
      }
      slots[hash & mask] = index + 1;
      return true;
    });
    if (free) {
      return { mask, slots, names };
    }
  }
}
const ELEMENT_TABLE = nameTable(ELEMENTS);
const ATTRIBUTE_TABLE = nameTable(ATTRIBUTES);

/** The position of text[start, end) (whose hash is `hash`) in the table's names; -1 when none. */
function find(table: NameTable, hash: number, text: string, start: number, end: number): number {
  const index = table.slots[hash & table.mask]! - 1;
  return index >= 0 && sameText(table.names[index]!, text, start, end) ? index : -1;
}

/** Whether text[start, end) is `name`, compared in place. */
function sameText(name: string, text: string, start: number, end: number): boolean {
  if (end - start !== name.length) {
    return false;
  }
  for (let i = 0; i < name.length; i++) {
    if (text.charCodeAt(start + i) !== name.charCodeAt(i)) {
      return false;
    }
  }
  return true;
}

/** XML's `S`: space, LF, tab, CR. */
function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** A code point legal in XML (its `Char` production). */
function isXmlCodePoint(cp: number): boolean {
  return (
    cp === 9 ||
    cp === 10 ||
    cp === 13 ||
    (cp >= 0x20 && cp < 0xd800) ||
    (cp > 0xdfff && cp < 0xfffe) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/**
 * For a code unit below 0x20 or from 0xD800: 0 for a legal BMP character, 1 for a surrogate pair,
 * -1 for a character XML does not allow.
 */
function extraUnits(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c < 0x20) {
    return c === 9 || c === 10 || c === 13 ? 0 : -1;
  }
  if (c <= 0xdbff) {
    const c2 = i + 1 < end ? text.charCodeAt(i + 1) : 0;
    return c2 >= 0xdc00 && c2 <= 0xdfff ? 1 : -1;
  }
  if (c <= 0xdfff) {
    return -1; // a low surrogate alone
  }
  return c >= 0xfffe ? -1 : 0;
}

/** Only legal XML characters in text[start, end). */
function xmlChars(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; ++i) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c >= 0xd800) {
      const extra = extraUnits(text, i, end);
      if (extra === -1) {
        return false;
      }
      i += extra;
    }
  }
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) {
    return c - 48;
  }
  if (c >= 97 && c <= 102) {
    return c - 87;
  }
  if (c >= 65 && c <= 70) {
    return c - 55;
  }
  return -1;
}

function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

const ENTITIES = ['amp', 'lt', 'gt', 'quot', 'apos'];

/**
 * A character reference at `start` (an `&`): one of XML's five entities or a number naming a legal
 * XML character, then `;`. The index after the `;`, or -1.
 */
function charRef(text: string, start: number, end: number): number {
  let i = start + 1;
  if (i < end && text.charCodeAt(i) === 35 /* # */) {
    ++i;
    let cp = 0;
    let digitsStart: number;
    if (i < end && text.charCodeAt(i) === 120 /* x */) {
      digitsStart = ++i;
      for (;;) {
        const v = i < end ? hexValue(text.charCodeAt(i)) : -1;
        if (v === -1) {
          break;
        }
        cp = cp * 16 + v;
        if (cp > 0x10ffff) {
          return -1;
        }
        ++i;
      }
    } else {
      digitsStart = i;
      while (i < end) {
        const c = text.charCodeAt(i);
        if (c < 48 || c > 57) {
          break;
        }
        cp = cp * 10 + (c - 48);
        if (cp > 0x10ffff) {
          return -1;
        }
        ++i;
      }
    }
    if (i === digitsStart || !isXmlCodePoint(cp)) {
      return -1;
    }
  } else {
    const nameStart = i;
    while (i < end && isAlpha(text.charCodeAt(i))) {
      ++i;
    }
    if (!ENTITIES.some((entity) => sameText(entity, text, nameStart, i))) {
      return -1;
    }
  }
  return i < end && text.charCodeAt(i) === 59 /* ; */ ? i + 1 : -1;
}

/** The open elements, as positions in ELEMENTS (reused: checkHtml is not reentrant, and resets it). */
const stack: number[] = [];

/**
 * fhirpath.js's checkHtml: well-formed XHTML within the narrative rules (allowed elements and
 * attributes, quoted values, the XHTML namespace, legal characters and references, no comments'
 * `--`, no `]]>`, no declarations) with some content (text, a reference, or an `img` with `src`).
 * A fragment is the content of a div; otherwise `text` is one root `div` with only whitespace around.
 */
export function checkHtml(text: string, isFragment: boolean): boolean {
  const len = text.length;
  stack.length = 0;
  let rootSeen = false;
  let hasContent = false;
  let i = 0;
  while (i < len) {
    if (text.charCodeAt(i) !== 60 /* < */) {
      if (!isFragment && stack.length === 0) {
        // Only whitespace outside the root element.
        while (i < len) {
          const c = text.charCodeAt(i);
          if (c === 60) {
            break;
          }
          if (!isSpace(c)) {
            return false;
          }
          ++i;
        }
        continue;
      }
      while (i < len) {
        const c = text.charCodeAt(i);
        if (c > 32) {
          if (c === 60) {
            break;
          }
          if (c === 38 /* & */) {
            const next = charRef(text, i, len);
            if (next === -1) {
              return false;
            }
            hasContent = true; // a reference is content, even one to whitespace
            i = next;
            continue;
          }
          if (c === 93 /* ] */) {
            if (text.startsWith(']]>', i)) {
              return false;
            }
          } else if (c >= 0xd800) {
            const extra = extraUnits(text, i, len);
            if (extra === -1) {
              return false;
            }
            i += extra;
          }
          hasContent = true;
        } else if (!isSpace(c)) {
          return false; // a C0 control character
        }
        ++i;
      }
      continue;
    }

    const c1 = i + 1 < len ? text.charCodeAt(i + 1) : 0;
    if (c1 === 63 /* ? */) {
      return false; // processing instructions
    }
    if (c1 === 33 /* ! */) {
      if (!text.startsWith('<!--', i)) {
        return false; // DOCTYPE, CDATA and other declarations
      }
      if (!isFragment && stack.length === 0) {
        return false;
      }
      const end = text.indexOf('-->', i + 4);
      if (end === -1 || text.indexOf('--', i + 4) < end || !xmlChars(text, i + 4, end)) {
        return false;
      }
      i = end + 3;
      continue;
    }

    if (c1 === 47 /* / */) {
      // An end tag: its name runs to whitespace or `>`, and must be the open element's.
      let j = i + 2;
      const nameStart = j;
      while (j < len) {
        const c = text.charCodeAt(j);
        if (isSpace(c) || c === 62) {
          break;
        }
        ++j;
      }
      const nameEnd = j;
      while (j < len && isSpace(text.charCodeAt(j))) {
        ++j;
      }
      if (
        j >= len ||
        text.charCodeAt(j) !== 62 ||
        stack.length === 0 ||
        !sameText(ELEMENTS[stack[stack.length - 1]!]!, text, nameStart, nameEnd)
      ) {
        return false;
      }
      stack.pop();
      i = j + 1;
      continue;
    }

    // A start tag.
    let j = i + 1;
    const nameStart = j;
    let hash = 0;
    while (j < len) {
      const c = text.charCodeAt(j);
      if (isSpace(c) || c === 47 || c === 62) {
        break;
      }
      hash = step(hash, c);
      ++j;
    }
    const element = j === nameStart ? -1 : find(ELEMENT_TABLE, hash, text, nameStart, j);
    if (element === -1) {
      return false;
    }
    if (!isFragment && stack.length === 0) {
      if (rootSeen || element !== DIV) {
        return false; // one root, a div
      }
      rootSeen = true;
    }

    // The tag's attributes seen so far, one bit each (fewer than 64 names are allowed).
    let seenLow = 0;
    let seenHigh = 0;
    let selfClosing = false;
    for (;;) {
      const spaceStart = j;
      while (j < len && isSpace(text.charCodeAt(j))) {
        ++j;
      }
      if (j >= len) {
        return false;
      }
      let c = text.charCodeAt(j);
      if (c === 62) {
        ++j;
        break;
      }
      if (c === 47) {
        ++j;
        if (j >= len || text.charCodeAt(j) !== 62) {
          return false;
        }
        ++j;
        selfClosing = true;
        break;
      }
      if (j === spaceStart) {
        return false; // whitespace before every attribute
      }
      const attrStart = j;
      hash = 0;
      while (j < len) {
        c = text.charCodeAt(j);
        if (isSpace(c) || c === 61 || c === 47 || c === 62) {
          break;
        }
        hash = step(hash, c);
        ++j;
      }
      const attribute = j === attrStart ? -1 : find(ATTRIBUTE_TABLE, hash, text, attrStart, j);
      if (
        attribute === -1 ||
        !(GLOBAL[attribute] || allowedOn[element * ATTRIBUTES.length + attribute] === 1)
      ) {
        return false;
      }
      if (attribute < 32) {
        if (seenLow & (1 << attribute)) {
          return false; // the same attribute twice
        }
        seenLow |= 1 << attribute;
      } else {
        if (seenHigh & (1 << (attribute - 32))) {
          return false;
        }
        seenHigh |= 1 << (attribute - 32);
      }
      while (j < len && isSpace(text.charCodeAt(j))) {
        ++j;
      }
      if (j >= len || text.charCodeAt(j) !== 61 /* = */) {
        return false; // no minimized attributes
      }
      ++j;
      while (j < len && isSpace(text.charCodeAt(j))) {
        ++j;
      }
      const quote = j < len ? text.charCodeAt(j) : 0;
      if (quote !== 34 && quote !== 39) {
        return false; // values quoted
      }
      const valueStart = ++j;
      for (;;) {
        if (j >= len) {
          return false;
        }
        const cc = text.charCodeAt(j);
        if (cc === quote) {
          break;
        }
        if (cc === 60) {
          return false; // no raw `<` in a value
        }
        if (cc === 38) {
          const next = charRef(text, j, len);
          if (next === -1) {
            return false;
          }
          j = next;
          continue;
        }
        if (cc < 0x20 || cc >= 0xd800) {
          const extra = extraUnits(text, j, len);
          if (extra === -1) {
            return false;
          }
          j += extra;
        }
        ++j;
      }
      if (attribute === XMLNS && !sameText(XHTML_NS, text, valueStart, j)) {
        return false; // only the XHTML namespace
      }
      ++j;
    }
    if (element === IMG && isSeen(seenLow, seenHigh, SRC)) {
      hasContent = true; // an image with a source is content
    }
    if (!selfClosing) {
      stack.push(element);
    }
    i = j;
  }
  return stack.length === 0 && (isFragment || rootSeen) && hasContent;
}

function isSeen(low: number, high: number, attribute: number): boolean {
  return attribute < 32 ? (low & (1 << attribute)) !== 0 : (high & (1 << (attribute - 32))) !== 0;
}
