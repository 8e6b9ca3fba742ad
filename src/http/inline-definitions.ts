import type { Resource } from '@medplum/fhirtypes';
import { httpError } from './errors';
import type { OperationInput } from './parameters';

/**
 * A Questionnaire or PlanDefinition passed inline as an operation parameter, when the server allows it.
 * Off by default: such content carries FHIRPath and regular expressions that run synchronously on the
 * server, and one crafted pattern can hold the event loop for seconds. Shipped content is reached by
 * canonical and is not affected.
 * @param ctx - The app context, or anything carrying its `inlineDefinitions` setting.
 * @param params - The operation's parameters, if any.
 * @param name - The parameter name.
 * @param resourceType - The type it must have.
 */
export function inlineDefinition<T extends Resource>(
  ctx: { readonly config: { readonly inlineDefinitions?: boolean } },
  params: OperationInput | undefined,
  name: string,
  resourceType: T['resourceType']
): T | undefined {
  const given = params?.resource<T>(name, resourceType);
  if (given !== undefined && ctx.config.inlineDefinitions !== true) {
    throw httpError(
      400,
      'not-supported',
      `Parameter ${name}: this server does not run ${resourceType} content given inline (INLINE_DEFINITIONS ` +
        'is off); refer to a shipped one by canonical'
    );
  }
  return given;
}
