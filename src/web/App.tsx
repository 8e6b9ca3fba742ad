import {
  Alert,
  Anchor,
  Checkbox,
  Container,
  Group,
  List,
  Loader,
  Paper,
  Radio,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { Questionnaire, QuestionnaireResponse, Reference } from '@medplum/fhirtypes';
import { QuestionnaireForm } from '@medplum/react';
import { isQuestionEnabled, useMedplum } from '@medplum/react-hooks';
import type { JSX } from 'react';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { EvaluateResult, StorageMode } from './api';
import { evaluate, newResponseId, storageNote } from './api';
import type { FormRepairContext } from './form-a11y';
import { focusItem, groupsByText, repairForm } from './form-a11y';
import { toRenderQuestionnaire, toRenderResponse } from './render-questionnaire';
import { bundleToView, outcomeLines, statusHeadline } from './result-view';
import { OutcomeAlert, ResultPanel } from './ResultPanel';
import type { SubmissionProblem } from './submission';
import { buildResponse, collectAnswers, parseReference } from './submission';

/** The Questionnaire this page fills, read from the server by id. */
export const QUESTIONNAIRE_ID = 're-evaluation';
/** The group whose answers a practitioner may have entered (laboratory results). */
export const INVESTIGATIONS_LINK_ID = 'investigations';

type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'submitting' }
  | { readonly kind: 'done'; readonly response: QuestionnaireResponse; readonly result: EvaluateResult };

/** Props of App. */
export interface AppProps {
  /** The FHIR base URL of our server (ends with `/`). */
  readonly fhirBase: string;
  /** What the server does with a result (from the page's settings; see storageMode). */
  readonly storage: StorageMode;
  /** SMART mode (SmartLaunch.tsx): the launch's patient and user, the pre-filled answers, the submission. */
  readonly smart?: SmartMode;
}

/** What a SMART launch gives the page. */
export interface SmartMode {
  /** `Patient/{id}` of the launch context: fixed, not typed in. */
  readonly patient: string;
  /** The user, when the `fhirUser` claim names a practitioner. */
  readonly practitioner?: string;
  /** The response `$populate` pre-filled from the record, shown for review. */
  readonly prefilled?: QuestionnaireResponse;
  /** How many answers came from the record. */
  readonly prefilledCount: number;
  /** Stores the response on the EHR and submits it to `$re-evaluate` with the user's token. */
  submit(
    response: QuestionnaireResponse
  ): Promise<{ response: QuestionnaireResponse; result: EvaluateResult }>;
}

/**
 * The clinician page: who the response is about and who wrote it, the Questionnaire rendered by
 * Medplum's QuestionnaireForm, and the result of `$re-evaluate`.
 * @param props - The FHIR base and the storage mode.
 */
export function App(props: AppProps): JSX.Element {
  const medplum = useMedplum();
  const [questionnaire, setQuestionnaire] = useState<Questionnaire>();
  const [loadError, setLoadError] = useState<string>();
  const smart = props.smart;
  const [patient, setPatient] = useState(smart?.patient ?? '');
  const [practitioner, setPractitioner] = useState(smart?.practitioner ?? '');
  const [practitionerName, setPractitionerName] = useState('');
  const [authorRole, setAuthorRole] = useState<'practitioner' | 'patient'>('practitioner');
  const [investigationsByPractitioner, setInvestigationsByPractitioner] = useState(true);
  const [problems, setProblems] = useState<SubmissionProblem[]>([]);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const formWrapper = useRef<HTMLElement>(null);
  const problemsRef = useRef<HTMLDivElement>(null);
  const resultRef = useRef<HTMLDivElement>(null);
  const repairContext = useRef<FormRepairContext>({ groups: new Map(), invalid: new Map() });

  useEffect(() => {
    medplum
      .readResource('Questionnaire', QUESTIONNAIRE_ID)
      .then(setQuestionnaire)
      .catch((err: unknown) => setLoadError(err instanceof Error ? err.message : String(err)));
  }, [medplum]);

  const rendered = useMemo(
    () => (questionnaire ? toRenderQuestionnaire(questionnaire) : undefined),
    [questionnaire]
  );
  const groups = useMemo(() => (rendered ? groupsByText(rendered) : new Map<string, string>()), [rendered]);
  // SMART mode: the answers $populate took from the record, as the rendered questions ask for them.
  const prefilled = useMemo(
    () => (questionnaire && smart?.prefilled ? toRenderResponse(questionnaire, smart.prefilled) : undefined),
    [questionnaire, smart?.prefilled]
  );
  // The elements that describe each item's problems: the items of the problem list.
  const invalid = useMemo(() => {
    const out = new Map<string, string[]>();
    problems.forEach((p, i) => out.set(p.linkId, [...(out.get(p.linkId) ?? []), problemId(i)]));
    return out;
  }, [problems]);
  repairContext.current = { groups, invalid };

  // The page checks required answers itself (the renderer cannot for every control), so the
  // browser's own validation is switched off to give one consistent message.
  useEffect(() => {
    formWrapper.current?.querySelector('form')?.setAttribute('novalidate', '');
  });

  // The rendered form's controls get the ids, names and states that Medplum's renderer does not
  // give them (see form-a11y.ts), again whenever the renderer changes its DOM or those attributes.
  useEffect(() => {
    const wrapper = formWrapper.current;
    if (!wrapper) {
      return undefined;
    }
    const repair = (): void => repairForm(wrapper, repairContext.current);
    repair();
    const observer = new MutationObserver(repair);
    observer.observe(wrapper, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['id', 'aria-labelledby', 'aria-invalid', 'aria-describedby'],
    });
    return () => observer.disconnect();
  }, [rendered]);

  // After a submission with problems, the problem list has the focus (a screen reader reads it; a
  // keyboard user goes on from there), and the fields concerned are marked invalid.
  useEffect(() => {
    if (formWrapper.current) {
      repairForm(formWrapper.current, { groups, invalid });
    }
    if (problems.length > 0 && problemsRef.current) {
      problemsRef.current.focus({ preventScroll: true });
      problemsRef.current.scrollIntoView({ block: 'center' });
    }
  }, [problems, groups, invalid]);

  useEffect(() => {
    if (phase.kind === 'done') {
      resultRef.current?.scrollIntoView({ block: 'start' });
    }
  }, [phase]);

  async function onSubmit(formResponse: QuestionnaireResponse): Promise<void> {
    if (!questionnaire || !rendered || phase.kind === 'submitting') {
      return;
    }
    const found: SubmissionProblem[] = [];
    const subject = parseReference(patient, ['Patient']);
    if (!subject.ok) {
      found.push({ linkId: 'patient-ref', question: 'Patient', message: subject.message });
    }
    let practitionerRef: Reference | undefined;
    if (practitioner.trim() || authorRole === 'practitioner' || investigationsByPractitioner) {
      const parsed = parseReference(practitioner, ['Practitioner', 'PractitionerRole'], practitionerName);
      if (parsed.ok) {
        practitionerRef = parsed.reference;
      } else {
        found.push({ linkId: 'practitioner-ref', question: 'Practitioner', message: parsed.message });
      }
    }
    const collected = collectAnswers(questionnaire, rendered, formResponse, isQuestionEnabled);
    found.push(...collected.problems);
    setProblems(found);
    if (found.length > 0 || !subject.ok) {
      return;
    }
    const response = buildResponse({
      questionnaire,
      items: collected.items,
      id: newResponseId(),
      authored: new Date().toISOString(),
      subject: subject.reference,
      author: authorRole === 'practitioner' ? practitionerRef : subject.reference,
      groupAuthors:
        investigationsByPractitioner && practitionerRef
          ? [{ linkId: INVESTIGATIONS_LINK_ID, author: practitionerRef }]
          : [],
    });
    setPhase({ kind: 'submitting' });
    if (smart) {
      setPhase({ kind: 'done', ...(await smart.submit(response)) });
      return;
    }
    const result = await evaluate(props.fhirBase, response);
    setPhase({ kind: 'done', response, result });
  }

  const fieldError = (id: string): string | undefined =>
    problems
      .filter((p) => p.linkId === id)
      .map((p) => p.message)
      .join(' ') || undefined;

  return (
    <Container size="md" px="sm" py="md">
      <Stack gap="md">
        <header>
          <Title order={1}>Retrograde ejaculation evaluation</Title>
          <Text size="sm" c="dimmed">
            Fill in the evaluation and submit it: this server codes the findings as Conditions and proposes a
            care plan ({'QuestionnaireResponse/$re-evaluate'}).{' '}
            <span data-testid="storage-note" data-mode={props.storage}>
              {storageNote(props.storage)}
            </span>
          </Text>
        </header>

        <Paper withBorder p="sm" component="section" aria-labelledby="context-title">
          <Title order={2} size="h3" id="context-title" mb="xs">
            Patient and author
          </Title>
          <Stack gap="xs">
            <TextInput
              id="patient-ref"
              label="Patient"
              description="A reference to the patient, e.g. Patient/123"
              placeholder="Patient/123"
              withAsterisk
              readOnly={smart !== undefined}
              error={fieldError('patient-ref')}
              value={patient}
              onChange={(e) => setPatient(e.currentTarget.value)}
            />
            <Group grow wrap="wrap" align="flex-start">
              <TextInput
                id="practitioner-ref"
                label="Practitioner"
                description="The clinician, e.g. Practitioner/456"
                placeholder="Practitioner/456"
                error={fieldError('practitioner-ref')}
                value={practitioner}
                onChange={(e) => setPractitioner(e.currentTarget.value)}
              />
              <TextInput
                id="practitioner-name"
                label="Practitioner's name (optional)"
                value={practitionerName}
                onChange={(e) => setPractitionerName(e.currentTarget.value)}
              />
            </Group>
            <Radio.Group
              name="author-role"
              label="Who completed this form?"
              value={authorRole}
              onChange={(value) => setAuthorRole(value === 'patient' ? 'patient' : 'practitioner')}
            >
              <Group gap="md" mt={4}>
                <Radio id="author-practitioner" value="practitioner" label="The practitioner" />
                <Radio id="author-patient" value="patient" label="The patient" />
              </Group>
            </Radio.Group>
            <Checkbox
              id="investigations-by-practitioner"
              label="The investigations (laboratory results) were entered by the practitioner"
              description="Only results recorded by a practitioner can confirm retrograde ejaculation."
              checked={investigationsByPractitioner}
              onChange={(e) => setInvestigationsByPractitioner(e.currentTarget.checked)}
            />
          </Stack>
        </Paper>

        {loadError && (
          <Alert
            color="red"
            role="alert"
            title="The Questionnaire could not be loaded"
            data-testid="load-error"
          >
            {loadError}
          </Alert>
        )}
        {!questionnaire && !loadError && (
          <Group gap="xs">
            <Loader size="sm" />
            <Text size="sm">Loading the Questionnaire…</Text>
          </Group>
        )}
        {rendered && (
          <section aria-labelledby="form-title" ref={formWrapper} data-testid="form-wrapper">
            <Title order={2} size="h3" id="form-title">
              Questionnaire
            </Title>
            <Text size="sm" c="dimmed" mb="xs">
              {questionnaire?.title}
              {questionnaire?.version ? `, version ${questionnaire.version}` : ''}
            </Text>
            {smart?.prefilled && (
              <Alert
                color="blue"
                role="note"
                title="Pre-filled from the patient's record"
                data-testid="prefill-note"
                mb="xs"
              >
                {smart.prefilledCount === 0
                  ? 'Nothing in the record answered a question: fill in the form.'
                  : `${smart.prefilledCount} answer${smart.prefilledCount === 1 ? ' was' : 's were'} taken from the record. Review each one: they count only once you submit them.`}
              </Alert>
            )}
            <QuestionnaireForm
              questionnaire={rendered}
              questionnaireResponse={prefilled}
              disablePagination
              submitButtonText="Evaluate"
              onSubmit={(response) => {
                onSubmit(response).catch((err: unknown) =>
                  setPhase({
                    kind: 'done',
                    response,
                    result: { kind: 'error', message: err instanceof Error ? err.message : String(err) },
                  })
                );
              }}
            />
          </section>
        )}

        {problems.length > 0 && (
          <Alert
            ref={problemsRef}
            tabIndex={-1}
            color="red"
            role="alert"
            title="Please complete the form"
            data-testid="form-problems"
          >
            <List size="sm">
              {problems.map((p, i) => (
                <List.Item key={i} id={problemId(i)} data-testid="form-problem" data-linkid={p.linkId}>
                  <Anchor
                    href={`#${p.linkId}`}
                    size="sm"
                    onClick={(e) => {
                      // The link's target is the item's control (form-a11y.ts); a click also moves
                      // the focus there, which following a fragment does not.
                      if (focusItem(document, p.linkId)) {
                        e.preventDefault();
                      }
                    }}
                  >
                    {p.question}
                  </Anchor>
                  : {p.message}
                </List.Item>
              ))}
            </List>
          </Alert>
        )}

        <div ref={resultRef} aria-live="polite">
          {phase.kind === 'submitting' && (
            <Group gap="xs" data-testid="submitting">
              <Loader size="sm" />
              <Text size="sm">Evaluating…</Text>
            </Group>
          )}
          {phase.kind === 'done' && questionnaire && <Result phase={phase} questionnaire={questionnaire} />}
        </div>
      </Stack>
    </Container>
  );
}

/** The id of the problem list's item `index`. */
function problemId(index: number): string {
  return `form-problem-${index}`;
}

function Result(props: {
  readonly phase: Extract<Phase, { kind: 'done' }>;
  readonly questionnaire: Questionnaire;
}): JSX.Element {
  const { result, response } = props.phase;
  const view = useMemo(
    () => (result.kind === 'bundle' ? bundleToView(result.bundle, response, props.questionnaire) : undefined),
    [result, response, props.questionnaire]
  );
  if (result.kind === 'bundle' && view) {
    return <ResultPanel view={view} bundle={result.bundle} />;
  }
  if (result.kind === 'outcome') {
    return <OutcomeAlert headline={statusHeadline(result.status)} lines={outcomeLines(result.outcome)} />;
  }
  return (
    <OutcomeAlert headline={result.kind === 'error' ? result.message : 'Unexpected answer.'} lines={[]} />
  );
}
