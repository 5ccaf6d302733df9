import { natsPermissions, natsServerConfig, redisAclFile, redisKeyPatterns, redisPasswordHash, type InfraUser } from './infra-access';

describe('Redis and NATS access of the bring-up', () => {
  const agent = { kind: 'agent' as const, hostIds: ['host-1-0', 'host-1-1'], tunnelIps: ['127.0.1.1'] };
  const users: InfraUser[] = [
    { name: 'operator', password: 'op-pw', principal: { kind: 'operator' } },
    { name: 'identity', password: 'id-pw', principal: { kind: 'service', service: 'identity' } },
    { name: 'controller', password: 'ctl-pw', principal: { kind: 'service', service: 'controller' } },
    { name: 'agent-1', password: 'ag-pw', principal: agent },
  ];

  it('Redis: the default user has a password nobody keeps; passwords are stored as SHA-256; services lose the dangerous commands', () => {
    const acl = redisAclFile(users, 'thrown-away');
    expect(acl.split('\n')[0]).toBe(`user default on #${redisPasswordHash('thrown-away')} resetkeys ~* &* +@all`);
    expect(redisAclFile(users).split('\n')[0]).not.toBe(acl.split('\n')[0]);
    expect(acl).not.toContain('id-pw');
    expect(acl).toContain(`user identity on #${redisPasswordHash('id-pw')} resetkeys resetchannels ~mc:identity:* +@all -@dangerous +info`);
    expect(acl).toContain(`user operator on #${redisPasswordHash('op-pw')} resetkeys ~* &* +@all`);
  });

  it('Redis: only identity reaches mc:identity:*; the controller reads the HA keys; an agent writes its own hosts\' only', () => {
    expect(redisKeyPatterns({ kind: 'service', service: 'controller' })).toEqual(['~mc:controller:*', '%R~mc:compute-agent:lease:*', '%R~mc:compute-agent:isolation:*']);
    expect(redisKeyPatterns(agent)).toEqual([
      '~mc:compute-agent:lease:host-1-0',
      '~mc:compute-agent:isolation:host-1-0',
      '~mc:compute-agent:lease:host-1-1',
      '~mc:compute-agent:isolation:host-1-1',
      '%R~mc:controller:ha:cluster_view',
    ]);
    for (const u of users.filter((x) => x.name !== 'identity' && x.name !== 'operator')) expect(redisKeyPatterns(u.principal).join(' ')).not.toMatch(/identity|~\*/);
  });

  it('NATS: an agent publishes only its hosts\' heartbeats and reports, reads no tenant events and no other host\'s requests', () => {
    const p = natsPermissions('agent-1', agent)!;
    expect(p.publish.allow).toEqual(expect.arrayContaining(['minicloud.hb.host.host-1-0', 'minicloud.hb.host.host-1-1', 'minicloud.evt.agent.instance.power_state_reported.host-1-0']));
    expect(p.publish.allow.filter((s) => s.startsWith('minicloud.hb.'))).toHaveLength(2);
    // Migration progress only for migrations out of its own hosts (the subject names the source host).
    expect(p.publish.allow.filter((s) => s.startsWith('minicloud.evt.compute.'))).toEqual(['minicloud.evt.compute.migration.progressed.host-1-0', 'minicloud.evt.compute.migration.progressed.host-1-1']);
    expect(p.publish.allow).not.toContain('minicloud.evt.identity.token.revoked');
    expect(p.publish.allow.filter((s) => s.startsWith('$JS.API'))).toEqual(['$JS.API.INFO', '$JS.API.STREAM.INFO.EVENTS']);
    expect(p.subscribe.allow).not.toContain('minicloud.evt.>');
    // FDB updates of its own hosts only (the subject names the host).
    expect(p.subscribe.allow.filter((s) => s.startsWith('minicloud.evt.network.'))).toEqual(['minicloud.evt.network.fdb.updated.host-1-0', 'minicloud.evt.network.fdb.updated.host-1-1']);
    expect(p.subscribe.allow).toEqual(expect.arrayContaining(['minicloud.overlay.trace.host-1-0', 'minicloud.vtep.127.0.1.1', '_INBOX_agent-1.>']));
    expect(p.allow_responses).toBe(true);
  });

  it('NATS: a service publishes its own domain\'s events; only identity publishes revocations; the operator is unrestricted', () => {
    const ctl = natsPermissions('controller', { kind: 'service', service: 'controller' })!;
    expect(ctl.publish.allow).toEqual(expect.arrayContaining(['minicloud.evt.compute.>', 'minicloud.evt.agent.host.registered']));
    expect(ctl.subscribe.allow).toContain('minicloud.hb.host.*');
    expect(ctl.publish.allow.some((s) => s.startsWith('minicloud.evt.identity.') && s !== 'minicloud.evt.identity.audit.recorded')).toBe(false);
    expect(natsPermissions('identity', { kind: 'service', service: 'identity' })!.publish.allow).toContain('minicloud.evt.identity.>');
    const conf = JSON.parse(natsServerConfig(users));
    expect(conf.authorization.users.find((u: { user: string }) => u.user === 'operator')).toEqual({ user: 'operator', password: 'op-pw' });
  });
});
