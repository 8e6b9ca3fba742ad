/** Injected clock, so output is deterministic under test. */
export type Clock = () => Date;

/** Injected generator of UUIDs (lower-case, without the `urn:uuid:` prefix). */
export type IdGenerator = () => string;
