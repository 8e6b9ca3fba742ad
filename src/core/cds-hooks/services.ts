import type { DataRequirement, PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';
import type { ConformanceRegistry } from '../conformance/registry';
import type { CdsService } from './types';

/**
 * A CDS service is a PlanDefinition of type `eca-rule` whose top-level actions are triggered by a
 * `named-event` (the hook name). Its id is the PlanDefinition's id; its prefetch templates come from
 * the triggers' data requirements, so what the rules read and what the EHR sends are one list.
 */
export interface HookDefinition {
  readonly service: CdsService;
  readonly planDefinition: PlanDefinition;
}

const ECA_RULE = 'eca-rule';
const PLAN_DEFINITION_TYPE = 'http://terminology.hl7.org/CodeSystem/plan-definition-type';

/**
 * The CDS services defined by the PlanDefinitions of a registry, in registry order.
 * @param registry - the conformance content
 */
export function hookDefinitions(registry: ConformanceRegistry): HookDefinition[] {
  return registry
    .ofType<PlanDefinition>('PlanDefinition')
    .filter((pd) => pd.id && pd.status === 'active' && isEcaRule(pd))
    .flatMap((pd) => {
      const triggers = (pd.action ?? []).flatMap((a) => namedEvents(a));
      const hooks = [...new Set(triggers.map((t) => t.name))];
      // One hook per service: a PlanDefinition whose actions answer different hooks is not a service.
      if (hooks.length !== 1) {
        return [];
      }
      const prefetch = prefetchTemplates(triggers.flatMap((t) => t.data ?? []));
      const service: CdsService = {
        hook: hooks[0]!,
        id: pd.id!,
        ...(pd.title ? { title: pd.title } : {}),
        description: pd.description ?? pd.title ?? pd.id!,
        ...(Object.keys(prefetch).length > 0 ? { prefetch } : {}),
      };
      return [{ service, planDefinition: pd }];
    });
}

function isEcaRule(pd: PlanDefinition): boolean {
  return (pd.type?.coding ?? []).some((c) => c.system === PLAN_DEFINITION_TYPE && c.code === ECA_RULE);
}

function namedEvents(action: PlanDefinitionAction): { name: string; data?: DataRequirement[] }[] {
  return (action.trigger ?? [])
    .filter((t) => t.type === 'named-event' && typeof t.name === 'string' && t.name !== '')
    .map((t) => ({ name: t.name!, ...(t.data ? { data: t.data } : {}) }));
}

/**
 * FHIR search templates from data requirements, keyed by each requirement's element `id`: the
 * patient's resources of that type, narrowed by each code filter that names a search parameter
 * (`param=system|code,…`). `Patient` reads the patient. A requirement without an id has no key and is
 * left out.
 * See: https://cds-hooks.hl7.org/2.0/#prefetch-template
 * @param requirements - the triggers' data requirements
 */
export function prefetchTemplates(requirements: readonly DataRequirement[]): Record<string, string> {
  const templates: Record<string, string> = {};
  for (const requirement of requirements) {
    if (!requirement.id || !requirement.type) {
      continue;
    }
    if (requirement.type === 'Patient') {
      templates[requirement.id] = 'Patient/{{context.patientId}}';
      continue;
    }
    // `Patient/<id>`, not the bare id: both are valid FHIR, and some servers (Medplum) match only the first.
    const query = [`patient=Patient/{{context.patientId}}`];
    for (const filter of requirement.codeFilter ?? []) {
      const codes = (filter.code ?? [])
        .filter((c) => c.code)
        .map((c) => (c.system ? `${c.system}|${c.code}` : c.code!));
      if (filter.searchParam && codes.length > 0) {
        query.push(`${encodeURIComponent(filter.searchParam)}=${codes.map(encodeURIComponent).join(',')}`);
      }
    }
    templates[requirement.id] = `${requirement.type}?${query.join('&')}`;
  }
  return templates;
}
