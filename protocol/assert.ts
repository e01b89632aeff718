// Internal invariants. A failed assert is a bug in this code, never bad input: bad
// input is a Rejection with a reason code, answered and dropped. Machines let an
// AssertionError through (the driver stops the process rather than persist or send
// anything after it), where they swallow a Rejection.

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
