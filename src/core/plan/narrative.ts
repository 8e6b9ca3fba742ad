import type { CarePlan, Narrative, RequestGroup } from '@medplum/fhirtypes';
import { escapeXhtml } from '../narrative/narrative';

/**
 * Generated XHTML narratives for the CarePlan and RequestGroup of `$apply`. They show only what the
 * definitions say (titles, behaviours, resource types) and the plan's own status and date, never values
 * taken from the input data, so no patient free text can reach them. Every inserted string is escaped.
 * See: https://hl7.org/fhir/R4/narrative.html
 */

const XHTML = 'http://www.w3.org/1999/xhtml';

/**
 * One line of the action list, taken from the PlanDefinition action before any dynamic value ran (so
 * content that fills an action from patient data cannot leak into the narrative). What depends only on
 * the action is escaped once, in its plan ({@link actionLineParts}).
 */
export interface NarrativeItem {
  /** The bold label, escaped. */
  readonly head: string;
  /** Resource type of the request the action references, if any. */
  readonly resourceType: string | undefined;
  /** Its text equivalent, selection behaviour and optionality, escaped. */
  readonly tail: string;
  readonly children: readonly NarrativeItem[];
}

/**
 * The parts of an action's line that do not depend on the call: the escaped label, then the text
 * equivalent (shown when the action also has a title), the selection behaviour and `[optional]`
 * (required behaviour `could`).
 * @param action - what the line shows of the action
 */
export function actionLineParts(action: {
  readonly label: string;
  readonly textEquivalent?: string;
  readonly selectionBehavior?: string;
  readonly optional: boolean;
}): { head: string; tail: string } {
  let tail = '';
  if (action.textEquivalent) {
    tail += `: ${escapeXhtml(action.textEquivalent)}`;
  }
  if (action.selectionBehavior) {
    tail += ` [select ${escapeXhtml(action.selectionBehavior)}]`;
  }
  if (action.optional) {
    tail += ' [optional]';
  }
  return { head: `<b>${escapeXhtml(action.label)}</b>`, tail };
}

/**
 * Narrative for a RequestGroup produced by `$apply`.
 * @param requestGroup - the group (status and intent are shown)
 * @param definitionTitle - title of the PlanDefinition it came from
 * @param items - the applied actions
 * @param list - `actionList(items)` when the caller has it already (the CarePlan shows the same list)
 */
export function requestGroupNarrative(
  requestGroup: RequestGroup,
  definitionTitle: string,
  items: readonly NarrativeItem[],
  list: string = actionList(items)
): Narrative {
  const header = `<p>Proposed actions (status ${escapeXhtml(requestGroup.status)}, intent ${escapeXhtml(
    requestGroup.intent
  )}) from <i>${escapeXhtml(definitionTitle)}</i>.</p>`;
  return { status: 'generated', div: wrap(header + list) };
}

/**
 * Narrative for the CarePlan produced by `$apply`.
 * @param carePlan - the plan (title, status, intent, created)
 * @param items - the applied actions of its RequestGroup
 * @param list - `actionList(items)` when the caller has it already
 */
export function carePlanNarrative(
  carePlan: CarePlan,
  items: readonly NarrativeItem[],
  list: string = actionList(items)
): Narrative {
  const title = carePlan.title ? `<p><b>${escapeXhtml(carePlan.title)}</b></p>` : '';
  const status = `<p>Care plan: status ${escapeXhtml(carePlan.status)}, intent ${escapeXhtml(carePlan.intent)}${
    carePlan.created ? `, created ${escapeXhtml(carePlan.created)}` : ''
  }.</p>`;
  return { status: 'generated', div: wrap(title + status + list) };
}

/**
 * The XHTML list of the applied actions, shared by the RequestGroup's and the CarePlan's narratives.
 * @param items - the applied actions
 */
export function actionList(items: readonly NarrativeItem[]): string {
  return itemList(items);
}

function wrap(body: string): string {
  return `<div xmlns="${XHTML}">${body}</div>`;
}

function itemList(items: readonly NarrativeItem[]): string {
  if (items.length === 0) {
    return '<p>No action applies.</p>';
  }
  let list = '<ul>';
  for (const item of items) {
    list += `<li>${item.head}`;
    if (item.resourceType) {
      list += ` (${escapeXhtml(item.resourceType)})`;
    }
    list += item.tail;
    if (item.children.length > 0) {
      list += itemList(item.children);
    }
    list += '</li>';
  }
  return `${list}</ul>`;
}
