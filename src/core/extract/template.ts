import type { Expression, Extension } from '@medplum/fhirtypes';
import { SDC_EXTENSION } from '../constants';
import { CompiledExpression } from './compiled-expression';

/**
 * A template resource compiled once into a tree, so that instantiating it per response walks only
 * the parts that carry SDC template extensions and copies the static parts.
 * See: https://hl7.org/fhir/uv/sdc/STU4/extraction.html#template-based-extraction
 */
export type TemplateNode = ConstNode | ArrayNode | ObjectNode;

/** A subtree with no template extensions: copied as is. */
export interface ConstNode {
  readonly kind: 'const';
  readonly value: unknown;
}

export interface ArrayNode {
  readonly kind: 'array';
  readonly items: readonly TemplateNode[];
}

/** An expression attached to a template element, with the element's location for issues. */
export interface TemplateExpression {
  readonly expression: string;
  /** Set when a templateExtractContext is an Expression with a `name`: bound as `%name` for descendants. */
  readonly name?: string;
  /** Only `text/fhirpath` (or no language) is supported. */
  readonly language?: string;
  readonly location: string;
  /** The compiled expression, once per base type (see compiled-expression.ts). */
  readonly compiled: CompiledExpression;
}

export interface ObjectNode {
  readonly kind: 'object';
  /** templateExtractContext: the element repeats once per result, or disappears when there is none. */
  readonly context?: TemplateExpression;
  /** templateExtractValue on a complex element: its results replace the element. */
  readonly value?: TemplateExpression;
  readonly fields: readonly Field[];
}

/** One property of an object node; `primitive` holds a templateExtractValue found on `_key`. */
export interface Field {
  readonly key: string;
  readonly node?: TemplateNode;
  readonly primitive?: TemplateExpression;
  /** What remains of `_key` once the template extension is removed (other extensions, id). */
  readonly companion?: TemplateNode;
  /** True when the template holds the property as an array (results are then all kept). */
  readonly isArray: boolean;
}

const TEMPLATE_URLS = new Set<string>([
  SDC_EXTENSION.templateExtractContext,
  SDC_EXTENSION.templateExtractValue,
]);

const compiled = new WeakMap<object, TemplateNode>();

/** Compiles (and caches, per template object) a contained template resource. */
export function compileTemplate(template: object, location: string): TemplateNode {
  let node = compiled.get(template);
  if (!node) {
    node = compileValue(template, location);
    compiled.set(template, node);
  }
  return node;
}

function compileValue(value: unknown, location: string): TemplateNode {
  if (Array.isArray(value)) {
    const items = value.map((item, i) => compileValue(item, `${location}[${i}]`));
    return items.every((i) => i.kind === 'const') ? { kind: 'const', value } : { kind: 'array', items };
  }
  if (typeof value === 'object' && value !== null) {
    return compileObject(value as Record<string, unknown>, location);
  }
  return { kind: 'const', value };
}

function compileObject(obj: Record<string, unknown>, location: string): TemplateNode {
  const { own, rest } = splitTemplateExtensions(obj.extension);
  const context = expressionOf(own.get(SDC_EXTENSION.templateExtractContext), location);
  const value = expressionOf(own.get(SDC_EXTENSION.templateExtractValue), location);

  // Fields keep the template's key order (with `extension` where the template has it).
  const fields: Field[] = [];
  const seen = new Set<string>();
  for (const rawKey of Object.keys(obj)) {
    const key = rawKey.startsWith('_') ? rawKey.slice(1) : rawKey;
    if (seen.has(key)) {
      continue;
    }
    seen.add(key);
    if (key === 'extension') {
      if (rest.length > 0) {
        // Every field has the same members in the same order: one object shape for the loop over them.
        fields.push({
          key,
          node: compileValue(rest, `${location}.extension`),
          primitive: undefined,
          companion: undefined,
          isArray: true,
        });
      }
    } else {
      fields.push(compileField(obj, key, location));
    }
  }

  const isStatic =
    !context &&
    !value &&
    own.size === 0 &&
    fields.every((f) => !f.primitive && isConst(f.node) && isConst(f.companion));
  return isStatic ? { kind: 'const', value: obj } : { kind: 'object', context, value, fields };
}

function compileField(obj: Record<string, unknown>, key: string, location: string): Field {
  const path = `${location}.${key}`;
  const raw = obj[key];
  const companionRaw = obj[`_${key}`];
  let primitive: TemplateExpression | undefined;
  let companion: TemplateNode | undefined;
  if (typeof companionRaw === 'object' && companionRaw !== null && !Array.isArray(companionRaw)) {
    const { own, rest } = splitTemplateExtensions((companionRaw as Record<string, unknown>).extension);
    primitive = expressionOf(own.get(SDC_EXTENSION.templateExtractValue), path);
    const remainder = { ...(companionRaw as Record<string, unknown>) };
    delete remainder.extension;
    if (rest.length > 0) {
      remainder.extension = rest;
    }
    if (Object.keys(remainder).length > 0) {
      companion = compileValue(remainder, `${location}._${key}`);
    }
  } else if (companionRaw !== undefined) {
    companion = compileValue(companionRaw, `${location}._${key}`);
  }
  return {
    key,
    node: raw === undefined ? undefined : compileValue(raw, path),
    primitive,
    companion,
    isArray: Array.isArray(raw),
  };
}

function isConst(node: TemplateNode | undefined): boolean {
  return node === undefined || node.kind === 'const';
}

function splitTemplateExtensions(extensions: unknown): { own: Map<string, Extension>; rest: unknown[] } {
  const own = new Map<string, Extension>();
  const rest: unknown[] = [];
  if (Array.isArray(extensions)) {
    for (const ext of extensions as Extension[]) {
      if (typeof ext?.url === 'string' && TEMPLATE_URLS.has(ext.url)) {
        own.set(ext.url, ext);
      } else {
        rest.push(ext);
      }
    }
  }
  return { own, rest };
}

function expressionOf(ext: Extension | undefined, location: string): TemplateExpression | undefined {
  if (!ext) {
    return undefined;
  }
  if (typeof ext.valueString === 'string') {
    return { expression: ext.valueString, location, compiled: new CompiledExpression(ext.valueString) };
  }
  const expr: Expression | undefined = ext.valueExpression;
  if (expr?.expression) {
    return {
      expression: expr.expression,
      name: expr.name,
      language: expr.language,
      location,
      compiled: new CompiledExpression(expr.expression),
    };
  }
  // An extension without an expression is kept so that instantiation can report it.
  return { expression: '', location, compiled: new CompiledExpression('') };
}
