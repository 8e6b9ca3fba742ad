import type { Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Where the committed corpus lives: `cases.json` (the manifest) and `bodies/` (raw bodies). */
export const BAD_INPUT_DIR = join(__dirname, '../fixtures/bad-input');
const ROOT = join(__dirname, '../..');

/** What the server must answer, and (where the input reaches the engine) what the library must throw. */
export interface Expectation {
  readonly status: number;
  /** Code of the first issue of the OperationOutcome (absent for a tolerated input, status 2xx). */
  readonly code?: string;
  /** The library's failure for the same JSON: `ReFhirError.kind` and the first error's code. */
  readonly library?: { readonly kind: string; readonly code: string };
  /** A tolerated input (2xx): the shipped example whose evaluation the answer must equal. */
  readonly sameAs?: string;
}

/**
 * How a body is built. Exactly one source: `file` (raw bytes from `bodies/`), `text`, `json` (any
 * JSON, where `{"$example": id, "$patch": [...]}` stands for a shipped example QuestionnaireResponse
 * and `{"$questionnaire": id, "$patch": [...]}` for a shipped Questionnaire, each with edits) or
 * `generate` (inputs too large to commit). Then, in order: `truncate` (keep the first n bytes),
 * `prefixHex` (bytes put in front), `gzip`.
 */
export interface BodySpec {
  readonly file?: string;
  readonly text?: string;
  readonly json?: unknown;
  readonly generate?: Generator;
  /** Size parameter of `generate`. */
  readonly n?: number;
  readonly truncate?: number;
  readonly prefixHex?: string;
  readonly gzip?: boolean;
}

/** Generated inputs (too large to commit). */
export type Generator =
  | 'deep-items'
  | 'deep-extensions'
  | 'deep-arrays'
  | 'many-answers'
  | 'many-items'
  | 'huge-string-answer'
  | 'huge-linkid'
  | 'spaces'
  | 'gzip-bomb';

/** One case of the corpus. */
export interface BadInputCase {
  readonly name: string;
  readonly category: string;
  readonly description: string;
  /** HTTP method (default POST). */
  readonly method?: string;
  /** Path under the FHIR base, with its query string. */
  readonly path: string;
  /** Request headers; `content-type` defaults to `application/fhir+json` when there is a body. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: BodySpec;
  readonly expect: Expectation;
}

/** An edit of a shipped resource (see {@link applyPatch}). */
export type PatchOp =
  | { readonly op: 'set'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'answer'; readonly linkId: string; readonly value: unknown }
  | { readonly op: 'set-item'; readonly linkId: string; readonly key: string; readonly value: unknown }
  | { readonly op: 'remove-item'; readonly linkId: string }
  | { readonly op: 'add-item'; readonly parent: string | null; readonly item: unknown }
  | { readonly op: 'duplicate-item'; readonly linkId: string };

type Json = Record<string, unknown>;

/** Every case of the corpus, in manifest order. */
export function badInputCases(): BadInputCase[] {
  return JSON.parse(readFileSync(join(BAD_INPUT_DIR, 'cases.json'), 'utf8')) as BadInputCase[];
}

/** A shipped example QuestionnaireResponse by id (`profiles/examples/QuestionnaireResponse-{id}.json`). */
export function example(id: string): QuestionnaireResponse {
  return readJson(
    join(ROOT, 'profiles/examples', `QuestionnaireResponse-${id}.json`)
  ) as QuestionnaireResponse;
}

/** A shipped Questionnaire by id (`profiles/Questionnaire-{id}.json`). */
export function shippedQuestionnaire(id: string): Questionnaire {
  return readJson(join(ROOT, 'profiles', `Questionnaire-${id}.json`)) as Questionnaire;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * Sets a property as an own data property, so that keys such as `__proto__` stay plain keys (an
 * assignment would change the object's prototype instead).
 */
function define(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The value at a JSON pointer (RFC 6901), and its parent with the last key. */
function locate(root: unknown, pointer: string): { parent: Json; key: string } {
  const keys = pointer
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  let parent = root as Json;
  for (const key of keys.slice(0, -1)) {
    const next = Object.prototype.hasOwnProperty.call(parent, key) ? parent[key] : undefined;
    if (typeof next !== 'object' || next === null) {
      throw new Error(`Patch path ${pointer}: nothing at ${key}`);
    }
    parent = next as Json;
  }
  return { parent, key: keys[keys.length - 1]! };
}

/** Every item (at any depth, in document order) with this linkId; items under answers included. */
function itemsWithLinkId(root: Json, linkId: string): Json[] {
  const found: Json[] = [];
  const walk = (items: unknown): void => {
    for (const item of Array.isArray(items) ? (items as Json[]) : []) {
      if (item.linkId === linkId) {
        found.push(item);
      }
      walk(item.item);
      for (const answer of Array.isArray(item.answer) ? (item.answer as Json[]) : []) {
        walk(answer.item);
      }
    }
  };
  walk(root.item);
  return found;
}

function firstItem(root: Json, linkId: string): Json {
  const [item] = itemsWithLinkId(root, linkId);
  if (!item) {
    throw new Error(`Patch: no item ${linkId}`);
  }
  return item;
}

/** The array of items that holds the item with this linkId (the root's `item` for a top-level one). */
function siblingsOf(root: Json, linkId: string): Json[] {
  const search = (items: unknown): Json[] | undefined => {
    const list = Array.isArray(items) ? (items as Json[]) : [];
    if (list.some((i) => i.linkId === linkId)) {
      return list;
    }
    for (const item of list) {
      const inner = search(item.item);
      if (inner) {
        return inner;
      }
    }
    return undefined;
  };
  const found = search(root.item);
  if (!found) {
    throw new Error(`Patch: no item ${linkId}`);
  }
  return found;
}

/**
 * Applies edits to a copy of a resource: `set`/`remove` by JSON pointer; by linkId, `answer` (the
 * item's answer list), `set-item` (any key of the item), `remove-item`, `add-item` (under a group, or at
 * the root for `parent: null`) and `duplicate-item`. An edit that finds nothing throws, so a change of
 * the shipped examples shows up as a failing case rather than a silently different input.
 * @param resource - The resource (not modified).
 * @param ops - The edits.
 */
export function applyPatch<T>(resource: T, ops: readonly PatchOp[]): T {
  const copy = structuredClone(resource) as unknown as Json;
  for (const op of ops) {
    switch (op.op) {
      case 'set': {
        const { parent, key } = locate(copy, op.path);
        define(parent, key, structuredClone(op.value));
        break;
      }
      case 'remove': {
        const { parent, key } = locate(copy, op.path);
        if (!Object.prototype.hasOwnProperty.call(parent, key)) {
          throw new Error(`Patch: nothing to remove at ${op.path}`);
        }
        Reflect.deleteProperty(parent, key);
        break;
      }
      case 'answer':
        define(firstItem(copy, op.linkId), 'answer', structuredClone(op.value));
        break;
      case 'set-item':
        define(firstItem(copy, op.linkId), op.key, structuredClone(op.value));
        break;
      case 'remove-item': {
        const siblings = siblingsOf(copy, op.linkId);
        siblings.splice(
          siblings.findIndex((i) => i.linkId === op.linkId),
          1
        );
        break;
      }
      case 'add-item': {
        const list = op.parent === null ? (copy.item as Json[]) : (firstItem(copy, op.parent).item as Json[]);
        list.push(structuredClone(op.item) as Json);
        break;
      }
      case 'duplicate-item': {
        const siblings = siblingsOf(copy, op.linkId);
        siblings.push(structuredClone(firstItem(copy, op.linkId)));
        break;
      }
    }
  }
  return copy as unknown as T;
}

/** Replaces `$example` / `$questionnaire` placeholders (anywhere in a JSON value) by the edited resource. */
export function resolveJson(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(resolveJson);
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const object = value as Json;
  const ops = (object.$patch ?? []) as PatchOp[];
  if (typeof object.$example === 'string') {
    return applyPatch(example(object.$example), ops);
  }
  if (typeof object.$questionnaire === 'string') {
    return applyPatch(shippedQuestionnaire(object.$questionnaire), ops);
  }
  const out: Json = {};
  for (const [key, child] of Object.entries(object)) {
    define(out, key, resolveJson(child));
  }
  return out;
}

const BASE_EXAMPLE = 're-example-turp-tamsulosin';

/** Builds a generated body (see {@link Generator}); `n` is its size parameter. */
function generate(kind: Generator, n: number): Buffer {
  const qr = example(BASE_EXAMPLE) as unknown as Json;
  const withItems = (items: string): string =>
    JSON.stringify({ ...qr, item: ['@ITEMS@'] }).replace('"@ITEMS@"', items);
  switch (kind) {
    case 'deep-items': {
      // Groups inside groups, n levels, a boolean answer at the bottom: valid FHIR structure.
      const open = '{"linkId":"symptoms","item":['.repeat(n);
      const leaf = '{"linkId":"dry-orgasm","answer":[{"valueBoolean":true}]}';
      return Buffer.from(withItems(open + leaf + ']}'.repeat(n)));
    }
    case 'deep-extensions': {
      const open = '{"url":"http://example.org/x","extension":['.repeat(n);
      const leaf = '{"url":"http://example.org/y","valueString":"z"}';
      return Buffer.from(
        JSON.stringify({ ...qr, extension: ['@EXT@'] }).replace('"@EXT@"', open + leaf + ']}'.repeat(n))
      );
    }
    case 'deep-arrays':
      return Buffer.from('['.repeat(n) + ']'.repeat(n));
    case 'many-answers': {
      const copy = applyPatch(qr, [
        {
          op: 'answer',
          linkId: 'dry-orgasm',
          value: Array.from({ length: n }, () => ({ valueBoolean: true })),
        },
      ]);
      return Buffer.from(JSON.stringify(copy));
    }
    case 'many-items': {
      const extra = Array.from({ length: n }, (_, i) => ({
        linkId: `extra-${i}`,
        answer: [{ valueBoolean: true }],
      }));
      const copy = structuredClone(qr);
      (copy.item as Json[]).push(...extra);
      return Buffer.from(JSON.stringify(copy));
    }
    case 'huge-string-answer': {
      const copy = applyPatch(qr, [
        { op: 'answer', linkId: 'dry-orgasm', value: [{ valueString: 'x'.repeat(n) }] },
      ]);
      return Buffer.from(JSON.stringify(copy));
    }
    case 'huge-linkid': {
      const copy = applyPatch(qr, [
        {
          op: 'add-item',
          parent: 'symptoms',
          item: { linkId: 'l'.repeat(n), answer: [{ valueBoolean: true }] },
        },
      ]);
      return Buffer.from(JSON.stringify(copy));
    }
    case 'spaces':
      // A body of n bytes: the example padded with trailing whitespace (valid JSON, if it were read).
      return Buffer.concat([Buffer.from(JSON.stringify(qr)), Buffer.alloc(n, 0x20)]);
    case 'gzip-bomb':
      // n bytes of whitespace, gzip-compressed to a small request.
      return gzipSync(Buffer.alloc(n, 0x20));
  }
}

/**
 * The bytes of a case's body.
 * @param spec - The body description.
 */
export function buildBody(spec: BodySpec): Buffer {
  let body: Buffer;
  if (spec.file !== undefined) {
    body = readFileSync(join(BAD_INPUT_DIR, 'bodies', spec.file));
  } else if (spec.text !== undefined) {
    body = Buffer.from(spec.text, 'utf8');
  } else if (spec.generate !== undefined) {
    body = generate(spec.generate, spec.n ?? 0);
  } else {
    body = Buffer.from(JSON.stringify(resolveJson(spec.json)), 'utf8');
  }
  if (spec.truncate !== undefined) {
    body = body.subarray(0, spec.truncate);
  }
  if (spec.prefixHex !== undefined) {
    body = Buffer.concat([Buffer.from(spec.prefixHex, 'hex'), body]);
  }
  if (spec.gzip) {
    body = gzipSync(body);
  }
  return body;
}

/**
 * The case's JSON as the library would receive it, when the body is JSON meant for the engine: a bare
 * resource, or the `questionnaire-response` (and inline `questionnaire`) of a Parameters body.
 * @param c - The case.
 */
export function libraryInput(c: BadInputCase): { response: unknown; questionnaire?: Questionnaire } {
  const parsed: unknown = JSON.parse(buildBody(c.body!).toString('utf8'));
  if (typeof parsed === 'object' && parsed !== null && (parsed as Json).resourceType === 'Parameters') {
    const params = ((parsed as Json).parameter ?? []) as { name?: string; resource?: unknown }[];
    return {
      response: params.find((p) => p.name === 'questionnaire-response')?.resource,
      questionnaire: params.find((p) => p.name === 'questionnaire')?.resource as Questionnaire | undefined,
    };
  }
  return { response: parsed };
}
