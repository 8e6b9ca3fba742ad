import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import { childLocation, indexLocation } from './location';

/** Deepest object or array accepted (the resource is level 0; each item level of a QR adds two). */
export const MAX_JSON_DEPTH = 256;

/** The issue code of {@link MAX_JSON_DEPTH} being exceeded; the validator stops at it. */
export const TOO_DEEP = 'too-costly';

/**
 * The FHIR JSON rules the R4 schema and Medplum do not enforce: an array is never empty, and neither
 * is an object (ele-1: every element has a value or children).
 * Also the one limit this module sets on input: nesting deeper than {@link MAX_JSON_DEPTH} levels is
 * refused (code {@link TOO_DEEP}), because the recursive tiers (ajv, Medplum, FHIRPath) would exhaust
 * the stack on it.
 * See: https://hl7.org/fhir/R4/json.html
 */
export function checkJsonRules(resource: object): OperationOutcomeIssue[] {
  const rules = new JsonRules((resource as { resourceType?: string }).resourceType ?? 'Resource');
  rules.value(resource, 0);
  return rules.issues;
}

/**
 * True when {@link checkJsonRules} would find nothing in `value` (an object or array) at `depth`
 * (the resource is 0): no empty array or object and nothing too deep, below it included. The same
 * walk as {@link JsonRules}, without issues; the schema check runs it where the schema lets any value
 * pass (schema-check.ts).
 */
export function jsonRulesHold(value: object, depth: number): boolean {
  if (depth > MAX_JSON_DEPTH) {
    return false;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return false;
    }
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && !jsonRulesHold(item, depth + 1)) {
        return false;
      }
    }
    return true;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) {
    return false;
  }
  for (let k = 0; k < keys.length; k++) {
    const child = (value as Record<string, unknown>)[keys[k]!];
    if (typeof child === 'object' && child !== null && !jsonRulesHold(child, depth + 1)) {
      return false;
    }
  }
  return true;
}

/**
 * One pass of {@link checkJsonRules}: methods rather than closures, each object's keys listed once
 * (`Object.keys`: own enumerable keys, in the order `for…in` gave them), and primitives never entered
 * (issue 13: this walk meets every object of every resource validated).
 */
class JsonRules {
  readonly issues: OperationOutcomeIssue[] = [];
  private tooDeep = false;
  // The path is kept as steps and turned into a location string only for an issue (issue 13).
  private readonly steps: (string | number)[] = [];

  constructor(private readonly root: string) {}

  private location(): string {
    let at = this.root;
    for (const step of this.steps) {
      at = typeof step === 'number' ? indexLocation(at, step) : childLocation(at, step);
    }
    return at;
  }

  /** Checks an object or array at `depth` (the resource is 0). */
  value(value: object, depth: number): void {
    if (depth > MAX_JSON_DEPTH) {
      if (!this.tooDeep) {
        this.tooDeep = true;
        this.issues.push(
          issue('error', TOO_DEEP, `The JSON is nested more than ${MAX_JSON_DEPTH} levels deep`, this.root)
        );
      }
      return;
    }
    const steps = this.steps;
    if (Array.isArray(value)) {
      if (value.length === 0) {
        this.issues.push(issue('error', 'structure', 'Arrays must not be empty', this.location()));
      }
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'object' && item !== null) {
          steps.push(i);
          this.value(item, depth + 1);
          steps.pop();
        }
      }
      return;
    }
    const keys = Object.keys(value);
    if (keys.length === 0) {
      this.issues.push(issue('error', 'structure', 'Objects must not be empty (ele-1)', this.location()));
      return;
    }
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) {
        steps.push(key);
        this.value(child, depth + 1);
        steps.pop();
      }
    }
  }
}
