/**
 * Stands in for `src/core/validation/schema.ts` in the bot bundle (the build substitutes it), so
 * that neither ajv nor the schema tier is bundled: the bot engine never passes a JSON schema, so
 * the validator never creates the tier. Reaching this is a build or wiring fault.
 */
export function createSchemaTier(): never {
  throw new Error('The JSON-schema validation tier is not part of the re-fhir Medplum bot');
}
