import type { CodeableConcept, CodeSystem, Coding, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import type { IndexedConcept } from './codesystem';
import { indexCodeSystem } from './codesystem';
import type { ExpansionEntry } from './expand';
import type { TerminologyResult } from './result';
import { failWith, succeed } from './result';

/**
 * What to validate: exactly one of `code` (with `system`, `version`, `display`), `coding` or
 * `codeableConcept`. `version` is the code system version (R4 `systemVersion` on ValueSet/$validate-code,
 * `version` on CodeSystem/$validate-code).
 */
export interface ValidateCodeInput {
  readonly code?: string;
  readonly system?: string;
  readonly version?: string;
  readonly display?: string;
  readonly coding?: Coding;
  readonly codeableConcept?: CodeableConcept;
  /** True when an abstract (not selectable) concept is acceptable in the caller's context. */
  readonly abstract?: boolean;
}

/**
 * The outcome of `$validate-code`. `result` is false when no coding is valid. `message` joins the
 * error texts when false, and the warnings (such as a wrong display) when true. `display` is the
 * display the code system (or value set) gives for the valid code. `issues` holds the same findings
 * as OperationOutcome issues with FHIRPath expressions such as `Coding.display` or
 * `CodeableConcept.coding[1].code`.
 */
export interface ValidateCodeResult {
  readonly result: boolean;
  readonly message?: string;
  readonly display?: string;
  readonly issues: readonly OperationOutcomeIssue[];
}

/** Lookups that validation against a ValueSet needs, supplied by the caller (usually cached). */
export interface ValueSetMembership {
  /** Canonical of the ValueSet, for messages. */
  readonly label: string;
  /**
   * The expansion entries for one system and code.
   * @param system - code system URI
   * @param code - the code
   */
  entries(system: string, code: string): readonly ExpansionEntry[];
  /**
   * The CodeSystem for a system URI, when it is available locally.
   * @param system - code system URI
   * @param version - a specific version, if the coding names one
   */
  codeSystem(system: string, version?: string): CodeSystem | undefined;
}

interface Candidate {
  readonly coding: Coding;
  readonly path: string;
}

interface CodingVerdict {
  readonly valid: boolean;
  readonly display?: string;
  readonly issues: OperationOutcomeIssue[];
}

/**
 * `ValueSet/$validate-code`: is the code in the value set, and is its display right?
 * An unknown code, a code outside the value set, or a code from another version of its system gives
 * `result = false` with a message. A wrong display leaves `result = true` and adds a warning that
 * names the correct display. For a CodeableConcept, the result is true when any coding is in the
 * value set; the other codings are then reported as information only.
 *
 * See: https://hl7.org/fhir/R4/valueset-operation-validate-code.html
 * @param membership - the ValueSet's expansion lookups
 * @param input - what to validate
 */
export function validateCodeInValueSet(
  membership: ValueSetMembership,
  input: ValidateCodeInput
): TerminologyResult<ValidateCodeResult> {
  const candidates = candidatesOf(input);
  if (!candidates.ok) {
    return candidates;
  }
  return succeed(
    combine(
      candidates.value.map((c) => checkInValueSet(membership, c, input.abstract === true)),
      input.codeableConcept !== undefined
    )
  );
}

/**
 * `CodeSystem/$validate-code`: is the code defined in the code system, and is its display right?
 * An unknown code system, a coding of another system, or an unknown code gives `result = false`
 * with a message. Codes are matched as the CodeSystem's `caseSensitive` says. A display is right
 * when it equals the concept's display or one of its designations; otherwise a warning names the
 * correct display and the result stays true.
 *
 * See: https://hl7.org/fhir/R4/codesystem-operation-validate-code.html
 * @param codeSystem - the code system, or undefined when the requested one is not known
 * @param url - the code system URI that was asked for
 * @param input - what to validate; a bare `code` belongs to `url`
 */
export function validateCodeInCodeSystem(
  codeSystem: CodeSystem | undefined,
  url: string,
  input: ValidateCodeInput
): TerminologyResult<ValidateCodeResult> {
  const candidates = candidatesOf({ ...input, system: input.system ?? url });
  if (!candidates.ok) {
    return candidates;
  }
  const verdicts = candidates.value.map(({ coding, path }): CodingVerdict => {
    if (!codeSystem) {
      return invalid('not-found', `Unknown code system '${url}'`, `${path}.system`);
    }
    if (coding.code === undefined) {
      return invalid('required', 'The coding has no code', path);
    }
    if (coding.system !== undefined && coding.system !== codeSystem.url) {
      return invalid(
        'invalid',
        `The coding's system '${coding.system}' is not the code system '${codeSystem.url}'`,
        `${path}.system`
      );
    }
    if (
      coding.version !== undefined &&
      codeSystem.version !== undefined &&
      coding.version !== codeSystem.version
    ) {
      return invalid(
        'not-found',
        `Version '${coding.version}' of code system '${codeSystem.url}' is not known (known: ${codeSystem.version})`,
        `${path}.version`
      );
    }
    const found = indexCodeSystem(codeSystem).find(coding.code);
    if (!found) {
      const partial =
        codeSystem.content === 'complete' ? '' : ` (the CodeSystem's content is '${codeSystem.content}')`;
      return invalid(
        'code-invalid',
        `Unknown code '${coding.code}' in code system '${codeSystem.url}'${partial}`,
        `${path}.code`
      );
    }
    return checkConcept(coding, path, found, found.concept.display, input.abstract === true);
  });
  return succeed(combine(verdicts, input.codeableConcept !== undefined));
}

/** Turns the input into codings to check, or fails when it is not exactly one of code/coding/codeableConcept. */
function candidatesOf(input: ValidateCodeInput): TerminologyResult<Candidate[]> {
  const given = [input.code, input.coding, input.codeableConcept].filter((x) => x !== undefined).length;
  if (given !== 1) {
    return failWith(
      'structural',
      'invalid',
      given === 0
        ? 'Give a code, a coding or a codeableConcept to validate'
        : 'Give only one of code, coding and codeableConcept'
    );
  }
  if (input.display !== undefined && input.code === undefined) {
    return failWith(
      'structural',
      'invalid',
      "The 'display' parameter goes with 'code'; put the display in the coding"
    );
  }
  if (input.code !== undefined) {
    const coding: Coding = {
      ...(input.system === undefined ? {} : { system: input.system }),
      ...(input.version === undefined ? {} : { version: input.version }),
      code: input.code,
      ...(input.display === undefined ? {} : { display: input.display }),
    };
    return succeed([{ coding, path: 'Coding' }]);
  }
  if (input.coding !== undefined) {
    return succeed([{ coding: input.coding, path: 'Coding' }]);
  }
  const codings = input.codeableConcept?.coding ?? [];
  return succeed(codings.map((coding, i) => ({ coding, path: `CodeableConcept.coding[${i}]` })));
}

function checkInValueSet(
  membership: ValueSetMembership,
  candidate: Candidate,
  abstractAllowed: boolean
): CodingVerdict {
  const { coding, path } = candidate;
  if (coding.system === undefined) {
    return invalid(
      'invalid',
      'The coding has no system, so its code has no defined meaning',
      `${path}.system`
    );
  }
  if (coding.code === undefined) {
    return invalid('required', 'The coding has no code', path);
  }
  const system = coding.system;
  const codeSystem = membership.codeSystem(system, coding.version) ?? membership.codeSystem(system);
  const known = codeSystem ? indexCodeSystem(codeSystem).find(coding.code) : undefined;
  // A case-insensitive code system finds the code in any case; the expansion holds its defined form.
  const code = known?.concept.code ?? coding.code;
  const entries = membership.entries(system, code);
  if (entries.length === 0) {
    if (codeSystem && codeSystem.content === 'complete' && !known) {
      return invalid(
        'code-invalid',
        `Unknown code '${coding.code}' in code system '${system}'`,
        `${path}.code`
      );
    }
    return invalid(
      'code-invalid',
      `The code '${coding.code}' from system '${system}' is not in value set '${membership.label}'`,
      `${path}.code`
    );
  }
  const entry = entries.find(
    (e) => coding.version === undefined || e.version === undefined || e.version === coding.version
  );
  if (!entry) {
    const versions = entries.map((e) => e.version).join(', ');
    return invalid(
      'code-invalid',
      `Version '${coding.version}' of system '${system}' is not the version in value set '${membership.label}' (${versions})`,
      `${path}.version`
    );
  }
  const expected = known?.concept.display ?? entry.display;
  const verdict = checkConcept(coding, path, known, expected, abstractAllowed, entry);
  return verdict;
}

/** Display, abstract and inactive checks shared by both forms of $validate-code. */
function checkConcept(
  coding: Coding,
  path: string,
  found: IndexedConcept | undefined,
  expected: string | undefined,
  abstractAllowed: boolean,
  entry?: ExpansionEntry
): CodingVerdict {
  const issues: OperationOutcomeIssue[] = [];
  if ((found?.abstract || entry?.abstract) && !abstractAllowed) {
    return invalid(
      'business-rule',
      `The code '${coding.code}' is abstract and not for use here`,
      `${path}.code`
    );
  }
  if (coding.display !== undefined && expected !== undefined) {
    const accepted = new Set([expected, ...(found?.concept.designation ?? []).map((d) => d.value)]);
    if (entry?.display !== undefined) {
      accepted.add(entry.display);
    }
    if (!accepted.has(coding.display)) {
      issues.push(
        issue(
          'warning',
          'invalid',
          `Wrong display '${coding.display}' for ${coding.system}#${coding.code}: the correct display is '${expected}'`,
          `${path}.display`
        )
      );
    }
  }
  if (found?.inactive || entry?.inactive) {
    issues.push(issue('warning', 'business-rule', `The code '${coding.code}' is inactive`, `${path}.code`));
  }
  if (found && coding.code !== found.concept.code) {
    issues.push(
      issue(
        'information',
        'informational',
        `The code '${coding.code}' matches '${found.concept.code}' only because the code system is case-insensitive`,
        `${path}.code`
      )
    );
  }
  return { valid: true, ...(expected === undefined ? {} : { display: expected }), issues };
}

function invalid(code: OperationOutcomeIssue['code'], text: string, expression: string): CodingVerdict {
  return { valid: false, issues: [issue('error', code, text, expression)] };
}

/** Combines per-coding verdicts: valid when any coding is valid. */
function combine(verdicts: readonly CodingVerdict[], isCodeableConcept: boolean): ValidateCodeResult {
  const valid = verdicts.find((v) => v.valid);
  if (!valid) {
    const issues = verdicts.flatMap((v) => v.issues);
    const all =
      issues.length > 0
        ? issues
        : [
            issue(
              'error',
              'code-invalid',
              'The CodeableConcept has no coding to validate',
              'CodeableConcept'
            ),
          ];
    return { result: false, message: messageOf(all), issues: all };
  }
  // In a CodeableConcept with a valid coding, the other codings' errors do not decide the result.
  const issues = verdicts.flatMap((v) =>
    v.valid || !isCodeableConcept
      ? v.issues
      : v.issues.map((i) => ({ ...i, severity: 'information' as const }))
  );
  const message = messageOf(issues.filter((i) => i.severity !== 'information'));
  return {
    result: true,
    ...(message === undefined ? {} : { message }),
    ...(valid.display === undefined ? {} : { display: valid.display }),
    issues,
  };
}

function messageOf(issues: readonly OperationOutcomeIssue[]): string | undefined {
  const texts = issues.map((i) => i.details?.text).filter((t): t is string => t !== undefined);
  return texts.length > 0 ? texts.join('; ') : undefined;
}
