/** Polls `condition` until it holds; returns how long that took, or fails naming `what`. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return Date.now() - started;
}

/**
 * Retries `assertion` until it passes. On time-out it fails with the assertion's last error, not
 * a generic one: an `expect` failure says what was expected and what was seen.
 */
export async function eventuallyPasses(assertion: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> {
  let lastError: unknown;
  const passes = async () => {
    try {
      await assertion();
      return true;
    } catch (error) {
      lastError = error;
      return false;
    }
  };
  await eventually(passes, timeoutMs).catch(() => {
    throw lastError;
  });
}
