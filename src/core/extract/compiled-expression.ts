import type { CompiledFhirPath } from '../fhirpath/fhirpath';
import { compileFhirPath, compileFhirPathNodes, compileFhirPathValues } from '../fhirpath/fhirpath';
import type { ExpressionReads } from './expression-reads';
import { expressionReads } from './expression-reads';

/** How results come back: plain (strings for the request fields), nodes (contexts), values (copies). */
export type Mode = 'plain' | 'nodes' | 'values';

const COMPILERS: Record<Mode, (expression: string, base?: string) => CompiledFhirPath> = {
  plain: compileFhirPath,
  nodes: compileFhirPathNodes,
  values: compileFhirPathValues,
};

/**
 * A template expression's compiled FHIRPath, kept with the compiled template so that each evaluation
 * skips the shared cache's look-up (a key string built and hashed per call). One function per mode,
 * for the base type last asked (a template's expressions see one base in practice); another base
 * goes to the shared cache again. Bounded with the template it belongs to. An expression that does
 * not compile is asked again each time, so it throws (and is reported) each time, as before.
 */
export class CompiledExpression {
  private readonly kept: Partial<Record<Mode, { base: string | undefined; fn: CompiledFhirPath }>> = {};
  private analysed = false;
  private readsOf: ExpressionReads | undefined;

  constructor(readonly expression: string) {}

  /** What the result depends on (undefined: evaluate it every time); read from the text once. */
  get reads(): ExpressionReads | undefined {
    if (!this.analysed) {
      this.readsOf = expressionReads(this.expression);
      this.analysed = true;
    }
    return this.readsOf;
  }

  /** The compiled function for this mode and base type (throws a FhirPathError if it does not parse). */
  get(mode: Mode, base: string | undefined): CompiledFhirPath {
    const kept = this.kept[mode];
    if (kept !== undefined && kept.base === base) {
      return kept.fn;
    }
    const fn = COMPILERS[mode](this.expression, base);
    this.kept[mode] = { base, fn };
    return fn;
  }
}
