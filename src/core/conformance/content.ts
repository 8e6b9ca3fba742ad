import type { Resource } from '@medplum/fhirtypes';

// Every shipped artefact in profiles/ and valuesets/, imported statically so that bundlers
// (the library build, the Medplum bot) inline them. test/core/conformance/content.test.ts fails
// when a file on disk is missing here. Keep the list sorted by path.

/** The shipped conformance resources (definitions and terminology; not the examples). */
export const CONTENT: readonly Resource[] = [];
