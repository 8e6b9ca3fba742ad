import type { Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';

/**
 * Accessibility repairs of the form rendered by Medplum's QuestionnaireForm (@medplum/react 4.5),
 * whose controls the page cannot pass props to. What the renderer puts on the page, per item:
 * - a question sits in a FormSection (Mantine Input.Wrapper) whose
 *   `<label for="{linkId}" id="{linkId}-label">` holds the question's text;
 * - a number, date or text question is an `<input id="{linkId}" name="{linkId}">`: label, id and
 *   name already agree;
 * - a radio-button question (the Yes/No questions the page makes of booleans) is a
 *   `<div role="radiogroup">` whose `aria-labelledby` names an element that does not exist, around
 *   `<input type="radio" id="{linkId}-option-{n}" name="{linkId}">`: no element has the id
 *   `{linkId}` (a link to `#{linkId}` goes nowhere) and the group has no accessible name;
 * - a ValueSet answer list is a search box `<input name="{linkId}">` with Mantine's generated id,
 *   so the label names nothing and the box's only name is its placeholder, "Select items";
 * - a group is a `<div>` holding an `<h3>` with the group's text, with no id and no role.
 *
 * repairForm gives the radio group the id `{linkId}` and its label as name, gives the search box the
 * id `{linkId}` (so that the label names it) and the label as name, and makes each group a labelled
 * `role="group"` with the id `{linkId}`; so every item's `{linkId}` is the id of its control. It also
 * marks the controls of the items that have a problem `aria-invalid`, described by the problem's
 * message. It is idempotent and writes an attribute only when its value differs: the page runs it
 * again whenever the form's DOM changes, elements (a question shown by its enableWhen, a repeated
 * group added) or the attributes it repairs (Mantine replaces its generated ids once mounted, and
 * React writes an attribute again whenever its prop changes).
 *
 * The id of an item of a repeated group is given to its first instance only (the renderer repeats
 * every id in each instance; a link from the problem list goes to the first).
 */

/** What the page knows that the DOM does not say. */
export interface FormRepairContext {
  /** linkId of each group, by its text (the only thing the rendered group shows). */
  readonly groups: ReadonlyMap<string, string>;
  /** For each item with a problem: the ids of the elements that say what is wrong. */
  readonly invalid: ReadonlyMap<string, readonly string[]>;
}

/** Marks an element whose `aria-describedby` tokens were added here, with those tokens. */
const ADDED_DESCRIPTION = 'data-re-problem-ids';

/**
 * The linkIds of the groups of a (rendered) Questionnaire by their text; a text that two groups
 * share is left out, since the DOM could not tell them apart.
 * @param questionnaire - The Questionnaire the renderer shows.
 */
export function groupsByText(questionnaire: Questionnaire): Map<string, string> {
  const found = new Map<string, string | undefined>();
  const walk = (items: readonly QuestionnaireItem[] | undefined): void => {
    for (const item of items ?? []) {
      if (item.type === 'group' && item.text) {
        found.set(item.text, found.has(item.text) ? undefined : item.linkId);
      }
      walk(item.item);
    }
  };
  walk(questionnaire.item);
  const out = new Map<string, string>();
  for (const [text, linkId] of found) {
    if (linkId) {
      out.set(text, linkId);
    }
  }
  return out;
}

/**
 * Repairs the rendered form in place (see the module comment).
 * @param root - The element holding the rendered form.
 * @param context - Group linkIds and the items with problems.
 */
export function repairForm(root: HTMLElement, context: FormRepairContext): void {
  for (const label of root.querySelectorAll<HTMLLabelElement>('label[for][id]')) {
    const linkId = label.htmlFor;
    const section = label.parentElement;
    if (label.id !== `${linkId}-label` || !section) {
      continue;
    }
    const control =
      section.querySelector<HTMLElement>('[role="radiogroup"]') ??
      section.querySelector<HTMLElement>(`input[name="${CSS.escape(linkId)}"][role="searchbox"]`);
    if (!control) {
      continue; // a text or number field: the renderer gives it the id {linkId}
    }
    setAttribute(control, 'aria-labelledby', label.id);
    if (control.getAttribute('role') === 'radiogroup' && label.dataset.required === 'true') {
      setAttribute(control, 'aria-required', 'true');
    }
    if (!isTaken(root, linkId)) {
      control.id = linkId;
    }
  }

  for (const heading of root.querySelectorAll<HTMLHeadingElement>('h3')) {
    const linkId = context.groups.get(heading.textContent ?? '');
    const group = heading.parentElement;
    if (!linkId || !group || group === root) {
      continue;
    }
    if (!heading.id && !isTaken(root, `${linkId}-title`)) {
      heading.id = `${linkId}-title`;
    }
    setAttribute(group, 'role', 'group');
    if (heading.id) {
      setAttribute(group, 'aria-labelledby', heading.id);
    }
    if (!group.id && !isTaken(root, linkId)) {
      group.id = linkId;
    }
  }

  markInvalid(root, context.invalid);
}

/**
 * Sets an attribute only when its value differs, so that a MutationObserver watching attributes
 * is not woken again by a repair that changed nothing.
 */
function setAttribute(element: Element, name: string, value: string | undefined): void {
  if (value === undefined) {
    if (element.hasAttribute(name)) {
      element.removeAttribute(name);
    }
  } else if (element.getAttribute(name) !== value) {
    element.setAttribute(name, value);
  }
}

/** Whether an element of the document has this id. */
function isTaken(root: HTMLElement, id: string): boolean {
  return root.ownerDocument.getElementById(id) !== null;
}

function markInvalid(root: HTMLElement, invalid: ReadonlyMap<string, readonly string[]>): void {
  for (const element of root.querySelectorAll<HTMLElement>(`[${ADDED_DESCRIPTION}]`)) {
    if (!invalid.has(element.id)) {
      setDescription(element, []);
      if (element.getAttribute('aria-invalid') === 'true') {
        setAttribute(element, 'aria-invalid', 'false');
      }
    }
  }
  for (const [linkId, describedBy] of invalid) {
    const control = root.querySelector<HTMLElement>(`#${CSS.escape(linkId)}`);
    if (!control) {
      continue;
    }
    // A group (role=group) does not take aria-invalid; its message still describes it.
    if (control.getAttribute('role') !== 'group') {
      setAttribute(control, 'aria-invalid', 'true');
    }
    setDescription(control, describedBy);
  }
}

/** Replaces the `aria-describedby` tokens added here by `ids`, keeping the renderer's own. */
function setDescription(element: HTMLElement, ids: readonly string[]): void {
  const added = (element.getAttribute(ADDED_DESCRIPTION) ?? '').split(' ').filter(Boolean);
  const own = (element.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .filter((token) => token && !added.includes(token));
  const all = [...own, ...ids];
  setAttribute(element, 'aria-describedby', all.length > 0 ? all.join(' ') : undefined);
  setAttribute(element, ADDED_DESCRIPTION, ids.length > 0 ? ids.join(' ') : undefined);
}

/**
 * Moves the focus to the control of an item (the page's own fields or a repaired rendered one):
 * for a radio group its checked radio, else its first; for a group its first control. The item's
 * section is scrolled into view with its label.
 * @param document - The page.
 * @param linkId - The item's linkId, or the id of one of the page's own fields.
 * @returns Whether a control got the focus.
 */
export function focusItem(document: Document, linkId: string): boolean {
  const target = document.getElementById(linkId);
  if (!target) {
    return false;
  }
  const role = target.getAttribute('role');
  const control =
    role === 'radiogroup' || role === 'group'
      ? (target.querySelector<HTMLElement>('input:checked') ??
        target.querySelector<HTMLElement>('input, select, textarea, button'))
      : target;
  if (!control) {
    return false;
  }
  control.focus({ preventScroll: true });
  const label = document.getElementById(`${linkId}-label`) ?? document.getElementById(`${linkId}-title`);
  (label ?? target).scrollIntoView({ block: 'center' });
  return document.activeElement === control;
}
