import type {
  Bundle,
  Expression,
  Extension,
  OperationOutcomeIssue,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../fhirpath/fhirpath';
import { compileFhirPath } from '../fhirpath/fhirpath';
import { isObject } from '../json';
import { issue } from '../outcomes';
import { toAnswer } from './answers';
import { LANGUAGE, MARK, POPULATE_AUTHOR_DISPLAY, POPULATE_EXTENSION } from './extensions';
import { linkPeriod, mostRecentObservation, observationQuery, periodStart } from './observation-link';
import type { LaunchContext, PopulateOptions, PopulateResult } from './types';

/** The SDC launch context names (`http://hl7.org/fhir/uv/sdc/CodeSystem/launchContext`) this module binds. */
const CONTEXT_NAMES = ['patient', 'user', 'encounter'] as const;

/** Variables that are not records: never listed as an answer's source. */
const NOT_SOURCES = new Set(['resource', 'questionnaire', 'context', 'rootResource']);

/**
 * SDC `$populate`, expression-based and observation-based: binds the Questionnaire's
 * `sdc-questionnaire-launchContext`s, evaluates its root `variable`s in order (`application/x-fhir-query`
 * through `options.query`, FHIRPath in memory), then for each item its `itemPopulationContext`
 * (repeating groups), `initialExpression`, or `observationLinkPeriod` (the most recent usable Observation
 * with the item's code within the period before `options.now`). Pure apart from `options.query`.
 *
 * Pre-filled answers are suggestions: the response is `in-progress`, and every pre-filled item carries
 * `questionnaireresponse-author` (the population service) and `re-populated-from` (each source record).
 * An expression that yields nothing leaves the item empty: absence from the record is never an answer.
 * Problems with one item or variable become issues, and population goes on without it.
 * @see https://hl7.org/fhir/uv/sdc/STU4/populate.html
 */
export async function populateResponse(
  questionnaire: Questionnaire,
  options: PopulateOptions
): Promise<PopulateResult> {
  const issues: OperationOutcomeIssue[] = [];
  const patient = options.context.patient;
  const response: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    ...(questionnaire.url
      ? {
          questionnaire: questionnaire.version
            ? `${questionnaire.url}|${questionnaire.version}`
            : questionnaire.url,
        }
      : {}),
    status: 'in-progress',
    subject: { reference: `Patient/${patient.id}` },
    ...(options.context.encounter?.id
      ? { encounter: { reference: `Encounter/${options.context.encounter.id}` } }
      : {}),
    authored: options.now.toISOString(),
  };
  const env = bindLaunchContext(questionnaire, options.context, issues);
  if (env === undefined) {
    return { response, issues };
  }
  env.resource = response;
  env.questionnaire = questionnaire;
  const run = new Population(options, issues);
  for (const v of variables(questionnaire.extension)) {
    env[v.name!] = await run.variable(v, env, 'Questionnaire');
  }
  const items = await run.items(questionnaire.item ?? [], env);
  if (items.length > 0) {
    response.item = items;
  }
  return { response, issues };
}

/** `%patient`, `%user`, `%encounter` as the Questionnaire declares them; undefined when the patient is missing. */
function bindLaunchContext(
  questionnaire: Questionnaire,
  context: LaunchContext,
  issues: OperationOutcomeIssue[]
): FhirPathEnv | undefined {
  const env: FhirPathEnv = {};
  for (const ext of questionnaire.extension ?? []) {
    if (ext.url !== POPULATE_EXTENSION.launchContext) {
      continue;
    }
    const nameExt = ext.extension?.find((e) => e.url === 'name');
    const name = nameExt?.valueCoding?.code ?? nameExt?.valueId;
    if (!(CONTEXT_NAMES as readonly string[]).includes(String(name))) {
      issues.push(
        issue('warning', 'not-supported', `Launch context ${String(name)} is not supported; not bound`)
      );
      continue;
    }
    const given = context[name as (typeof CONTEXT_NAMES)[number]];
    if (given === undefined) {
      // SDC: a context the caller does not have leaves the expressions that need it empty.
      issues.push(issue('information', 'not-found', `No ${String(name)} was given as launch context`));
      env[name!] = [];
    } else {
      env[name!] = given;
    }
  }
  if (env.patient === undefined) {
    // The content must declare the patient context; population without a subject would be guesswork.
    issues.push(
      issue(
        'error',
        'not-supported',
        'The Questionnaire declares no patient launch context: nothing can be pre-filled'
      )
    );
    return undefined;
  }
  return env;
}

function variables(extensions: readonly Extension[] | undefined): Expression[] {
  return (extensions ?? [])
    .filter((e) => e.url === POPULATE_EXTENSION.variable && typeof e.valueExpression?.name === 'string')
    .map((e) => e.valueExpression!);
}

/** One population run: the options and the issues it collects. */
class Population {
  constructor(
    private readonly options: PopulateOptions,
    private readonly issues: OperationOutcomeIssue[]
  ) {}

  /** A variable's value: a searchset Bundle for a query, FHIRPath results otherwise; empty on failure. */
  async variable(v: Expression, env: FhirPathEnv, where: string): Promise<unknown> {
    if (v.language === LANGUAGE.fhirQuery) {
      return (await this.query(v.expression ?? '', env, `${where} variable ${v.name}`)) ?? [];
    }
    if (v.language === LANGUAGE.fhirpath) {
      return this.fhirpath(v.expression ?? '', env, `${where} variable ${v.name}`) ?? [];
    }
    this.issues.push(
      issue(
        'warning',
        'not-supported',
        `${where} variable ${v.name}: language ${v.language} is not supported`
      )
    );
    return [];
  }

  async items(qItems: readonly QuestionnaireItem[], env: FhirPathEnv): Promise<QuestionnaireResponseItem[]> {
    const out: QuestionnaireResponseItem[] = [];
    for (const item of qItems) {
      if (item.type === 'display') {
        continue;
      }
      out.push(...(await this.item(item, env)));
    }
    return out;
  }

  private async item(item: QuestionnaireItem, outer: FhirPathEnv): Promise<QuestionnaireResponseItem[]> {
    const env = { ...outer };
    for (const v of variables(item.extension)) {
      env[v.name!] = await this.variable(v, env, `Item ${item.linkId}`);
    }
    if (item.type === 'group') {
      return this.group(item, env);
    }
    const filled = await this.answers(item, env);
    if (!filled || filled.answer.length === 0) {
      return [];
    }
    return [
      {
        extension: marks(filled.sources),
        linkId: item.linkId,
        ...(item.text !== undefined ? { text: item.text } : {}),
        answer: filled.answer,
      },
    ];
  }

  /** A group: once, or once per resource of its itemPopulationContext; kept only when something is filled. */
  private async group(item: QuestionnaireItem, env: FhirPathEnv): Promise<QuestionnaireResponseItem[]> {
    const context = item.extension?.find(
      (e) => e.url === POPULATE_EXTENSION.itemPopulationContext
    )?.valueExpression;
    const text = item.text !== undefined ? { text: item.text } : {};
    if (context === undefined) {
      const children = await this.items(item.item ?? [], env);
      return children.length > 0 ? [{ linkId: item.linkId, ...text, item: children }] : [];
    }
    const where = `Item ${item.linkId} itemPopulationContext`;
    if (typeof context.name !== 'string') {
      this.issues.push(issue('warning', 'invalid', `${where} has no name; the group is not pre-filled`));
      return [];
    }
    let rows: unknown[];
    if (context.language === LANGUAGE.fhirQuery) {
      rows = entries(await this.query(context.expression ?? '', env, where));
    } else {
      rows = this.fhirpath(context.expression ?? '', env, where) ?? [];
    }
    if (rows.length > 1 && !item.repeats) {
      this.issues.push(
        issue(
          'warning',
          'multiple-matches',
          `${where} gave ${rows.length} results for a group that does not repeat; not pre-filled`
        )
      );
      return [];
    }
    const out: QuestionnaireResponseItem[] = [];
    for (const row of rows) {
      const children = await this.items(item.item ?? [], { ...env, [context.name]: row });
      if (children.length > 0) {
        out.push({ linkId: item.linkId, ...text, item: children });
      }
    }
    return out;
  }

  private async answers(
    item: QuestionnaireItem,
    env: FhirPathEnv
  ): Promise<{ answer: QuestionnaireResponseItemAnswer[]; sources: Reference[] } | undefined> {
    const initial = item.extension?.find(
      (e) => e.url === POPULATE_EXTENSION.initialExpression
    )?.valueExpression;
    if (initial !== undefined) {
      const where = `Item ${item.linkId} initialExpression`;
      if (initial.language !== LANGUAGE.fhirpath) {
        this.issues.push(
          issue('warning', 'not-supported', `${where}: language ${initial.language} is not supported`)
        );
        return undefined;
      }
      const values = this.fhirpath(initial.expression ?? '', env, where);
      if (values === undefined || values.length === 0) {
        return undefined;
      }
      if (values.length > 1 && !item.repeats) {
        this.issues.push(
          issue(
            'warning',
            'multiple-matches',
            `${where} gave ${values.length} values for an item that does not repeat; not pre-filled`
          )
        );
        return undefined;
      }
      const answer = this.converted(item, values, where);
      return answer && { answer, sources: sourcesOf(initial.expression ?? '', env) };
    }
    const period = linkPeriod(item);
    if (period !== undefined) {
      return this.linkedObservation(item, period, env);
    }
    return undefined;
  }

  private async linkedObservation(
    item: QuestionnaireItem,
    period: NonNullable<ReturnType<typeof linkPeriod>>,
    env: FhirPathEnv
  ): Promise<{ answer: QuestionnaireResponseItemAnswer[]; sources: Reference[] } | undefined> {
    const where = `Item ${item.linkId} observationLinkPeriod`;
    const start = periodStart(period, this.options.now);
    if (typeof start === 'string') {
      this.issues.push(issue('warning', 'not-supported', `${where}: ${start}`));
      return undefined;
    }
    if (!(item.code ?? []).some((c) => c.code !== undefined)) {
      this.issues.push(
        issue('warning', 'invalid', `${where}: the item has no code to match Observations by`)
      );
      return undefined;
    }
    const patient = env.patient as { id?: string };
    const bundle = await this.run(observationQuery(item, patient.id ?? '', start), where);
    const { chosen, skipped } = mostRecentObservation(item, entries(bundle), start, this.options.now);
    for (const reason of skipped) {
      this.issues.push(issue('information', 'informational', `${where}: not used: ${reason}`));
    }
    if (!chosen) {
      return undefined;
    }
    const answer = this.converted(item, [chosen.observation.valueQuantity], where);
    return answer && { answer, sources: [{ reference: `Observation/${chosen.observation.id}` }] };
  }

  /** Answers of the item's type within its min/max, or undefined (with an issue) when any value does not fit. */
  private converted(
    item: QuestionnaireItem,
    values: readonly unknown[],
    where: string
  ): QuestionnaireResponseItemAnswer[] | undefined {
    const out: QuestionnaireResponseItemAnswer[] = [];
    for (const value of values) {
      const result = toAnswer(item, value);
      if ('reason' in result) {
        this.issues.push(issue('warning', 'invalid', `${where}: ${result.reason}; not pre-filled`));
        return undefined;
      }
      const outOfRange = rangeProblem(item, result.answer);
      if (outOfRange) {
        this.issues.push(issue('warning', 'value', `${where}: ${outOfRange}; not pre-filled`));
        return undefined;
      }
      out.push(result.answer);
    }
    return out;
  }

  /** An `x-fhir-query` with its `{{expression}}`s filled in, run through the injected query. */
  private async query(template: string, env: FhirPathEnv, where: string): Promise<Bundle | undefined> {
    let failed = false;
    const query = template.replace(/\{\{(.+?)\}\}/g, (_, expression: string) => {
      const values = this.fhirpath(expression, env, where);
      if (values?.length !== 1 || !['string', 'number', 'boolean'].includes(typeof values[0])) {
        failed = true;
        return '';
      }
      return encodeURIComponent(String(values[0]));
    });
    if (failed) {
      this.issues.push(
        issue(
          'warning',
          'invalid',
          `${where}: an embedded expression did not give one value; the query is not run`
        )
      );
      return undefined;
    }
    return this.run(query, where);
  }

  private async run(query: string, where: string): Promise<Bundle | undefined> {
    try {
      const bundle = await this.options.query(query);
      return isObject(bundle) && bundle.resourceType === 'Bundle' ? bundle : undefined;
    } catch (err) {
      this.issues.push(issue('warning', 'exception', `${where}: the search failed: ${message(err)}`));
      return undefined;
    }
  }

  private fhirpath(expression: string, env: FhirPathEnv, where: string): unknown[] | undefined {
    try {
      return compileFhirPath(expression)(env.resource ?? {}, env);
    } catch (err) {
      this.issues.push(issue('warning', 'exception', `${where}: ${message(err)}`));
      return undefined;
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

function entries(bundle: Bundle | undefined): unknown[] {
  return (bundle?.entry ?? []).map((e) => e.resource).filter((r) => r !== undefined);
}

/** minValue/maxValue of a decimal or integer item, checked against a pre-filled number. */
function rangeProblem(item: QuestionnaireItem, answer: QuestionnaireResponseItemAnswer): string | undefined {
  const value = answer.valueDecimal ?? answer.valueInteger;
  if (value === undefined) {
    return undefined;
  }
  const bound = (url: string): number | undefined => {
    const e = item.extension?.find((x) => x.url === url);
    return e?.valueDecimal ?? e?.valueInteger;
  };
  const min = bound('http://hl7.org/fhir/StructureDefinition/minValue');
  const max = bound('http://hl7.org/fhir/StructureDefinition/maxValue');
  if (min !== undefined && value < min) {
    return `the record's value ${value} is below the item's minimum ${min}`;
  }
  if (max !== undefined && value > max) {
    return `the record's value ${value} is above the item's maximum ${max}`;
  }
  return undefined;
}

/**
 * The records an initialExpression read: the resources held by the variables it names (launch contexts
 * and the response itself excepted). The content names filtered variables (e.g. the Conditions in force),
 * so these are the records the answer rests on.
 */
function sourcesOf(expression: string, env: FhirPathEnv): Reference[] {
  const seen = new Set<string>();
  for (const [, name] of expression.matchAll(/%([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (NOT_SOURCES.has(name!) || (CONTEXT_NAMES as readonly string[]).includes(name!)) {
      continue;
    }
    for (const r of resourcesIn(env[name!])) {
      seen.add(`${r.resourceType}/${r.id}`);
    }
  }
  return [...seen].map((reference) => ({ reference }));
}

function resourcesIn(value: unknown): Resource[] {
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((v): Resource[] => {
    if (!isObject(v) || typeof v.resourceType !== 'string') {
      return [];
    }
    if (v.resourceType === 'Bundle') {
      return entries(v as unknown as Bundle).flatMap(resourcesIn);
    }
    return typeof v.id === 'string' ? [v as unknown as Resource] : [];
  });
}

function marks(sources: readonly Reference[]): Extension[] {
  return [
    { url: MARK.author, valueReference: { type: 'Device', display: POPULATE_AUTHOR_DISPLAY } },
    ...sources.map((s) => ({ url: MARK.populatedFrom, valueReference: s })),
  ];
}
