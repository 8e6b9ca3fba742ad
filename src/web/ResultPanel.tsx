import { Alert, Badge, Group, List, Paper, Stack, Text, Title } from '@mantine/core';
import type { Bundle } from '@medplum/fhirtypes';
import type { JSX } from 'react';
import type { OutcomeLine, ResultView, WrittenView } from './result-view';

// Everything below renders text through React, which escapes it: no HTML from the server (not even
// the resources' narratives) is ever put into the page as markup.

/** Props of ResultPanel. */
export interface ResultPanelProps {
  /** The view model of the result (from bundleToView). */
  readonly view: ResultView;
  /** The Bundle as received, for the raw JSON panel. */
  readonly bundle: Bundle;
}

/**
 * The evaluation result: what was written (when the server wrote it to its upstream FHIR server),
 * Conditions, the CarePlan's activities by strategy, the Provenance, and the raw Bundle in a
 * collapsible panel. A resource that was written but not returned by the upstream is shown by its
 * location.
 * @param props - The view model and the Bundle.
 */
export function ResultPanel(props: ResultPanelProps): JSX.Element {
  const { view, bundle } = props;
  const notReturned = (types: readonly string[]): WrittenView[] =>
    (view.written ?? []).filter((w) => !w.returned && types.includes(w.resourceType));
  const conditionsByLocation = notReturned(['Condition']);
  const planByLocation = notReturned(['CarePlan', 'RequestGroup']);
  const provenanceByLocation = notReturned(['Provenance']);
  // Empty strategies would say "Nothing proposed" of a plan that was written but not returned.
  const nothingProposed = view.strategies.every((s) => s.recommendations.length === 0);
  const strategies = nothingProposed && planByLocation.length > 0 ? [] : view.strategies;
  return (
    <Stack gap="lg" data-testid="result">
      {view.written && <WrittenSection written={view.written} />}

      <section data-testid="conditions" aria-labelledby="conditions-title">
        <Title order={2} id="conditions-title" mb="sm">
          Conditions
        </Title>
        {conditionsByLocation.length > 0 && (
          <WrittenList
            intro="Written to the FHIR server, which did not return their content:"
            items={conditionsByLocation}
            testId="written-condition"
          />
        )}
        {view.conditions.length === 0 && conditionsByLocation.length === 0 ? (
          <Text data-testid="no-conditions">No Condition was extracted from this response.</Text>
        ) : (
          <Stack gap="sm">
            {view.conditions.map((condition, i) => (
              <Paper key={i} withBorder p="sm" component="article" data-testid="condition">
                <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
                  <Title order={3} size="h4" data-testid="condition-title">
                    {condition.title}
                  </Title>
                  <Badge
                    // Green text on light green is too faint (3.9:1); white on teal 9 is 5:1.
                    variant={condition.verificationStatus === 'confirmed' ? 'filled' : 'light'}
                    color={condition.verificationStatus === 'confirmed' ? 'teal' : 'gray'}
                    data-testid="verification"
                    data-code={condition.verificationStatus}
                  >
                    {condition.verificationDisplay}
                  </Badge>
                </Group>
                <List size="sm" mt={4} data-testid="codes">
                  {condition.codes.map((code, j) => (
                    <List.Item key={j} data-testid="code" data-code={code.code}>
                      <Text span fw={600}>
                        {code.systemLabel} {code.code}
                      </Text>
                      {code.display ? ` — ${code.display}` : ''}
                    </List.Item>
                  ))}
                </List>
                <Text size="sm" mt={4} c="dimmed">
                  {condition.rule ? (
                    <span data-testid="condition-rule">
                      Rule {condition.rule.code}
                      {condition.rule.display ? ` (${condition.rule.display})` : ''}
                    </span>
                  ) : null}
                  {condition.clinicalStatus ? ` · clinical status ${condition.clinicalStatus}` : ''}
                  {condition.onset ? ` · onset ${condition.onset}` : ''}
                </Text>
                {condition.evidence.length > 0 && (
                  <>
                    <Text size="sm" fw={600} mt="xs">
                      Because of these answers
                    </Text>
                    <List size="sm" data-testid="evidence">
                      {condition.evidence.map((ev, j) => (
                        <List.Item key={j} data-testid="evidence-item" data-linkid={ev.linkId ?? ''}>
                          {ev.label}:{' '}
                          <Text span fw={600}>
                            {ev.answers.length ? ev.answers.join(', ') : 'not in the response'}
                          </Text>
                        </List.Item>
                      ))}
                    </List>
                  </>
                )}
              </Paper>
            ))}
          </Stack>
        )}
      </section>

      <section data-testid="careplan" aria-labelledby="careplan-title">
        <Title order={2} id="careplan-title" mb={4}>
          Care plan
        </Title>
        {view.carePlanTitle && (
          <Text size="sm" c="dimmed" mb="sm">
            {view.carePlanTitle} (draft proposal for the clinician)
          </Text>
        )}
        {planByLocation.length > 0 && (
          <WrittenList
            intro="Written to the FHIR server, which did not return its content:"
            items={planByLocation}
            testId="written-careplan"
          />
        )}
        <Stack gap="md">
          {strategies.map((strategy) => (
            <section key={strategy.title} data-testid="strategy" data-title={strategy.title}>
              <Title order={3} size="h4" mb={4}>
                {strategy.title}
              </Title>
              {strategy.recommendations.length === 0 ? (
                <Text size="sm" c="dimmed" data-testid="no-recommendations">
                  Nothing proposed.
                </Text>
              ) : (
                <Stack gap="xs">
                  {strategy.recommendations.map((rec, i) => (
                    <Paper key={i} withBorder p="sm" component="article" data-testid="recommendation">
                      <Group gap="xs" wrap="wrap">
                        <Text fw={600} data-testid="recommendation-title">
                          {rec.title}
                        </Text>
                        {rec.rule && (
                          <Badge
                            variant="outline"
                            data-testid="rule"
                            data-code={rec.rule.code}
                            title={rec.rule.display}
                          >
                            {rec.rule.code}
                          </Badge>
                        )}
                      </Group>
                      <Text size="sm" c="dimmed">
                        Evidence: <span data-testid="evidence-grade">{rec.evidenceLabel}</span>
                      </Text>
                      {rec.description && <Text size="sm">{rec.description}</Text>}
                      <List size="sm" mt={4} data-testid="activities">
                        {rec.activities.map((activity, j) => (
                          <List.Item key={j} data-testid="activity">
                            <span data-testid="activity-title">{activity.title}</span>
                            {activity.kind ? (
                              <Text span size="xs" c="dimmed">
                                {' '}
                                · {activity.kind}
                              </Text>
                            ) : null}
                            {activity.choice ? (
                              <Text span size="xs" c="dimmed">
                                {' '}
                                · {activity.choice}
                              </Text>
                            ) : null}
                          </List.Item>
                        ))}
                      </List>
                    </Paper>
                  ))}
                </Stack>
              )}
            </section>
          ))}
        </Stack>
      </section>

      <section data-testid="provenance" aria-labelledby="provenance-title">
        <Title order={2} id="provenance-title" mb="sm">
          Provenance
        </Title>
        {view.provenance ? (
          <Paper withBorder p="sm">
            <List size="sm">
              <List.Item>Activity: {view.provenance.activity ?? 'not stated'}</List.Item>
              <List.Item>Recorded: {view.provenance.recorded ?? 'not stated'}</List.Item>
              {view.provenance.occurred && <List.Item>Occurred: {view.provenance.occurred}</List.Item>}
              {view.provenance.agents.map((agent, i) => (
                <List.Item key={i} data-testid="agent">
                  {agent.role}: {agent.who}
                </List.Item>
              ))}
              {view.provenance.sources.map((source, i) => (
                <List.Item key={`s${i}`}>Source: {source}</List.Item>
              ))}
              <List.Item>Resources written: {view.provenance.targets}</List.Item>
            </List>
          </Paper>
        ) : provenanceByLocation.length > 0 ? (
          <WrittenList
            intro="Written to the FHIR server, which did not return its content:"
            items={provenanceByLocation}
            testId="written-provenance"
          />
        ) : (
          <Text size="sm">The Bundle has no Provenance.</Text>
        )}
      </section>

      <details data-testid="raw-bundle">
        <summary>Raw Bundle (JSON, {bundle.entry?.length ?? 0} entries)</summary>
        <pre className="raw-json">{JSON.stringify(bundle, null, 2)}</pre>
      </details>
    </Stack>
  );
}

/**
 * What the upstream FHIR server wrote (a transaction-response): how many resources of each type,
 * and every entry's location and status in a collapsible list.
 */
function WrittenSection(props: { readonly written: readonly WrittenView[] }): JSX.Element {
  const { written } = props;
  const byType = new Map<string, number>();
  for (const w of written) {
    byType.set(w.resourceType, (byType.get(w.resourceType) ?? 0) + 1);
  }
  return (
    <section data-testid="written" aria-labelledby="written-title">
      <Title order={2} id="written-title" mb="sm">
        Written to the FHIR server
      </Title>
      {written.length === 0 ? (
        <Text data-testid="nothing-written">Nothing was written: this response supports no finding.</Text>
      ) : (
        <>
          <Text data-testid="written-summary">
            {written.length === 1 ? '1 resource' : `${written.length} resources`}:{' '}
            {[...byType].map(([type, n]) => `${n} ${type}`).join(', ')}.
          </Text>
          <details data-testid="written-all">
            <summary>Where they were written ({written.length})</summary>
            <WrittenList items={written} testId="written-entry" />
          </details>
        </>
      )}
    </section>
  );
}

/** Written resources by location (or type and id) and status. */
function WrittenList(props: {
  readonly intro?: string;
  readonly items: readonly WrittenView[];
  readonly testId: string;
}): JSX.Element {
  return (
    <>
      {props.intro && (
        <Text size="sm" mb={4}>
          {props.intro}
        </Text>
      )}
      <List size="sm" mb="sm">
        {props.items.map((w, i) => {
          const where = w.location ?? (w.id ? `${w.resourceType}/${w.id}` : w.resourceType);
          return (
            <List.Item key={i} data-testid={props.testId} data-type={w.resourceType} data-location={where}>
              <Text span fw={600}>
                {where}
              </Text>{' '}
              <Text span size="xs" c="dimmed">
                ({w.status})
              </Text>
            </List.Item>
          );
        })}
      </List>
    </>
  );
}

/** Props of OutcomeAlert. */
export interface OutcomeAlertProps {
  readonly headline: string;
  readonly lines: readonly OutcomeLine[];
}

/**
 * A server error (an OperationOutcome, or a transport failure) as one clear message.
 * @param props - The headline and the issues.
 */
export function OutcomeAlert(props: OutcomeAlertProps): JSX.Element {
  return (
    <Alert color="red" title={props.headline} role="alert" data-testid="outcome">
      {props.lines.length > 0 && (
        <List size="sm">
          {props.lines.map((line, i) => (
            <List.Item key={i} data-testid="outcome-issue">
              <Text span fw={600}>
                {line.severity}:
              </Text>{' '}
              {line.text}
              {line.where ? (
                <Text span size="xs" c="dimmed">
                  {' '}
                  (at {line.where})
                </Text>
              ) : null}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
