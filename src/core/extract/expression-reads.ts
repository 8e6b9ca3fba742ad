import { parse } from 'fhirpath';

/**
 * What a FHIRPath expression's result can depend on, read from fhirpath.js's parse tree: the
 * evaluation context (the node it runs on) and the `%` variables it names. Template extraction uses
 * it to evaluate an expression once per extraction when it reads only `%resource` and other fixed
 * variables (see expression-memo.ts).
 */
export interface ExpressionReads {
  /** True when the result may depend on the context node (or `%context`). */
  readonly context: boolean;
  /** The `%` variables named (without `%`), each once, `context` excluded. */
  readonly variables: readonly string[];
}

/**
 * Functions whose arguments fhirpath.js evaluates once per item of their input ("Expr" arguments
 * with `$this` the item): inside those arguments a path that starts with a name reads the item, not
 * the context. Every other function's arguments are taken to read the context: fhirpath.js runs them
 * on `$this`, which at the top level is the context (iif, combine, union, exists without `where`…).
 */
const PER_ITEM = new Set(['where', 'select', 'exists', 'all', 'repeat']);

/** Functions whose result changes from one evaluation to the next: never reused. */
const CLOCK = new Set(['now', 'today', 'timeOfDay']);

/** A `%name` that fhirpath.js reads as given (no backquotes or quotes to undo). */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface AstNode {
  readonly type: string;
  readonly text?: string;
  readonly children?: AstNode[];
}

/**
 * The reads of an expression, or undefined when it must be evaluated every time: it does not parse,
 * calls a clock function, or names a variable in quotes. Conservative: an expression counts as
 * reading the context whenever fhirpath.js could run any part of it on the context.
 */
export function expressionReads(expression: string): ExpressionReads | undefined {
  let tree: AstNode;
  try {
    tree = parse(expression) as AstNode;
  } catch {
    return undefined;
  }
  const variables = new Set<string>();
  let context = false;
  let reusable = true;
  const visit = (node: AstNode, perItem: boolean): void => {
    switch (node.type) {
      case 'InvocationTerm': {
        const invocation = node.children?.[0];
        if (invocation?.type === 'FunctionInvocation' && functionName(invocation) === 'iif') {
          // iif() reads its input only through its arguments, which fhirpath.js runs on that input:
          // here the context (or the item, inside a per-item argument), as a path starting there.
          visitParams(invocation, perItem);
          return;
        }
        // A path that starts with a name, a function, $this, $index or $total: it runs on the
        // context, unless inside a per-item argument (then on the item, itself read from the input).
        context ||= !perItem;
        break;
      }
      case 'ExternalConstant': {
        const name = node.children?.[0]?.text ?? '';
        if (!PLAIN_NAME.test(name)) {
          reusable = false;
        } else if (name === 'context') {
          context = true;
        } else {
          variables.add(name);
        }
        return;
      }
      case 'FunctionInvocation': {
        // After a dot: per-item and iif() arguments run on the input before the dot (or its items).
        const name = functionName(node);
        visitParams(node, PER_ITEM.has(name) || name === 'iif');
        return;
      }
      case 'TypeSpecifier':
        return; // a type name, not a path
    }
    for (const child of node.children ?? []) {
      visit(child, perItem);
    }
  };
  const visitParams = (invocation: AstNode, perItem: boolean): void => {
    if (CLOCK.has(functionName(invocation))) {
      reusable = false;
    }
    for (const param of invocation.children?.[0]?.children?.[1]?.children ?? []) {
      visit(param, perItem);
    }
  };
  visit(tree, false);
  return reusable ? { context, variables: [...variables] } : undefined;
}

/** The name of a FunctionInvocation node (FunctionInvocation → Functn → Identifier, ParamList). */
function functionName(invocation: AstNode): string {
  return invocation.children?.[0]?.children?.[0]?.text ?? '';
}
