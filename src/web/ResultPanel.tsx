import { Alert, Badge, Group, List, Paper, Stack, Text, Title } from '@mantine/core';
import type { Bundle } from '@medplum/fhirtypes';
import type { JSX } from 'react';
import type { OutcomeLine, ResultView } from './result-view';

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
 * The evaluation result: Conditions, the CarePlan's activities by strategy, the Provenance, and the
 * raw Bundle in a collapsible panel.
 * @param props - The view model and the Bundle.
 */
export function ResultPanel(props: ResultPanelProps): JSX.Element {
  const { view, bundle } = props;
  return (
    <Stack gap="lg" data-testid="result">
      <section data-testid="conditions" aria-labelledby="conditions-title">
        <Title order={2} id="conditions-title" mb="sm">
          Conditions
        </Title>
        {view.conditions.length === 0 ? (
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
                    variant="light"
                    color={condition.verificationStatus === 'confirmed' ? 'green' : 'gray'}
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
        <Stack gap="md">
          {view.strategies.map((strategy) => (
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
