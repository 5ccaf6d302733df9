import { evaluateIsolation, shutdownPlan } from './isolation';

describe('evaluateIsolation (the agent decides it is isolated)', () => {
  const after = 5000;
  const view = (hostsUp: string[]) => ({ hostsUp });
  const table: [string, { now: number; ok: number; view?: { hostsUp: string[] } }, string, string | null][] = [
    ['round trip just succeeded', { now: 1000, ok: 1000, view: view(['h2']) }, 'connected', null],
    ['round trips failing for less than isolation_after', { now: 5999, ok: 1000, view: view(['h2']) }, 'connected', null],
    ['failing for isolation_after, leader sees others up, not us', { now: 6000, ok: 1000, view: view(['h2', 'h3']) }, 'isolated', null],
    ['failing, but no leader cluster view (no controller would restart)', { now: 9000, ok: 1000 }, 'isolated_unprotected', 'no_cluster_view'],
    ['failing, the leader sees no host up (NATS itself is down for all)', { now: 9000, ok: 1000, view: view([]) }, 'isolated_unprotected', 'no_other_host_up'],
    ['failing, the leader still hears our heartbeats', { now: 9000, ok: 1000, view: view(['h1', 'h2']) }, 'isolated_unprotected', 'controller_hears_us'],
    ['failing, only we are listed (single-host view)', { now: 9000, ok: 1000, view: view(['h1']) }, 'isolated_unprotected', 'controller_hears_us'],
  ];
  it.each(table)('%s', (_n, i, state, why) => {
    const v = evaluateIsolation({ hostId: 'h1', nowMs: i.now, lastRoundTripOkMs: i.ok, clusterView: i.view }, after);
    expect(v.state).toBe(state);
    if (why !== null) expect(v).toMatchObject({ why });
    else expect(v).not.toHaveProperty('why');
  });
});

describe('shutdownPlan (shutdown response: guest shutdown, then power off at the timeout)', () => {
  it('a guest that shuts down within the timeout is off at its shutdown time', () => {
    expect(shutdownPlan(1000, 300_000)).toEqual({ offAfterMs: 1000, reason: 'isolation_shutdown' });
  });
  it('a guest slower than the timeout is powered off at the timeout', () => {
    expect(shutdownPlan(10_000, 2000)).toEqual({ offAfterMs: 2000, reason: 'isolation_power_off' });
  });
});
