import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { compile, resolveInternalTypes } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFast, RETURNS_OBJECTS } from '../../../src/core/fhirpath/compile';
import type { FhirPathCall } from '../../../src/core/fhirpath/fhirpath';
import { observeFhirPath } from '../../../src/core/fhirpath/fhirpath';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { testEngine } from '../../helpers/engine';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import { scenarios } from '../../helpers/scenarios';

/**
 * Issue 13, lever 1: every expression the engine evaluates during whole evaluations (the content's
 * calculations, variables and conditions, template expressions, `$apply` conditions and dynamic
 * values, the R4 and profile invariants of the output validation) is run, on the very context and
 * variables the engine gave it, by the compiled closure and by fhirpath.js; the results must be equal.
 */

const EXAMPLES = join(__dirname, '../../../profiles/examples');
const RUNS = Number(process.env.FHIRPATH_DIFF_RUNS ?? 25);

interface Tally {
  /** Distinct expressions seen, with whether the compiler accepted each. */
  readonly expressions: Map<string, boolean>;
  compared: number;
  /** Calls a closure handed to fhirpath.js (the data left the compiled subset). */
  handedOver: number;
  /** Hand-overs per expression and reason (objects returned, or other data outside the subset). */
  readonly reasons: Map<string, number>;
  readonly mismatches: string[];
}

function newTally(): Tally {
  return { expressions: new Map(), compared: 0, handedOver: 0, reasons: new Map(), mismatches: [] };
}

/** fhirpath.js's answer: plain, or its typed nodes (which it makes without touching the data). */
function fhirpathJs(call: FhirPathCall, nodes: boolean): { value?: unknown[]; error?: true } {
  try {
    const fn = compile(call.base ? { base: call.base, expression: call.expression } : call.expression, r4, {
      traceFn: () => undefined,
      resolveInternalTypes: !nodes,
    });
    return { value: fn(call.context, call.env) as unknown[] };
  } catch {
    return { error: true };
  }
}

/** Data by identity (both engines read the same objects), fhirpath.js's decimals as numbers. */
const ids = new WeakMap<object, number>();
let nextId = 0;
function dataKey(d: unknown): unknown {
  if (typeof d !== 'object' || d === null) {
    return d;
  }
  if (typeof (d as { toJSON?: unknown }).toJSON === 'function') {
    return (d as { toJSON(): unknown }).toJSON();
  }
  if (!ids.has(d)) {
    ids.set(d, ++nextId);
  }
  return `#${ids.get(d)}`;
}

/** A typed node (or a `__path__`) as its data, type, name, position and ancestors. */
function lineage(node: unknown, data?: unknown): unknown {
  if (node === null || node === undefined || typeof node !== 'object' || !('parentResNode' in node)) {
    return dataKey(data ?? node);
  }
  const n = node as Record<string, unknown>;
  return {
    data: dataKey(data ?? n.data),
    path: n.path,
    type: n.fhirNodeDataType,
    prop: n.propName ?? null,
    index: n.index ?? null,
    parent: n.parentResNode ? lineage(n.parentResNode) : null,
  };
}

function closure(call: FhirPathCall): { value?: unknown[]; handedOver?: string } {
  const fast = compileFast(call.expression, call.base, call.mode);
  try {
    return { value: fast!(call.context, call.env) };
  } catch (err) {
    return { handedOver: err === RETURNS_OBJECTS ? 'objects' : 'data' };
  }
}

/** Evaluates a response with every FHIRPath call replayed through both engines. */
function replay(response: QuestionnaireResponse, tally: Tally): void {
  observeFhirPath((call) => {
    const key = `${call.mode} ${call.base ?? ''}\u0000${call.expression}`;
    const accepted = tally.expressions.get(key) ?? compileFast(call.expression, call.base) !== undefined;
    tally.expressions.set(key, accepted);
    if (!accepted) {
      return;
    }
    // fhirpath.js's typed nodes first: they show the type each returned object would be marked with
    const typed = fhirpathJs(call, true).value ?? [];
    const unmarked = typed.map((n) => {
      const data = (n as { data?: unknown })?.data;
      return typeof data === 'object' && data !== null && !('__path__' in data);
    });
    const ours = closure(call);
    if (ours.handedOver) {
      tally.handedOver++;
      const reason = `${ours.handedOver} ${call.expression}`;
      tally.reasons.set(reason, (tally.reasons.get(reason) ?? 0) + 1);
      return;
    }
    let theirs: { value?: unknown[]; error?: true };
    let mine: unknown = ours.value;
    if (call.mode === 'nodes') {
      // typed nodes: the same data, types, names, positions and ancestors
      theirs = { value: typed.map((n) => lineage(n)) };
      mine = ours.value!.map((n) => lineage(n));
    } else {
      // values: template values, fhirpath.js's nodes resolved (as toPlainValues does)
      theirs = call.mode === 'plain' ? fhirpathJs(call, false) : { value: resolveInternalTypes(typed) };
      if (call.mode === 'plain') {
        // objects returned for the first time carry the type fhirpath.js would have given them
        ours.value!.forEach((v, i) => {
          if (unmarked[i] && typeof v === 'object' && v !== null) {
            const marked = lineage((v as { __path__: unknown }).__path__, v);
            if (!isEqualJson(marked, lineage(typed[i]))) {
              tally.mismatches.push(`${call.expression}: __path__ ${JSON.stringify(marked)}`);
            }
          }
        });
      }
    }
    tally.compared++;
    if (theirs.error || !isEqualJson(mine, theirs.value)) {
      tally.mismatches.push(
        `${call.expression} on ${JSON.stringify(call.context).slice(0, 200)}: ` +
          `${JSON.stringify(ours.value)} vs ${theirs.error ? 'an error' : JSON.stringify(theirs.value)}`
      );
    }
  });
  try {
    evaluateResponse(response, testEngine());
  } finally {
    observeFhirPath(undefined);
  }
}

function isEqualJson(a: unknown, b: unknown): boolean {
  try {
    expect(a).toStrictEqual(b);
    return true;
  } catch {
    return false;
  }
}

describe('compiled FHIRPath against fhirpath.js, call by call', () => {
  test('every golden scenario and shipped example: equal results for every compiled call', () => {
    const tally = newTally();
    const responses = [
      ...scenarios().map((s) => s.response),
      ...readdirSync(EXAMPLES)
        .filter((f) => f.startsWith('QuestionnaireResponse-'))
        .map((f) => JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as QuestionnaireResponse),
    ];
    expect(responses.length).toBeGreaterThanOrEqual(16);
    for (const response of responses) {
      replay(response, tally);
    }
    expect(tally.mismatches).toEqual([]);
    const accepted = [...tally.expressions.values()].filter(Boolean).length;
    // The inventory (run with FHIRPATH_INVENTORY=1 to list it): what is compiled and what is not.
    if (process.env.FHIRPATH_INVENTORY === '1') {
      for (const [key, ok] of [...tally.expressions].sort()) {
        process.stdout.write(`${ok ? 'compiled   ' : 'fhirpath.js'} ${key.replace('\u0000', ' | ')}\n`);
      }
      for (const [reason, count] of [...tally.reasons].sort((a, b) => b[1] - a[1])) {
        process.stdout.write(`handed over ${count}× (${reason})\n`);
      }
      process.stdout.write(
        `${tally.expressions.size} expressions, ${accepted} compiled; ${tally.compared} calls compared, ` +
          `${tally.handedOver} handed over\n`
      );
    }
    // Most calls are compiled (a guard against the compiler silently refusing everything), and of
    // the expressions an evaluation uses none is refused but `repeat(item)` (once per Questionnaire).
    expect(accepted).toBeGreaterThan(tally.expressions.size / 2);
    const refused = [...tally.expressions].filter(([, ok]) => !ok).map(([key]) => key.split('\u0000')[1]);
    expect(refused.filter((expression) => expression !== 'repeat(item)')).toEqual([]);
    expect(tally.compared).toBeGreaterThan(tally.handedOver);
  });

  test('generated responses (fast-check): equal results for every compiled call', () => {
    const tally = newTally();
    fc.assert(
      fc.property(validReResponse(), (response) => {
        replay(response, tally);
        return tally.mismatches.length === 0;
      }),
      { numRuns: RUNS }
    );
    expect(tally.mismatches).toEqual([]);
    expect(tally.compared).toBeGreaterThan(0);
  });
});
