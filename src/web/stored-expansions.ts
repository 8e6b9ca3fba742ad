import type { MedplumClientOptions, MedplumRequestOptions, ValueSetExpandParams } from '@medplum/core';
import { MedplumClient, ReadablePromise } from '@medplum/core';
import type { ValueSet, ValueSetExpansionContains } from '@medplum/fhirtypes';

/**
 * `ValueSet/$expand` answered from the ValueSets' precomputed expansions: the ValueSet with an
 * expansion of the codes whose display or code contains `filter` (case-insensitive), paged by
 * `offset` and `count`. Undefined when no given ValueSet has that canonical (`url` or `url|version`)
 * and a stored expansion.
 * @param valueSets - ValueSets with a stored `expansion` (the shipped ones carry one).
 * @param params - The `$expand` parameters the renderer asks with.
 */
export function storedExpansion(
  valueSets: readonly ValueSet[],
  params: ValueSetExpandParams
): ValueSet | undefined {
  const [url, version] = (params.url ?? '').split('|');
  const valueSet = valueSets.find(
    (v) => v.url === url && (version === undefined || v.version === version) && v.expansion?.contains?.length
  );
  if (!valueSet?.expansion) {
    return undefined;
  }
  const filter = params.filter?.trim().toLowerCase() ?? '';
  const matching = flatten(valueSet.expansion.contains).filter(
    (c) => !filter || `${c.display ?? ''} ${c.code ?? ''}`.toLowerCase().includes(filter)
  );
  const offset = params.offset ?? 0;
  const page = matching.slice(offset, params.count === undefined ? undefined : offset + params.count);
  return {
    ...valueSet,
    expansion: { ...valueSet.expansion, total: matching.length, offset, contains: page },
  };
}

function flatten(list: readonly ValueSetExpansionContains[] | undefined): ValueSetExpansionContains[] {
  return (list ?? []).flatMap(({ contains, ...c }) => [...(c.code ? [c] : []), ...flatten(contains)]);
}

/**
 * A MedplumClient whose `valueSetExpand` (what the form renderer calls for an `answerValueSet`) is
 * answered from stored expansions, so every answer list renders with no terminology service. Other
 * ValueSets still go to the server.
 */
export class StoredExpansionClient extends MedplumClient {
  constructor(
    options: MedplumClientOptions,
    private readonly valueSets: readonly ValueSet[]
  ) {
    super(options);
  }

  override valueSetExpand(
    params: ValueSetExpandParams,
    options?: MedplumRequestOptions
  ): ReadablePromise<ValueSet> {
    const stored = storedExpansion(this.valueSets, params);
    return stored ? new ReadablePromise(Promise.resolve(stored)) : super.valueSetExpand(params, options);
  }
}
