/**
 * The error `fn` throws, for specs that check several of its fields (class, code, reason, message).
 * @throws Error when `fn` returns instead of throwing, so the spec fails there
 */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw, but it returned');
}
