import type {
  ActivityDefinition,
  Bundle,
  PlanDefinition,
  PlanDefinitionAction,
  Questionnaire,
} from '@medplum/fhirtypes';
import {
  APPLICABILITY_BEHAVIOR_EXTENSION,
  applyPlanDefinition,
  containedCarePlan,
  liftedEntries,
} from '../../../src/core/plan';
import type { ApplyParameters } from '../../../src/core/plan';
import { ReFhirError } from '../../../src/core/outcomes';
import { depsOver, fhirpath, NOW, nthId } from './support';

const RULE = 'http://example.org/StructureDefinition/rule';

function ad(id: string, kind: string, extra: Partial<ActivityDefinition> = {}): ActivityDefinition {
  return {
    resourceType: 'ActivityDefinition',
    id,
    url: `http://example.org/ActivityDefinition/${id}`,
    version: '1',
    status: 'active',
    kind: kind as ActivityDefinition['kind'],
    code: { text: id },
    ...extra,
  };
}

function pd(id: string, action: PlanDefinitionAction[], extra: Partial<PlanDefinition> = {}): PlanDefinition {
  return {
    resourceType: 'PlanDefinition',
    id,
    url: `http://example.org/PlanDefinition/${id}`,
    version: '1',
    status: 'active',
    title: `Plan ${id}`,
    action,
    ...extra,
  };
}

const rule = (code: string): { url: string; valueCoding: { system: string; code: string } } => ({
  url: RULE,
  valueCoding: { system: 'http://example.org/rules', code },
});

const when = (expression: string): PlanDefinitionAction['condition'] => [
  { kind: 'applicability', expression: fhirpath(expression) },
];

const lab = ad('lab', 'ServiceRequest');
const med = ad('med', 'MedicationRequest', { productCodeableConcept: { text: 'drug' } });
const talk = ad('talk', 'CommunicationRequest');
const todo = ad('todo', 'Task');
const form: Questionnaire = {
  resourceType: 'Questionnaire',
  url: 'http://example.org/Questionnaire/form',
  version: '1',
  status: 'active',
  title: 'Follow-up form',
};

const data: Bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      fullUrl: 'urn:uuid:qr',
      resource: {
        resourceType: 'QuestionnaireResponse',
        status: 'completed',
        item: [
          { linkId: 'yes', answer: [{ valueBoolean: true }] },
          { linkId: 'no', answer: [{ valueBoolean: false }] },
        ],
      },
    },
    {
      fullUrl: 'urn:uuid:cond',
      resource: { resourceType: 'Condition', subject: { reference: 'Patient/p1' } },
    },
  ],
};

const YES =
  "%data.entry.resource.ofType(QuestionnaireResponse).item.where(linkId = 'yes').answer.value = true";
const NO = "%data.entry.resource.ofType(QuestionnaireResponse).item.where(linkId = 'no').answer.value = true";

const params: ApplyParameters = { subject: 'Patient/p1', data };

describe('applyPlanDefinition', () => {
  test('builds the CarePlan, RequestGroup and request exactly (golden)', () => {
    const plan = pd('golden', [
      {
        title: 'Order the lab',
        description: 'Because yes',
        extension: [rule('R1')],
        condition: when(YES),
        definitionCanonical: lab.url,
        dynamicValue: [
          {
            path: 'reasonReference.reference',
            expression: fhirpath('%data.entry.where(resource is Condition).fullUrl'),
          },
        ],
      },
      { title: 'Never', extension: [rule('R2')], condition: when(NO), definitionCanonical: lab.url },
    ]);
    const applied = applyPlanDefinition(plan, { ...params, addresses: ['urn:uuid:cond'] }, depsOver([lab]), {
      carePlanExtensionUrls: [RULE],
      carePlanBase: { category: [{ text: 'assess-plan' }] },
    });
    expect(applied.requests).toEqual([
      {
        resourceType: 'ServiceRequest',
        id: nthId(3),
        status: 'draft',
        intent: 'option',
        instantiatesCanonical: ['http://example.org/ActivityDefinition/lab|1'],
        code: { text: 'lab' },
        subject: { reference: 'Patient/p1' },
        authoredOn: NOW,
        reasonReference: [{ reference: 'urn:uuid:cond' }],
      },
    ]);
    expect(applied.requestGroup).toEqual({
      resourceType: 'RequestGroup',
      id: nthId(2),
      instantiatesCanonical: ['http://example.org/PlanDefinition/golden|1'],
      status: 'draft',
      intent: 'proposal',
      subject: { reference: 'Patient/p1' },
      authoredOn: NOW,
      action: [
        {
          extension: [rule('R1')],
          title: 'Order the lab',
          description: 'Because yes',
          resource: { reference: `urn:uuid:${nthId(3)}` },
        },
      ],
      text: {
        status: 'generated',
        div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Proposed actions (status draft, intent proposal) from <i>Plan golden</i>.</p><ul><li><b>Order the lab</b> (ServiceRequest)</li></ul></div>',
      },
    });
    expect(applied.carePlan).toEqual({
      resourceType: 'CarePlan',
      id: nthId(1),
      category: [{ text: 'assess-plan' }],
      extension: [rule('R1')],
      instantiatesCanonical: ['http://example.org/PlanDefinition/golden|1'],
      status: 'draft',
      intent: 'proposal',
      title: 'Plan golden',
      subject: { reference: 'Patient/p1' },
      created: NOW,
      addresses: [{ reference: 'urn:uuid:cond' }],
      supportingInfo: [{ reference: 'urn:uuid:qr' }],
      activity: [{ reference: { reference: `urn:uuid:${nthId(2)}` } }],
      text: {
        status: 'generated',
        div: `<div xmlns="http://www.w3.org/1999/xhtml"><p><b>Plan golden</b></p><p>Care plan: status draft, intent proposal, created ${NOW}.</p><ul><li><b>Order the lab</b> (ServiceRequest)</li></ul></div>`,
      },
    });
    expect(applied.goals).toEqual([]);
  });

  test('ANDs several applicability conditions and records the unmet one', () => {
    const plan = pd('and', [
      { title: 'Both', condition: [...when(YES)!, ...when(NO)!], definitionCanonical: lab.url },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([lab]));
    expect(applied.requests).toEqual([]);
    expect(applied.requestGroup.action).toBeUndefined();
    expect(applied.trace).toEqual([
      {
        planDefinition: 'http://example.org/PlanDefinition/and|1',
        path: 'PlanDefinition.action[0]',
        title: 'Both',
        outcome: 'not-applicable',
        conditions: [
          { expression: YES, met: true, result: [true] },
          { expression: NO, met: false, result: [false] },
        ],
        extensions: [],
      },
    ]);
    expect(applied.issues).toEqual([
      {
        severity: 'information',
        code: 'informational',
        details: {
          text: `PlanDefinition http://example.org/PlanDefinition/and|1, action "Both": not applicable; condition not met: ${JSON.stringify(NO)}`,
        },
        expression: ['PlanDefinition.action[0].condition[1].expression'],
      },
    ]);
  });

  test('ORs conditions when cqf-applicabilityBehavior is any, and does not copy that extension', () => {
    const plan = pd('any', [
      {
        title: 'Either',
        extension: [{ url: APPLICABILITY_BEHAVIOR_EXTENSION, valueCode: 'any' }, rule('R1')],
        condition: [...when(NO)!, ...when(YES)!],
        definitionCanonical: lab.url,
      },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([lab]));
    expect(applied.requests).toHaveLength(1);
    expect(applied.requestGroup.action?.[0]?.extension).toEqual([rule('R1')]);
  });

  test('ignores start and stop conditions for applicability', () => {
    const plan = pd('start', [
      {
        title: 'Timed',
        condition: [{ kind: 'start', expression: fhirpath('false') }],
        definitionCanonical: lab.url,
      },
    ]);
    expect(applyPlanDefinition(plan, params, depsOver([lab])).requests).toHaveLength(1);
  });

  test('treats a non-boolean condition result as not met and warns', () => {
    const plan = pd('nb', [{ title: 'Odd', condition: when("'yes'"), definitionCanonical: lab.url }]);
    const applied = applyPlanDefinition(plan, params, depsOver([lab]));
    expect(applied.requests).toEqual([]);
    expect(applied.issues.map((i) => i.severity)).toEqual(['warning', 'information']);
  });

  test('reports bad FHIRPath as an error issue, skips the action and goes on', () => {
    const plan = pd('bad', [
      { title: 'Broken', condition: when('item.where('), definitionCanonical: lab.url },
      { title: 'Fine', definitionCanonical: lab.url },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([lab]));
    expect(applied.requestGroup.action?.map((a) => a.title)).toEqual(['Fine']);
    expect(applied.issues).toHaveLength(1);
    expect(applied.issues[0]).toMatchObject({
      severity: 'error',
      code: 'invalid',
      expression: ['PlanDefinition.action[0].condition[0].expression'],
    });
    expect(applied.trace[0]?.outcome).toBe('error');
  });

  test('does not apply an action whose condition is in another language', () => {
    const plan = pd('cql', [
      {
        title: 'CQL',
        condition: [
          {
            kind: 'applicability',
            expression: { language: 'text/cql-identifier' as 'text/cql', expression: 'Needs Lab' },
          },
        ],
        definitionCanonical: lab.url,
      },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([lab]));
    expect(applied.requests).toEqual([]);
    expect(applied.issues.map((i) => [i.severity, i.code])).toEqual([['error', 'not-supported']]);
  });

  test('makes every grouped request an option in draft, whatever its kind', () => {
    const planned = ad('planned', 'ServiceRequest', { intent: 'order' });
    const plan = pd('kinds', [
      { title: 'a', definitionCanonical: planned.url },
      { title: 'b', definitionCanonical: med.url },
      { title: 'c', definitionCanonical: talk.url },
      {
        title: 'd',
        definitionCanonical: todo.url,
        dynamicValue: [{ path: 'status', expression: fhirpath("'ready'") }],
      },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([planned, med, talk, todo]));
    expect(
      applied.requests.map((r) => [
        r.resourceType,
        (r as { intent?: string }).intent,
        (r as { status: string }).status,
      ])
    ).toEqual([
      ['ServiceRequest', 'option', 'draft'],
      ['MedicationRequest', 'option', 'draft'],
      ['CommunicationRequest', undefined, 'draft'],
      ['Task', 'option', 'draft'],
    ]);
    expect(applied.issues.map((i) => [i.code, i.expression])).toEqual([
      ['business-rule', ['PlanDefinition.action[3].dynamicValue']],
    ]);
  });

  test('applies a nested PlanDefinition with its own variables and nests its actions', () => {
    const child = pd(
      'child',
      [
        { title: 'Child lab', condition: when('%flag'), definitionCanonical: lab.url },
        { title: 'Child skipped', condition: when('%flag.not()'), definitionCanonical: med.url },
      ],
      {
        extension: [
          {
            url: 'http://hl7.org/fhir/StructureDefinition/variable',
            valueExpression: { name: 'flag', ...fhirpath(YES) },
          },
        ],
      }
    );
    const parent = pd('parent', [{ title: 'Group', extension: [rule('G')], definitionCanonical: child.url }]);
    const applied = applyPlanDefinition(parent, params, depsOver([child, lab, med]));
    expect(applied.requestGroup.action).toEqual([
      {
        extension: [rule('G')],
        title: 'Group',
        action: [{ title: 'Child lab', resource: { reference: `urn:uuid:${nthId(3)}` } }],
      },
    ]);
    expect(applied.trace.map((t) => [t.planDefinition, t.path, t.outcome])).toEqual([
      ['http://example.org/PlanDefinition/parent|1', 'PlanDefinition.action[0]', 'applied'],
      ['http://example.org/PlanDefinition/child|1', 'PlanDefinition.action[0]', 'applied'],
      ['http://example.org/PlanDefinition/child|1', 'PlanDefinition.action[1]', 'not-applicable'],
    ]);
  });

  test('prunes a group whose nested definition and sub-actions all yield nothing', () => {
    const child = pd('empty-child', [{ title: 'x', condition: when(NO), definitionCanonical: lab.url }]);
    const parent = pd('pruning', [
      { title: 'Nested', definitionCanonical: child.url },
      { title: 'Group', action: [{ title: 'y', condition: when(NO), definitionCanonical: lab.url }] },
      { title: 'Text only' },
    ]);
    const applied = applyPlanDefinition(parent, params, depsOver([child, lab]));
    expect(applied.requestGroup.action).toEqual([{ title: 'Text only' }]);
    expect(applied.trace.filter((t) => t.outcome === 'pruned').map((t) => t.title)).toEqual([
      'Nested',
      'Group',
    ]);
  });

  test('cuts a PlanDefinition that includes itself', () => {
    const loop = pd('loop', [
      { title: 'Again', definitionCanonical: 'http://example.org/PlanDefinition/loop' },
      { title: 'Stay' },
    ]);
    const applied = applyPlanDefinition(loop, params, depsOver([loop]));
    expect(applied.requestGroup.action).toEqual([{ title: 'Stay' }]);
    expect(applied.issues.map((i) => i.code)).toEqual(['processing', 'informational']);
  });

  test('keeps an action whose definition is unknown, without a resource, and reports it', () => {
    const plan = pd('unknown', [
      { title: 'Ghost', definitionCanonical: 'http://example.org/ActivityDefinition/none' },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([]));
    expect(applied.requestGroup.action).toEqual([{ title: 'Ghost' }]);
    expect(applied.issues).toEqual([
      {
        severity: 'error',
        code: 'not-found',
        details: {
          text: 'PlanDefinition http://example.org/PlanDefinition/unknown|1, action "Ghost": definition http://example.org/ActivityDefinition/none is not known',
        },
        expression: ['PlanDefinition.action[0].definitionCanonical'],
      },
    ]);
  });

  test('references a Questionnaire definition from the action', () => {
    const plan = pd('form', [{ title: 'Fill in', definitionCanonical: `${form.url}|1` }]);
    const applied = applyPlanDefinition(plan, params, depsOver([form]));
    expect(applied.requestGroup.action).toEqual([
      {
        title: 'Fill in',
        resource: { reference: 'http://example.org/Questionnaire/form|1', display: 'Follow-up form' },
      },
    ]);
    expect(applied.requests).toEqual([]);
  });

  test('applies action dynamic values after the definition ones, and to the group action when there is no request', () => {
    const labWithDv = ad('lab-dv', 'ServiceRequest', {
      dynamicValue: [{ path: 'note.text', expression: fhirpath("'from definition'") }],
    });
    const plan = pd('dv', [
      {
        title: 'Lab',
        definitionCanonical: labWithDv.url,
        dynamicValue: [
          { path: 'note[1].text', expression: fhirpath("%resource.note[0].text + ' then action'") },
        ],
      },
      { title: 'Info', dynamicValue: [{ path: 'description', expression: fhirpath("'for ' + %subject") }] },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([labWithDv]));
    expect(applied.requests[0]).toMatchObject({
      note: [{ text: 'from definition' }, { text: 'from definition then action' }],
    });
    expect(applied.requestGroup.action?.[1]).toEqual({ title: 'Info', description: 'for Patient/p1' });
  });

  test('exposes action variables to sub-actions and %action to the action', () => {
    const plan = pd('vars', [
      {
        title: 'Outer',
        extension: [
          {
            url: 'http://hl7.org/fhir/StructureDefinition/variable',
            valueExpression: { name: 'go', ...fhirpath(YES) },
          },
        ],
        action: [
          {
            title: 'Inner',
            condition: when('%go'),
            dynamicValue: [{ path: 'description', expression: fhirpath('%action.title') }],
          },
        ],
      },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([]));
    expect(applied.requestGroup.action?.[0]?.action).toEqual([{ title: 'Inner', description: 'Inner' }]);
    expect(applied.requestGroup.action?.[0]?.extension).toBeUndefined();
  });

  test('copies descriptive elements and behaviours of the action', () => {
    const action: PlanDefinitionAction = {
      prefix: '1.',
      title: 'Choose',
      description: 'd',
      textEquivalent: 't',
      priority: 'urgent',
      code: [{ text: 'c' }],
      documentation: [{ type: 'citation', citation: 'Ref' }],
      timingDuration: { value: 4, unit: 'd' },
      type: { text: 'create' },
      groupingBehavior: 'logical-group',
      selectionBehavior: 'at-most-one',
      requiredBehavior: 'could',
      precheckBehavior: 'no',
      cardinalityBehavior: 'single',
    };
    const applied = applyPlanDefinition(pd('copy', [action]), params, depsOver([]));
    expect(applied.requestGroup.action).toEqual([action]);
    expect(applied.requestGroup.text?.div).toContain(
      '<li><b>1. Choose</b>: t [select at-most-one] [optional]</li>'
    );
  });

  test('collects the configured extensions of applied actions onto the CarePlan once each, in document order', () => {
    const other = { url: 'http://example.org/other', valueString: 'x' };
    const plan = pd('collect', [
      { title: 'a', extension: [rule('R2'), other], action: [{ title: 'a1', extension: [rule('R3')] }] },
      { title: 'b', extension: [rule('R2')] },
      { title: 'c', extension: [rule('R9')], condition: when(NO) },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([]), { carePlanExtensionUrls: [RULE] });
    expect(applied.carePlan.extension).toEqual([rule('R2'), rule('R3')]);
    expect(applyPlanDefinition(plan, params, depsOver([])).carePlan.extension).toBeUndefined();
  });

  test('stamps the configured action extensions on the request the action creates', () => {
    const other = { url: 'http://example.org/other', valueString: 'x' };
    const stamped = ad('stamped', 'Task', { extension: [other] });
    const plan = pd('stamp', [
      { title: 'a', extension: [rule('R7'), other], definitionCanonical: stamped.url },
    ]);
    const applied = applyPlanDefinition(plan, params, depsOver([stamped]), { requestExtensionUrls: [RULE] });
    expect(applied.requests[0]?.extension).toEqual([rule('R7')]); // only the configured URL; definition extensions stay on the definition
    expect(applyPlanDefinition(plan, params, depsOver([stamped])).requests[0]?.extension).toBeUndefined();
  });

  test('creates proposed Goals from PlanDefinition.goal and links them from the CarePlan', () => {
    const plan = pd('goals', [], {
      goal: [
        {
          description: { text: 'Antegrade ejaculation' },
          priority: { text: 'high' },
          category: { text: 'treatment' },
          start: { text: 'now' },
          target: [
            { measure: { text: 'volume' }, detailQuantity: { value: 1.4 }, due: { value: 3, unit: 'mo' } },
          ],
        },
      ],
    });
    const applied = applyPlanDefinition(plan, params, depsOver([]));
    expect(applied.goals).toEqual([
      {
        resourceType: 'Goal',
        id: nthId(3),
        lifecycleStatus: 'proposed',
        category: [{ text: 'treatment' }],
        priority: { text: 'high' },
        description: { text: 'Antegrade ejaculation' },
        subject: { reference: 'Patient/p1' },
        startCodeableConcept: { text: 'now' },
        target: [
          {
            measure: { text: 'volume' },
            detailQuantity: { value: 1.4 },
            dueDuration: { value: 3, unit: 'mo' },
          },
        ],
      },
    ]);
    expect(applied.carePlan.goal).toEqual([{ reference: `urn:uuid:${nthId(3)}` }]);
  });

  test('passes encounter and practitioner on, and supportingInfo when given', () => {
    const plan = pd('ctx', [{ title: 'Lab', definitionCanonical: lab.url }]);
    const applied = applyPlanDefinition(
      plan,
      {
        ...params,
        encounter: 'Encounter/e',
        practitioner: 'Practitioner/d',
        supportingInfo: ['QuestionnaireResponse/1'],
      },
      depsOver([lab])
    );
    expect(applied.carePlan).toMatchObject({
      encounter: { reference: 'Encounter/e' },
      author: { reference: 'Practitioner/d' },
      supportingInfo: [{ reference: 'QuestionnaireResponse/1' }],
    });
    expect(applied.requestGroup).toMatchObject({
      encounter: { reference: 'Encounter/e' },
      author: { reference: 'Practitioner/d' },
    });
    expect(applied.requests[0]).toMatchObject({
      encounter: { reference: 'Encounter/e' },
      requester: { reference: 'Practitioner/d' },
    });
  });

  test('escapes definition text in the narratives', () => {
    const plan = pd('esc', [{ title: '<script>alert("x")</script> & co' }], { title: 'A <b>bold</b> plan' });
    const applied = applyPlanDefinition(plan, params, depsOver([]));
    expect(applied.requestGroup.text?.div).toContain(
      '<b>&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; co</b>'
    );
    expect(applied.carePlan.text?.div).toContain('<p><b>A &#60;b&#62;bold&#60;/b&#62; plan</b></p>');
    expect(applied.carePlan.text?.div).not.toContain('<script>');
  });

  test('says so in the narrative when no action applies', () => {
    const applied = applyPlanDefinition(
      pd('none', [{ title: 'x', condition: when(NO) }]),
      params,
      depsOver([])
    );
    expect(applied.carePlan.text?.div).toContain('<p>No action applies.</p>');
  });

  test('resolves the PlanDefinition by canonical and throws not-found for an unknown one', () => {
    const plan = pd('by-url', [{ title: 'Lab', definitionCanonical: lab.url }]);
    const deps = depsOver([plan, lab]);
    expect(
      applyPlanDefinition('http://example.org/PlanDefinition/by-url', params, deps).requests
    ).toHaveLength(1);
    expect.assertions(3);
    try {
      applyPlanDefinition('http://example.org/PlanDefinition/missing', params, deps);
    } catch (err) {
      expect((err as ReFhirError).kind).toBe('not-found');
      expect(err).toBeInstanceOf(ReFhirError);
    }
  });

  test('is deterministic for the same inputs', () => {
    const plan = pd('det', [
      { title: 'Lab', condition: when(YES), definitionCanonical: lab.url },
      { title: 'Med', definitionCanonical: med.url },
    ]);
    const first = applyPlanDefinition(plan, params, depsOver([lab, med]));
    const second = applyPlanDefinition(plan, params, depsOver([lab, med]));
    expect(second).toEqual(first);
  });
});

describe('output shapes', () => {
  const child = pd('shape-child', [{ title: 'Med', definitionCanonical: med.url }]);
  const plan = pd(
    'shape',
    [
      {
        title: 'Lab',
        definitionCanonical: lab.url,
        dynamicValue: [{ path: 'reasonReference.reference', expression: fhirpath("'urn:uuid:cond'") }],
      },
      { title: 'Nested', definitionCanonical: child.url },
    ],
    { goal: [{ description: { text: 'g' } }] }
  );
  const applied = (): ReturnType<typeof applyPlanDefinition> =>
    applyPlanDefinition(plan, params, depsOver([child, lab, med]));

  test('contained: one CarePlan holding the RequestGroup, goals and requests, referenced by #id', () => {
    const carePlan = containedCarePlan(applied());
    expect(carePlan.id).toBeUndefined();
    expect(carePlan.activity).toEqual([{ reference: { reference: `#${nthId(2)}` } }]);
    expect(carePlan.goal).toEqual([{ reference: `#${nthId(3)}` }]);
    expect(carePlan.contained?.map((r) => [r.resourceType, r.id])).toEqual([
      ['RequestGroup', nthId(2)],
      ['Goal', nthId(3)],
      ['ServiceRequest', nthId(4)],
      ['MedicationRequest', nthId(5)],
    ]);
    const group = carePlan.contained?.[0] as {
      action: { resource?: { reference: string }; action?: { resource: { reference: string } }[] }[];
      text?: unknown;
    };
    expect(group.text).toBeUndefined();
    expect(group.action[0]?.resource).toEqual({ reference: `#${nthId(4)}` });
    expect(group.action[1]?.action?.[0]?.resource).toEqual({ reference: `#${nthId(5)}` });
    // References outside the generated set stay as given.
    expect((carePlan.contained?.[2] as { reasonReference: unknown }).reasonReference).toEqual([
      { reference: 'urn:uuid:cond' },
    ]);
    expect(carePlan.supportingInfo).toEqual([{ reference: 'urn:uuid:qr' }]);
    expect(JSON.stringify(carePlan)).not.toMatch(new RegExp(`urn:uuid:${nthId(2)}|urn:uuid:${nthId(4)}`));
  });

  test('lifted: separate resources with urn:uuid fullUrls and no ids, in a fixed order', () => {
    const entries = liftedEntries(applied());
    expect(entries.map((e) => [e.fullUrl, e.resource.resourceType, e.resource.id])).toEqual([
      [`urn:uuid:${nthId(1)}`, 'CarePlan', undefined],
      [`urn:uuid:${nthId(2)}`, 'RequestGroup', undefined],
      [`urn:uuid:${nthId(3)}`, 'Goal', undefined],
      [`urn:uuid:${nthId(4)}`, 'ServiceRequest', undefined],
      [`urn:uuid:${nthId(5)}`, 'MedicationRequest', undefined],
    ]);
    expect((entries[0]!.resource as { activity: unknown }).activity).toEqual([
      { reference: { reference: `urn:uuid:${nthId(2)}` } },
    ]);
  });

  test('shapes do not modify the applied plan', () => {
    const result = applied();
    const before = structuredClone(result);
    containedCarePlan(result);
    liftedEntries(result);
    expect(result).toEqual(before);
  });
});
