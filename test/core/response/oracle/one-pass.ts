import { isObject } from '../../../../src/core/json';
import { definitionsByName } from './expressions';
import type { CompiledQuestionnaire, ExpressionDef, QItem } from './questionnaire-model';
import type { ResponseTree } from './response-tree';

/**
 * When one pass of the SDC calculation is already its fixed point, so that the confirming pass of
 * `calculateResponse` would evaluate nothing and write nothing and can be left out.
 *
 * A pass writes only calculated items and the groups enclosing them (W: their linkIds). The second
 * pass gives the same results as the first when nothing it evaluates can see W:
 * - no expression of the Questionnaire (variable, calculatedExpression, enableWhenExpression) reads
 *   response items other than through rewritten linkId look-ups (`readsItems`), and no look-up names
 *   a linkId in W; a variable cycle (whose results count as volatile and are recomputed) excludes it;
 * - no enableWhen of the Questionnaire names a question in W, so every item's enablement (and its
 *   occurrence search, which only reads present occurrences of its question) stays as it was;
 * - every calculated item is a childless question whose ancestors are non-repeating groups without
 *   a calculation, so each has exactly one place (and one instance) per response.
 * That last point is also a property of the response ({@link layoutAllowsOnePass}): at most one
 * present instance of each calculated item and of each enclosing group, and no nested items in a
 * calculated item, so a write cannot drop or move anything another expression reads.
 * The settling pass then finds every node already holding its computed answers (or absent), which
 * is exactly what the pass it replaces would have found; `test/core/response/one-pass.test.ts`
 * holds the two equal.
 */
export function settlesInOnePass(cq: CompiledQuestionnaire): boolean {
  let known = verdicts.get(cq);
  if (known === undefined) {
    known = decide(cq);
    verdicts.set(cq, known);
  }
  return known;
}

/** Per compiled Questionnaire (never modified), decided once. */
const verdicts = new WeakMap<CompiledQuestionnaire, boolean>();

function decide(cq: CompiledQuestionnaire): boolean {
  const written = new Set<string>();
  for (const q of cq.calculated) {
    if (q.type === 'group' || q.type === 'display' || q.children.length > 0) {
      return false;
    }
    written.add(q.linkId);
    for (let a = q.parent; a; a = a.parent) {
      if (a.type !== 'group' || a.repeats || a.calculated) {
        return false;
      }
      written.add(a.linkId);
    }
  }
  const owned: { def: ExpressionDef; owner: QItem | undefined }[] = cq.variables.map((def) => ({
    def,
    owner: undefined,
  }));
  for (const q of cq.all) {
    for (const ew of q.enableWhen) {
      if (typeof ew.question === 'string' && written.has(ew.question)) {
        return false;
      }
    }
    for (const def of [...q.variables, q.calculated, q.enableWhenExpression]) {
      if (def) {
        owned.push({ def, owner: q });
      }
    }
  }
  for (const { def } of owned) {
    // An expression with a problem fails before it reads anything.
    if (def.problem === undefined && (def.readsItems || def.lookups.some((l) => written.has(l.linkId)))) {
      return false;
    }
  }
  return !hasVariableCycle(cq, owned);
}

/**
 * Whether resolving variables can meet a variable under evaluation: the references of each
 * expression resolved as `ExpressionSession` resolves them (the nearest item, from the expression's
 * own item up, whose variables define the name, else the Questionnaire's), followed depth first.
 */
function hasVariableCycle(
  cq: CompiledQuestionnaire,
  owned: readonly { def: ExpressionDef; owner: QItem | undefined }[]
): boolean {
  const ownerOf = new Map<ExpressionDef, QItem | undefined>();
  for (const { def, owner } of owned) {
    ownerOf.set(def, owner);
  }
  const resolve = (name: string, from: QItem | undefined): ExpressionDef | undefined => {
    for (let a = from; a; a = a.parent) {
      if (a.variables.length > 0) {
        const found = definitionsByName(a.variables).get(name);
        if (found) {
          return found;
        }
      }
    }
    return definitionsByName(cq.variables).get(name);
  };
  const state = new Map<ExpressionDef, 'open' | 'done'>();
  const visit = (def: ExpressionDef): boolean => {
    const s = state.get(def);
    if (s !== undefined) {
      return s === 'open';
    }
    state.set(def, 'open');
    if (def.problem === undefined) {
      for (const name of def.refs) {
        const target = resolve(name, ownerOf.get(def));
        if (target && visit(target)) {
          return true;
        }
      }
    }
    state.set(def, 'done');
    return false;
  };
  return owned.some(({ def }) => visit(def));
}

/**
 * The response's side of {@link settlesInOnePass}: at most one present instance of every calculated
 * item and of every group enclosing one, no nested items in a calculated item, and its answers, if
 * any, a list of objects without nested items.
 * @param tree - the first pass's tree.
 * @param cq - its compiled Questionnaire, for which {@link settlesInOnePass} holds.
 */
export function layoutAllowsOnePass(tree: ResponseTree, cq: CompiledQuestionnaire): boolean {
  for (const q of cq.calculated) {
    const nodes = tree.nodesOf(q);
    if (nodes.length > 1) {
      return false;
    }
    const node = nodes[0];
    if (node) {
      if (node.item.item !== undefined) {
        return false;
      }
      // A write replaces the answers whole: only plain answers, so it drops nothing another reads.
      const answers: unknown = node.item.answer;
      if (
        answers !== undefined &&
        !(Array.isArray(answers) && answers.every((a) => isObject(a) && a.item === undefined))
      ) {
        return false;
      }
    }
    for (let a = q.parent; a; a = a.parent) {
      if (tree.nodesOf(a).length > 1) {
        return false;
      }
    }
  }
  return true;
}
