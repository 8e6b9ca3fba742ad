import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { httpError } from './errors';

/** `_summary` values (R4 search.html#summary); `count` applies to searches only. */
export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

const MODES = new Set<string>(['true', 'text', 'data', 'count', 'false']);

/** Marks a resource that is not complete (R4 search.html#summary). */
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/**
 * Reads `_summary` from a query; 400 for an unknown value.
 * @param value - `req.query._summary`.
 */
export function summaryMode(value: unknown): SummaryMode | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || !MODES.has(value)) {
    throw httpError(400, 'invalid', '_summary must be one of true, text, data, count, false');
  }
  return value as SummaryMode;
}

interface TopLevel {
  readonly summary: ReadonlySet<string>;
  readonly mandatory: ReadonlySet<string>;
  /** Choice elements (`value[x]`), by their name without `[x]`. */
  readonly choices: ReadonlySet<string>;
}

/**
 * Applies `_summary` to resources, using the `isSummary` and `min` flags of the base R4 definitions.
 * Elements are filtered at the top level (a summary element is kept whole), which is what R4 requires
 * of `_summary=true`; `text` keeps the narrative, id, meta and mandatory elements; `data` drops the
 * narrative. A filtered copy is tagged SUBSETTED; the input is never changed.
 */
export class Summarizer {
  private readonly cache = new Map<string, TopLevel>();

  /** @param definition - The base StructureDefinition of a resource type. */
  constructor(private readonly definition: (type: string) => StructureDefinition | undefined) {}

  /**
   * The resource as `_summary` asks for it.
   * @param resource - The full resource.
   * @param mode - The mode (`count` and `false` return it unchanged).
   */
  apply<T extends Resource>(resource: T, mode: SummaryMode | undefined): T {
    if (mode === undefined || mode === 'false' || mode === 'count') {
      return resource;
    }
    const top = this.topLevel(resource.resourceType);
    const keep = (key: string): boolean => {
      if (key === 'resourceType' || key === 'id' || key === 'meta') {
        return true;
      }
      switch (mode) {
        case 'true':
          return top.summary.has(elementName(key, top.choices));
        case 'text':
          return key === 'text' || top.mandatory.has(elementName(key, top.choices));
        case 'data':
          return key !== 'text';
      }
    };
    const result: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(resource)) {
      // `_name` holds a primitive's id and extensions and goes with `name`.
      if (keep(key.startsWith('_') ? key.slice(1) : key)) {
        result[key] = value;
      }
    }
    const meta = (result.meta ?? {}) as NonNullable<Resource['meta']>;
    result.meta = { ...meta, tag: [...(meta.tag ?? []), SUBSETTED] };
    return result as T;
  }

  private topLevel(type: string): TopLevel {
    let found = this.cache.get(type);
    if (!found) {
      const summary = new Set<string>();
      const mandatory = new Set<string>();
      const choices = new Set<string>();
      for (const element of this.definition(type)?.snapshot?.element ?? []) {
        const parts = element.path?.split('.') ?? [];
        if (parts.length !== 2) {
          continue;
        }
        const name = parts[1]!.replace(/\[x\]$/, '');
        if (name !== parts[1]) {
          choices.add(name);
        }
        if (element.isSummary) {
          summary.add(name);
        }
        if ((element.min ?? 0) > 0) {
          mandatory.add(name);
        }
      }
      found = { summary, mandatory, choices };
      this.cache.set(type, found);
    }
    return found;
  }
}

/** `subjectCodeableConcept` → `subject` when `subject[x]` is a choice element; other names unchanged. */
function elementName(key: string, choices: ReadonlySet<string>): string {
  for (let i = key.length - 1; i > 0; i--) {
    const c = key.charCodeAt(i);
    if (c >= 65 && c <= 90 && choices.has(key.slice(0, i))) {
      return key.slice(0, i);
    }
  }
  return key;
}
