import type { RequestSpec } from '@minicloud/domain-scheduler';
import { makeInstance } from '../testing/unit-fakes';
import { FailedPreconditionError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { claimElsewhere, claimOnChosenHost, isHostRefusal } from './relocation';

describe('relocation (unit)', () => {
  it("schedules the instance's own flavor away from its host, in its host's zone (not the recorded one), under its group", async () => {
    const specs: RequestSpec[] = [];
    const placement = {
      instanceZone: async (r: { hostId: string }) => (r.hostId === 'h1' ? 'az-agg' : 'nova'),
      placeAll: async (spec: RequestSpec & { instanceUuids: readonly string[] }) => {
        specs.push(spec);
        return new Map([[spec.instanceUuids[0], 'h2']]);
      },
    };
    const r = makeInstance({ vmState: 'active', taskState: null, availabilityZone: 'recorded-long-ago' });
    await expect(claimElsewhere({ instances: { getMany: async () => [] }, placement }, r, '#migration')).resolves.toBe('h2');
    expect(specs[0]).toMatchObject({ numInstances: 1, instanceUuids: ['i-1'], availabilityZone: 'az-agg', schedulerHints: { differentHost: ['i-1'] }, flavor: { vcpus: 1, ramMb: 512 } });
  });

  it('claims an operator-chosen host through the capacity rule and refuses what it lacks', async () => {
    const r = makeInstance({ vmState: 'active', taskState: null });
    const hosts = { find: async (id: string) => ({ hostId: id, enabled: true, state: 'up' }) as never };
    const claims: string[] = [];
    const placement = { claimOn: async (hostId: string, consumer: string) => (claims.push(`${hostId}/${consumer}`), hostId === 'full' ? { ok: false as const, reason: 'ram_mb' as const } : { ok: true as const }) };
    await expect(claimOnChosenHost({ hosts, placement }, r, 'h2', 'i-1#migration')).resolves.toMatchObject({ hostId: 'h2' });
    await expect(claimOnChosenHost({ hosts, placement }, r, 'full', 'i-1#migration')).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: 'host full lacks ram_mb for server i-1' });
    await expect(claimOnChosenHost({ hosts, placement }, r, 'h1', 'i-1#migration')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(claims).toEqual(['h2/i-1#migration', 'full/i-1#migration']);
  });

  it('a host refusal (its resources exhausted, or its memory state low) is one another host may not share; quota or wrong state is not', () => {
    expect(isHostRefusal(new ResourceExhaustedError('host h1 cannot hold 2048 ram_mb', 'host_ram_exhausted'))).toBe(true);
    expect(isHostRefusal(new ResourceExhaustedError('host h1 is in memory state low', 'host_memory_low'))).toBe(true);
    expect(isHostRefusal(new ResourceExhaustedError('Quota exceeded for cores', 'quota_exceeded'))).toBe(false);
    expect(isHostRefusal(new FailedPreconditionError('host h1 cannot run instance i-1', 'cpu_incompatible'))).toBe(false);
    expect(isHostRefusal(new Error('host_memory_low'))).toBe(false);
  });
});
