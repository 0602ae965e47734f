/**
 * How long a wait lasts by default. It only ends a stuck test with a message, never measures
 * speed: `npm test` runs four files at once, beside the benchmark's smoke run, so on two cores
 * what takes half a second alone can take many times that.
 */
export const WAIT_MS = 30_000;

/** Polls `check` until it returns a truthy value or `timeoutMs` passes, then fails with `what`. */

export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = WAIT_MS): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Waits until none of the deliveries to the endpoints at `endpointPaths` (API paths such as
 * `/api/v1/app/{app}/endpoint/{id}`) is pending or being sent. A delivery row is the only way
 * anything reaches an endpoint, so from then on nothing more does until the next publish: what a
 * test then finds missing at a receiver was never going to arrive. `get` reads an API path.
 */
export async function settled(get: (path: string) => Promise<{ body: any }>, endpointPaths: string[], timeoutMs = WAIT_MS): Promise<void> {
  await waitFor('the endpoints\' deliveries to settle', async () => {
    for (const path of endpointPaths) {
      const stats = (await get(`${path}/stats`)).body;
      if (stats.pending !== 0 || stats.sending !== 0) return false;
    }
    return true;
  }, timeoutMs);
}
