import { FailedPreconditionError, UnavailableError } from '@minicloud/domain-errors';
import type { agent } from '@minicloud/proto';
import { failoverRegistry } from './wire';

describe('failoverRegistry (RegisterHost over every controller replica in the catalog)', () => {
  const answer = (epoch: number) => ({ epoch, heartbeatIntervalMs: 1, leaseTtlMs: 1, selfFenceAfterMs: 1, destroyInstanceIds: [] }) as agent.RegisterHostResponse;

  function replicas(behaviour: Record<string, () => agent.RegisterHostResponse>) {
    const calls: string[] = [];
    const reg = failoverRegistry(
      (url) => ({
        close: () => undefined,
        registerHost: async () => {
          calls.push(url);
          return behaviour[url]();
        },
      }),
      async () => Object.keys(behaviour),
    );
    return { reg, calls };
  }
  const dead = () => {
    throw new UnavailableError('No connection established');
  };

  it('moves past a dead replica, then keeps using the one that answered', async () => {
    const { reg, calls } = replicas({ 'c1:1': dead, 'c2:1': () => answer(7) });
    expect((await reg.registerHost({})).epoch).toBe(7);
    expect((await reg.registerHost({})).epoch).toBe(7);
    expect(calls).toEqual(['c1:1', 'c2:1', 'c2:1']);
  });

  it('throws the first UNAVAILABLE when no replica answers, and any other error at once', async () => {
    await expect(replicas({ 'c1:1': dead, 'c2:1': dead }).reg.registerHost({})).rejects.toBeInstanceOf(UnavailableError);
    const refused = replicas({ 'c1:1': () => { throw new FailedPreconditionError('no', 'x'); }, 'c2:1': () => answer(1) });
    await expect(refused.reg.registerHost({})).rejects.toBeInstanceOf(FailedPreconditionError);
    expect(refused.calls).toEqual(['c1:1']);
  });
});
