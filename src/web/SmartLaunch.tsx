import { Alert, Container, Group, Loader, Text } from '@mantine/core';
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { useMedplum } from '@medplum/react-hooks';
import FHIR from 'fhirclient';
import type { JSX } from 'react';
import { useEffect, useState } from 'react';
import type { EvaluateResult, StorageMode } from './api';
import { evaluate } from './api';
import type { SmartMode } from './App';
import { App, QUESTIONNAIRE_ID } from './App';
import { answerCount, populate, practitionerFromFhirUser } from './smart';

type State =
  | { readonly kind: 'launching' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'ready'; readonly smart: SmartMode; readonly warning?: string };

/**
 * The clinician page in SMART mode, at the redirect URI of a launch (`smart`): fhirclient completes the
 * authorization (checks the state, exchanges the code with the PKCE verifier); the launch's patient is the
 * subject; `$populate` pre-fills the form from the record, with the user's token; the clinician reviews it;
 * submitting stores the response on the EHR's FHIR server and sends it to `$re-evaluate`, whose results our
 * server writes there with the same token (docs/smart-launch.md).
 * @param props - Our FHIR base and the storage mode.
 */
export function SmartLaunch(props: {
  readonly fhirBase: string;
  readonly storage: StorageMode;
}): JSX.Element {
  const medplum = useMedplum();
  const [state, setState] = useState<State>({ kind: 'launching' });

  useEffect(() => {
    let cancelled = false;
    const launch = async (): Promise<State> => {
      let client: Awaited<ReturnType<typeof FHIR.oauth2.ready>>;
      try {
        client = await FHIR.oauth2.ready();
      } catch (err) {
        return { kind: 'failed', message: `The SMART launch failed: ${message(err)}` };
      }
      const patientId = client.patient.id;
      const token = client.state.tokenResponse?.access_token;
      if (!patientId) {
        return {
          kind: 'failed',
          message: 'The EHR launched this page without a patient: open it from a patient chart.',
        };
      }
      if (!token) {
        return { kind: 'failed', message: 'The EHR issued no access token.' };
      }
      // Our server checks the same token (its issuer and scopes) on every call, the Questionnaire read too.
      medplum.setAccessToken(token);
      const questionnaire = await medplum.readResource('Questionnaire', QUESTIONNAIRE_ID);
      const canonical = `${questionnaire.url}${questionnaire.version ? `|${questionnaire.version}` : ''}`;
      const populated = await populate(props.fhirBase, token, canonical, String(patientId));
      const prefilled = populated.kind === 'response' ? populated.response : undefined;
      // The id the EHR gave the response at the first submission: a corrected resubmission updates that
      // response (an amendment, docs/amendments.md) instead of starting a second evaluation.
      let storedId: string | undefined;
      const submit = async (
        response: QuestionnaireResponse
      ): Promise<{ response: QuestionnaireResponse; result: EvaluateResult }> => {
        // Upstream mode evaluates the response as stored on the EHR (docs/upstream.md): store it first,
        // with the user's token; the EHR gives it its id.
        let stored: QuestionnaireResponse;
        try {
          const unsaved: QuestionnaireResponse = { ...response };
          delete unsaved.id;
          stored = (
            storedId === undefined
              ? await client.create(unsaved as never)
              : await client.update({ ...unsaved, id: storedId } as never)
          ) as QuestionnaireResponse;
          storedId = stored.id;
        } catch (err) {
          return {
            response,
            result: { kind: 'error', message: `The EHR did not store the response: ${message(err)}` },
          };
        }
        return { response: stored, result: await evaluate(props.fhirBase, stored, fetch, token) };
      };
      return {
        kind: 'ready',
        smart: {
          patient: `Patient/${patientId}`,
          practitioner: practitionerFromFhirUser(client.getFhirUser())?.reference,
          prefilled,
          prefilledCount: answerCount(prefilled),
          submit,
        },
        warning: populated.kind === 'error' ? populated.message : undefined,
      };
    };
    launch()
      .catch((err: unknown): State => ({ kind: 'failed', message: message(err) }))
      .then((next) => {
        if (!cancelled) {
          setState(next);
        }
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [medplum, props.fhirBase]);

  if (state.kind === 'launching') {
    return (
      <Container size="md" px="sm" py="md">
        <Group gap="xs" data-testid="smart-launching">
          <Loader size="sm" />
          <Text size="sm">Connecting to the EHR and reading the patient&apos;s record…</Text>
        </Group>
      </Container>
    );
  }
  if (state.kind === 'failed') {
    return (
      <Container size="md" px="sm" py="md">
        <Alert color="red" role="alert" title="SMART launch" data-testid="smart-error">
          {state.message}
        </Alert>
      </Container>
    );
  }
  return (
    <>
      {state.warning && (
        <Container size="md" px="sm" pt="md">
          <Alert color="orange" role="alert" title="Not pre-filled" data-testid="populate-error">
            {state.warning}
          </Alert>
        </Container>
      )}
      <App fhirBase={props.fhirBase} storage={props.storage} smart={state.smart} />
    </>
  );
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
