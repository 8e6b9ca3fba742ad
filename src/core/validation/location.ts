/**
 * FHIRPath-style locations for issues: `Condition.code.coding[0].system`.
 * Array members carry their index; property names are the JSON keys (so a choice element
 * reads `Condition.onsetDateTime`, which is also valid FHIRPath on R4).
 */

/** Appends a property name to a location. */
export function childLocation(location: string, property: string): string {
  return `${location}.${property}`;
}

/** Appends an array index to a location. */
export function indexLocation(location: string, index: number): string {
  return `${location}[${index}]`;
}

/**
 * Turns a JSON Pointer (ajv `instancePath`, e.g. `/item/0/answer/1/valueCoding`) into a location
 * under `root` (e.g. `QuestionnaireResponse.item[0].answer[1].valueCoding`).
 * @param root - Location of the pointer's document root, usually the resource type.
 * @param pointer - RFC 6901 pointer; `~1` and `~0` are unescaped.
 * See: https://www.rfc-editor.org/rfc/rfc6901
 */
export function pointerToLocation(root: string, pointer: string): string {
  if (pointer === '') {
    return root;
  }
  let location = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    location = /^(0|[1-9]\d*)$/.test(segment)
      ? indexLocation(location, Number(segment))
      : childLocation(location, segment);
  }
  return location;
}
