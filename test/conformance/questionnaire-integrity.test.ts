import type {
  Extension,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireItemEnableWhen,
  Resource,
  ValueSet,
} from '@medplum/fhirtypes';
import fs from 'node:fs';
import path from 'node:path';
import { SDC_EXTENSION } from '../../src/core/constants';
import { compileFhirPath, FhirPathError } from '../../src/core/fhirpath/fhirpath';
import { checkQuestionnaire } from '../../src/core/response/check-questionnaire';
import { Terminology } from '../../src/core/terminology/terminology';
import { PROFILES_DIR } from '../../src/tools/paths';
import { loadContentFiles } from '../helpers/content-files';

// Integrity of the Questionnaire as shipped (issue 3, "Questionnaire integrity"): linkIds are
// unique, every enableWhen names an earlier question, every answerValueSet is a shipped ValueSet
// that expands, and every FHIRPath expression it carries parses. Each check is a function over a
// Questionnaire, run on the shipped file and on broken copies of it, so that a check which finds
// nothing cannot pass unnoticed.

const SHIPPED_FILE = path.join(PROFILES_DIR, 'Questionnaire-re-evaluation.json');
const shipped = (): Questionnaire => JSON.parse(fs.readFileSync(SHIPPED_FILE, 'utf8')) as Questionnaire;

const files = loadContentFiles();
const shippedValueSets = new Map(
  files
    .filter((f) => f.resource.resourceType === 'ValueSet')
    .map((f) => [(f.resource as ValueSet).url!, f.path] as const)
);
const terminology = new Terminology(files.map((f) => f.resource));

/** An item with its FHIRPath-like location and its position in document (preorder) order. */
interface Located {
  readonly item: QuestionnaireItem;
  readonly location: string;
  readonly order: number;
}

function itemsInDocumentOrder(q: Questionnaire): Located[] {
  const out: Located[] = [];
  const visit = (items: QuestionnaireItem[] | undefined, at: string): void => {
    (items ?? []).forEach((item, i) => {
      const location = `${at}.item[${i}]`;
      out.push({ item, location, order: out.length });
      visit(item.item, location);
    });
  };
  visit(q.item, 'Questionnaire');
  return out;
}

/** Problems with linkIds: each must be present and used once. */
function linkIdProblems(q: Questionnaire): string[] {
  const first = new Map<string, string>();
  const problems: string[] = [];
  for (const { item, location } of itemsInDocumentOrder(q)) {
    if (!item.linkId) {
      problems.push(`${location} has no linkId`);
      continue;
    }
    const earlier = first.get(item.linkId);
    if (earlier) {
      problems.push(`${location}: linkId '${item.linkId}' is already used at ${earlier}`);
    } else {
      first.set(item.linkId, location);
    }
  }
  return problems;
}

/** The answer[x] each question type is compared with (R4 que-7 aside, `exists` takes answerBoolean). */
const ANSWER_FOR_TYPE: Record<string, keyof QuestionnaireItemEnableWhen> = {
  boolean: 'answerBoolean',
  decimal: 'answerDecimal',
  integer: 'answerInteger',
  date: 'answerDate',
  dateTime: 'answerDateTime',
  time: 'answerTime',
  string: 'answerString',
  text: 'answerString',
  choice: 'answerCoding',
  'open-choice': 'answerCoding',
  quantity: 'answerQuantity',
  reference: 'answerReference',
};

/**
 * Problems with enableWhen: the question must exist, come before the item in document order
 * (a form is filled from the top, and a renderer may evaluate in one pass), be a question rather
 * than a group or display, and be compared with an answer of its own type.
 */
function enableWhenProblems(q: Questionnaire): string[] {
  const all = itemsInDocumentOrder(q);
  const byLinkId = new Map(all.map((l) => [l.item.linkId, l] as const));
  const problems: string[] = [];
  for (const { item, location, order } of all) {
    (item.enableWhen ?? []).forEach((ew, i) => {
      const where = `${location}.enableWhen[${i}] of '${item.linkId}'`;
      const target = byLinkId.get(ew.question);
      if (!target) {
        problems.push(`${where} names unknown question '${ew.question}'`);
        return;
      }
      if (target.order >= order) {
        problems.push(`${where} names '${ew.question}', which does not come before it`);
      }
      const expected = ew.operator === 'exists' ? 'answerBoolean' : ANSWER_FOR_TYPE[target.item.type];
      if (expected === undefined) {
        problems.push(`${where} names '${ew.question}', a ${target.item.type} item, which has no answers`);
        return;
      }
      const given = Object.keys(ew).filter((k) => k.startsWith('answer'));
      if (given.length !== 1 || given[0] !== expected) {
        problems.push(
          `${where} compares ${target.item.type} '${ew.question}' with ${given.join(', ') || 'nothing'}, not ${expected}`
        );
      }
    });
  }
  return problems;
}

/** Problems with answerValueSet: each must be a ValueSet shipped in valuesets/ that expands to codes. */
function answerValueSetProblems(q: Questionnaire): string[] {
  const problems: string[] = [];
  for (const { item, location } of itemsInDocumentOrder(q)) {
    const canonical = item.answerValueSet;
    if (canonical === undefined) {
      continue;
    }
    const where = `${location}.answerValueSet of '${item.linkId}'`;
    const url = canonical.split('|')[0]!;
    if (!shippedValueSets.get(url)?.startsWith('valuesets/')) {
      problems.push(`${where}: ${canonical} is not a ValueSet shipped in valuesets/`);
      continue;
    }
    const expansion = terminology.expansion(canonical);
    if (!expansion.ok) {
      problems.push(`${where}: ${canonical} does not expand: ${JSON.stringify(expansion.issues)}`);
    } else if (expansion.value.entries.length === 0) {
      problems.push(`${where}: ${canonical} expands to no codes`);
    }
  }
  return problems;
}

/** Extensions whose Expression (valueExpression) is FHIRPath run by the form or the extraction. */
const EXPRESSION_EXTENSIONS = new Set<string>([
  SDC_EXTENSION.variable,
  SDC_EXTENSION.calculatedExpression,
  SDC_EXTENSION.enableWhenExpression,
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression',
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-candidateExpression',
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-answerExpression',
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-contextExpression',
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-itemPopulationContext',
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-itemExtractionContext',
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-answerOptionsToggleExpression',
  'http://hl7.org/fhir/StructureDefinition/cqf-expression',
]);

/** SDC template extensions whose valueString is a FHIRPath expression. */
const STRING_EXPRESSION_EXTENSIONS = new Set<string>([
  SDC_EXTENSION.templateExtractContext,
  SDC_EXTENSION.templateExtractValue,
]);

/**
 * Sub-extensions of templateExtract / templateExtractBundle whose valueString is a FHIRPath
 * expression (SDC 4.0.0 §Template-based extraction); `template` is a reference.
 */
const TEMPLATE_EXTRACT_EXPRESSION_PARTS = new Set([
  'fullUrl',
  'resourceId',
  'ifNoneMatch',
  'ifModifiedSince',
  'ifMatch',
  'ifNoneExist',
]);

/** Extensions carrying a valueString that is not an expression (extractAllocateId names a variable). */
const NON_EXPRESSION_STRINGS = new Set<string>([SDC_EXTENSION.extractAllocateId]);

/** One FHIRPath expression found in the Questionnaire. */
interface FoundExpression {
  /** Extension url (or `templateExtract#part`) it was found in. */
  readonly kind: string;
  readonly location: string;
  readonly expression: string;
  readonly language: string | undefined;
}

/**
 * Every FHIRPath expression in the Questionnaire, its contained templates included: each
 * `valueExpression.expression` of any extension, and the valueString of the template extensions
 * and of the expression parts of templateExtract. An SDC extension with a valueString not known to
 * be (or not to be) an expression is reported as such, so a new kind cannot be skipped silently.
 */
function findExpressions(q: Questionnaire): { found: FoundExpression[]; unknown: string[] } {
  const found: FoundExpression[] = [];
  const unknown: string[] = [];
  const visit = (node: unknown, at: string, parentUrl: string | undefined): void => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => visit(child, `${at}[${i}]`, parentUrl));
      return;
    }
    if (typeof node !== 'object' || node === null) {
      return;
    }
    const ext = node as Extension & Record<string, unknown>;
    if (typeof ext.url === 'string' && ('valueExpression' in ext || 'valueString' in ext)) {
      if (ext.valueExpression !== undefined) {
        found.push({
          kind: ext.url,
          location: at,
          expression: ext.valueExpression.expression ?? '',
          language: ext.valueExpression.language,
        });
        if (!EXPRESSION_EXTENSIONS.has(ext.url)) {
          unknown.push(`${at}: valueExpression in unlisted extension ${ext.url}`);
        }
      } else if (typeof ext.valueString === 'string') {
        const isPart =
          (parentUrl === SDC_EXTENSION.templateExtract ||
            parentUrl === SDC_EXTENSION.templateExtractBundle) &&
          TEMPLATE_EXTRACT_EXPRESSION_PARTS.has(ext.url);
        if (STRING_EXPRESSION_EXTENSIONS.has(ext.url) || isPart) {
          found.push({
            kind: isPart ? `templateExtract#${ext.url}` : ext.url,
            location: at,
            expression: ext.valueString,
            language: 'text/fhirpath',
          });
        } else if (
          !NON_EXPRESSION_STRINGS.has(ext.url) &&
          (ext.url.startsWith('http://hl7.org/fhir/uv/sdc/') ||
            parentUrl?.startsWith('http://hl7.org/fhir/uv/sdc/'))
        ) {
          unknown.push(
            `${at}: valueString in unlisted SDC extension ${parentUrl ? `${parentUrl}#` : ''}${ext.url}`
          );
        }
      }
    }
    for (const [key, child] of Object.entries(node)) {
      visit(child, `${at}.${key}`, typeof ext.url === 'string' && key === 'extension' ? ext.url : parentUrl);
    }
  };
  visit(q, 'Questionnaire', undefined);
  return { found, unknown };
}

/** Problems with expressions: each must be FHIRPath and parse with the project's compiler. */
function expressionProblems(q: Questionnaire): string[] {
  const { found, unknown } = findExpressions(q);
  const problems = [...unknown];
  for (const e of found) {
    if (e.language === 'application/x-fhir-query' && e.kind === SDC_EXTENSION.variable) {
      // A population search (SDC $populate): only its embedded {{expressions}} are FHIRPath.
      for (const [, embedded] of e.expression.matchAll(/\{\{(.+?)\}\}/g)) {
        try {
          compileFhirPath(embedded!);
        } catch (err) {
          const reason = err instanceof FhirPathError ? err.reason : String(err);
          problems.push(`${e.location}: ${JSON.stringify(embedded)} does not parse: ${reason}`);
        }
      }
      continue;
    }
    if (e.language !== 'text/fhirpath') {
      problems.push(`${e.location}: language ${String(e.language)} is not text/fhirpath`);
      continue;
    }
    try {
      compileFhirPath(e.expression);
    } catch (err) {
      const reason = err instanceof FhirPathError ? err.reason : String(err);
      problems.push(`${e.location}: ${JSON.stringify(e.expression)} does not parse: ${reason}`);
    }
  }
  return problems;
}

/** A copy of the shipped Questionnaire changed by `edit`. */
function broken(edit: (q: Questionnaire) => void): Questionnaire {
  const q = shipped();
  edit(q);
  return q;
}

function itemByLinkId(q: Questionnaire, linkId: string): QuestionnaireItem {
  const found = itemsInDocumentOrder(q).find((l) => l.item.linkId === linkId);
  if (!found) {
    throw new Error(`no item '${linkId}'`);
  }
  return found.item;
}

describe('shipped Questionnaire re-evaluation: integrity', () => {
  test('is the file in profiles/, with items and enableWhen conditions to check', () => {
    const q = shipped();
    expect(q.url).toBe('http://re-fhir.org/fhir/Questionnaire/re-evaluation');
    const items = itemsInDocumentOrder(q);
    expect(items.length).toBeGreaterThan(50);
    expect(items.filter((l) => l.item.enableWhen?.length).length).toBeGreaterThan(10);
    expect(items.filter((l) => l.item.answerValueSet !== undefined).length).toBeGreaterThan(5);
  });

  test('every linkId is unique', () => {
    expect(linkIdProblems(shipped())).toEqual([]);
  });

  test('every enableWhen.question names an earlier question, compared with an answer of its type', () => {
    expect(enableWhenProblems(shipped())).toEqual([]);
  });

  test('every answerValueSet is a ValueSet shipped in valuesets/ and expands with the terminology module', () => {
    expect(answerValueSetProblems(shipped())).toEqual([]);
  });

  test('every FHIRPath expression (variables, calculated, enableWhen, templates, templateExtract parts) parses', () => {
    const { found } = findExpressions(shipped());
    const count = (kind: string): number => found.filter((e) => e.kind === kind).length;
    // Each kind the content uses is found, so the walk cannot silently miss one.
    expect(count(SDC_EXTENSION.variable)).toBeGreaterThan(20);
    expect(count(SDC_EXTENSION.calculatedExpression)).toBeGreaterThan(20);
    expect(count(SDC_EXTENSION.templateExtractValue)).toBeGreaterThan(100);
    expect(count(SDC_EXTENSION.templateExtractContext)).toBeGreaterThan(10);
    expect(count('templateExtract#ifNoneExist')).toBeGreaterThan(20);
    expect(count('templateExtract#fullUrl')).toBeGreaterThan(0);
    expect(expressionProblems(shipped())).toEqual([]);
  });

  test('breaks none of the R4 invariants and SDC expression rules of checkQuestionnaire', () => {
    expect(checkQuestionnaire(shipped())).toEqual([]);
  });
});

describe('Questionnaire integrity checks catch each defect', () => {
  test('a duplicate linkId', () => {
    const q = broken((q) => {
      itemByLinkId(q, 'cloudy-urine').linkId = 'dry-orgasm';
    });
    expect(linkIdProblems(q)).toEqual([
      "Questionnaire.item[0].item[1]: linkId 'dry-orgasm' is already used at Questionnaire.item[0].item[0]",
    ]);
  });

  test('an enableWhen on an unknown, a later, a group, or a differently typed question', () => {
    const q = broken((q) => {
      const onset = itemByLinkId(q, 'symptom-onset-type');
      onset.enableWhen = [
        { question: 'nowhere', operator: '=', answerBoolean: true },
        { question: 'fertility-wish', operator: '=', answerBoolean: true },
        { question: 'fertility', operator: 'exists', answerBoolean: true },
        { question: 'dry-orgasm', operator: '=', answerCoding: { code: 'yes' } },
      ];
    });
    expect(enableWhenProblems(q)).toEqual([
      "Questionnaire.item[0].item[3].enableWhen[0] of 'symptom-onset-type' names unknown question 'nowhere'",
      "Questionnaire.item[0].item[3].enableWhen[1] of 'symptom-onset-type' names 'fertility-wish', which does not come before it",
      "Questionnaire.item[0].item[3].enableWhen[2] of 'symptom-onset-type' names 'fertility', which does not come before it",
      "Questionnaire.item[0].item[3].enableWhen[3] of 'symptom-onset-type' compares boolean 'dry-orgasm' with answerCoding, not answerBoolean",
    ]);
    const onGroup = broken((q) => {
      itemByLinkId(q, 'months-trying').enableWhen = [
        { question: 'symptoms', operator: '=', answerBoolean: true },
      ];
    });
    expect(enableWhenProblems(onGroup)).toEqual([
      "Questionnaire.item[1].item[1].enableWhen[0] of 'months-trying' names 'symptoms', a group item, which has no answers",
    ]);
  });

  test('an enableWhen on its own item', () => {
    const q = broken((q) => {
      itemByLinkId(q, 'dry-orgasm').enableWhen = [
        { question: 'dry-orgasm', operator: 'exists', answerBoolean: true },
      ];
    });
    expect(enableWhenProblems(q)).toEqual([
      "Questionnaire.item[0].item[0].enableWhen[0] of 'dry-orgasm' names 'dry-orgasm', which does not come before it",
    ]);
  });

  test('an answerValueSet that is not shipped, or that is shipped but does not expand', () => {
    const q = broken((q) => {
      itemByLinkId(q, 'symptom-onset-type').answerValueSet = 'http://re-fhir.org/fhir/ValueSet/re-missing';
      itemByLinkId(q, 'partner-status').answerValueSet =
        'http://re-fhir.org/fhir/ValueSet/re-partner-status|9.9.9';
    });
    const problems = answerValueSetProblems(q);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBe(
      "Questionnaire.item[0].item[3].answerValueSet of 'symptom-onset-type': http://re-fhir.org/fhir/ValueSet/re-missing is not a ValueSet shipped in valuesets/"
    );
    expect(problems[1]).toMatch(
      /^Questionnaire\.item\[1\]\.item\[2\]\.answerValueSet of 'partner-status': http:\/\/re-fhir\.org\/fhir\/ValueSet\/re-partner-status\|9\.9\.9 does not expand: /
    );
  });

  test('an expression that does not parse, wherever it sits', () => {
    const q = broken((q) => {
      const variable = q.extension!.find((e) => e.url === SDC_EXTENSION.variable)!;
      variable.valueExpression!.expression = '1 +';
      const calc = itemByLinkId(q, 'feature-re-suspected').extension!.find(
        (e) => e.url === SDC_EXTENSION.calculatedExpression
      )!;
      calc.valueExpression!.expression = '%reSuspected.where(';
      const extract = itemByLinkId(q, 'shim-total').extension!.find(
        (e) => e.url === SDC_EXTENSION.templateExtract
      )!;
      extract.extension!.find((e) => e.url === 'ifNoneExist')!.valueString = "'a' +";
      const template = (
        q.contained as (Resource & { identifier?: { _value?: { extension?: Extension[] } }[] })[]
      )[0]!;
      template.identifier![0]!._value!.extension![0]!.valueString = "%resource.id + '";
    });
    const problems = expressionProblems(q);
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'Questionnaire.contained[0].identifier[0]._value.extension[0]',
      'Questionnaire.extension[0]',
      'Questionnaire.item[4].item[0].extension[2].extension[2]',
      'Questionnaire.item[6].item[2].extension[1]',
    ]);
    expect(problems.every((p) => p.includes('does not parse'))).toBe(true);
  });

  test('an expression in another language, and an SDC string extension not known to hold an expression or not', () => {
    const q = broken((q) => {
      q.extension!.find((e) => e.url === SDC_EXTENSION.variable)!.valueExpression!.language = 'text/cql';
      const extract = itemByLinkId(q, 'shim-total').extension!.find(
        (e) => e.url === SDC_EXTENSION.templateExtract
      )!;
      extract.extension!.push({ url: 'somethingNew', valueString: '%x' });
    });
    expect(expressionProblems(q)).toEqual([
      'Questionnaire.item[4].item[0].extension[2].extension[3]: valueString in unlisted SDC extension http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-templateExtract#somethingNew',
      'Questionnaire.extension[0]: language text/cql is not text/fhirpath',
    ]);
  });
});
