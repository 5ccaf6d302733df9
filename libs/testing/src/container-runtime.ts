/** The parts of the 'testcontainers' module we use, loaded lazily so unit tests never pay for it. */
export type TestcontainersModule = typeof import('testcontainers');

let cached: Promise<TestcontainersModule | undefined> | undefined;

/**
 * Resolves the testcontainers module when a container engine (Docker, Podman...) is reachable,
 * otherwise undefined. `getContainerRuntimeClient()` throws at once without an engine; the answer
 * is cached for the life of the process so later suites do not probe again. Set
 * MINICLOUD_TEST_NO_CONTAINERS=1 to skip containers even where an engine exists.
 */
export function containerRuntime(): Promise<TestcontainersModule | undefined> {
  cached ??= detect();
  return cached;
}

async function detect(): Promise<TestcontainersModule | undefined> {
  if (process.env.MINICLOUD_TEST_NO_CONTAINERS === '1') return undefined;
  try {
    const tc = await import('testcontainers');
    await tc.getContainerRuntimeClient();
    return tc;
  } catch {
    return undefined;
  }
}
