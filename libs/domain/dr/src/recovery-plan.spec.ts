import { mapResource, recoveryWaves } from './recovery-plan';

const ids = (waves: ReturnType<typeof recoveryWaves>) => waves.map((w) => [w.priority, w.servers.map((s) => s.serverId)]);

describe('recoveryWaves (SRM priority groups)', () => {
  it.each<[string, Parameters<typeof recoveryWaves>[0], unknown]>([
    ['empty plan: no waves', [], []],
    ['default priority is 3', [{ groupId: 'g', servers: [{ serverId: 'a' }] }], [[3, ['a']]]],
    [
      'priority 1 before 2 before 5, whatever the group order',
      [
        { groupId: 'g1', servers: [{ serverId: 'web', priority: 5 }, { serverId: 'app', priority: 2 }] },
        { groupId: 'g2', servers: [{ serverId: 'db', priority: 1 }] },
      ],
      [[1, ['db']], [2, ['app']], [5, ['web']]],
    ],
    [
      'start order within a priority, unordered last by group then id',
      [
        { groupId: 'g1', servers: [{ serverId: 'z', priority: 1 }, { serverId: 'b', priority: 1, startOrder: 2 }] },
        { groupId: 'g2', servers: [{ serverId: 'a', priority: 1 }, { serverId: 'c', priority: 1, startOrder: 1 }] },
      ],
      [[1, ['c', 'b', 'z', 'a']]],
    ],
    ['ties broken by id', [{ groupId: 'g', servers: [{ serverId: 'y', priority: 2, startOrder: 0 }, { serverId: 'x', priority: 2, startOrder: 0 }] }], [[2, ['x', 'y']]]],
  ])('%s', (_name, groups, expected) => {
    expect(ids(recoveryWaves(groups))).toEqual(expected);
  });

  it('keeps the group of each server', () => {
    expect(recoveryWaves([{ groupId: 'g9', servers: [{ serverId: 's' }] }])[0].servers[0]).toEqual({ groupId: 'g9', serverId: 's' });
  });

  it.each([
    [[{ groupId: 'g', servers: [{ serverId: 'a', priority: 0 }] }], /priority/],
    [[{ groupId: 'g', servers: [{ serverId: 'a', priority: 6 }] }], /priority/],
    [[{ groupId: 'g', servers: [{ serverId: 'a', priority: 1.5 }] }], /priority/],
    [[{ groupId: 'g', servers: [{ serverId: 'a', startOrder: -1 }] }], /start_order/],
    [[{ groupId: 'g', servers: [{ serverId: 'a' }] }, { groupId: 'h', servers: [{ serverId: 'a' }] }], /server_id/],
  ])('rejects %j', (groups, err) => {
    expect(() => recoveryWaves(groups)).toThrow(err);
  });
});

describe('mapResource', () => {
  it.each<[Record<string, string>, string, boolean, string | RegExp]>([
    [{ n1: 'm1' }, 'n1', false, 'm1'],
    [{}, 'n1', false, 'n1'],
    [{ n1: '' }, 'n1', false, 'n1'],
    [{}, 'n1', true, /network_mapping/],
  ])('%j %s strict=%s -> %s', (mapping, src, strict, expected) => {
    if (expected instanceof RegExp) expect(() => mapResource(mapping, src, 'network', strict)).toThrow(expected);
    else expect(mapResource(mapping, src, 'network', strict)).toBe(expected);
  });
});
