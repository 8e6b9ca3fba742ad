/**
 * Warms the validators of the common types one type per turn of the event loop, after `ready`
 * instead of before it. Most of a type's warm-up is compiling ajv's validator, which only a resource
 * that fails the schema's yes/no check ever needs; a valid request compiles what it needs on the way
 * (as it would for a type not in the list), so it need not wait for all of it. A task that arrives
 * meanwhile runs between two types (it waits for at most the one being warmed), and a warm-up failure
 * is left to the task that meets it.
 * @param types - The types, in order.
 * @param warm - Warms one type.
 * @param done - Called once all are warmed.
 */
export function warmInTurns(types: readonly string[], warm: (type: string) => void, done: () => void): void {
  let next = 0;
  const turn = (): void => {
    if (next >= types.length) {
      done();
      return;
    }
    try {
      warm(types[next++]!);
    } catch {
      // The same work is done again, and its error reported, by the first task that needs it.
    }
    setImmediate(turn);
  };
  setImmediate(turn);
}
