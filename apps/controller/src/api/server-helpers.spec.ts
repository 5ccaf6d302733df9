import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import type { network } from '@minicloud/proto';
import type { ApiDeps } from './api-deps';
import { resolveNetworks, resolveSecurityGroups } from './server-helpers';

/** A network service that answers listNetworks/getNetwork from `nets`, as the caller would see them. */
function peersWith(nets: Partial<network.Network>[]): Pick<ApiDeps, 'peers'> {
  const client = {
    listNetworks: async () => ({ networks: nets }),
    getNetwork: async (r: { networkId: string }) => {
      const n = nets.find((x) => x.id === r.networkId);
      if (!n) throw new NotFoundError('network', r.networkId);
      return { network: { segmentationId: 7, mtu: 1450, ...n } };
    },
  };
  return { peers: { network: async () => client } } as unknown as Pick<ApiDeps, 'peers'>;
}

const ctx = { token: 't', requestId: 'r', auth: { projectId: 'p1', roles: ['member'] } } as never;
const adminCtx = { token: 't', requestId: 'r', auth: { projectId: 'p1', roles: ['admin'], isAdminProject: true } } as never;

describe("resolveNetworks: Nova 2.1's choice when no network is named", () => {
  it("uses the project's one network, or the one shared network", async () => {
    const own = await resolveNetworks(peersWith([{ id: 'mine', name: 'm', projectId: 'p1' }, { id: 'ext', name: 'public', projectId: 'admin', routerExternal: true }]), [], ctx);
    expect(own.map((n) => n.networkId)).toEqual(['mine']);
    const shared = await resolveNetworks(peersWith([{ id: 'sh', name: 's', projectId: 'admin', shared: true }]), [], ctx);
    expect(shared.map((n) => n.networkId)).toEqual(['sh']);
  });

  it('boots with no network when none is available (another project\'s external network does not count)', async () => {
    expect(await resolveNetworks(peersWith([{ id: 'ext', name: 'public', projectId: 'admin', routerExternal: true }]), [], ctx)).toEqual([]);
  });

  it('refuses an ambiguous choice (Nova 409 NetworkAmbiguous) and resolves named networks as before', async () => {
    const two = peersWith([{ id: 'a', name: 'a', projectId: 'p1' }, { id: 'b', name: 'b', projectId: 'admin', shared: true }]);
    await expect(resolveNetworks(two, [], ctx)).rejects.toBeInstanceOf(FailedPreconditionError);
    expect((await resolveNetworks(two, [{ networkId: 'b', fixedIp: '', portId: '' } as never], ctx)).map((n) => n.networkId)).toEqual(['b']);
    await expect(resolveNetworks(two, [{ networkId: 'zz', fixedIp: '', portId: '' } as never], ctx)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("resolveNetworks: the port rules a member's own create_port would meet", () => {
  const nets = peersWith([
    { id: 'ext', name: 'public', projectId: 'admin', routerExternal: true },
    { id: 'ext-shared', name: 'shared-public', projectId: 'admin', routerExternal: true, shared: true },
    { id: 'sh', name: 's', projectId: 'admin', shared: true },
    { id: 'mine', name: 'm', projectId: 'p1' },
  ]);
  const on = (networkId: string, fixedIp = '') => [{ networkId, fixedIp, portId: '' } as never];

  it('a member may not plug a server into an external network that is not shared; an admin may', async () => {
    await expect(resolveNetworks(nets, on('ext'), ctx)).rejects.toMatchObject({ reason: 'external_network_attach_forbidden' });
    expect((await resolveNetworks(nets, on('ext-shared'), ctx)).map((n) => n.networkId)).toEqual(['ext-shared']);
    expect((await resolveNetworks(nets, on('ext'), adminCtx)).map((n) => n.networkId)).toEqual(['ext']);
  });

  it("a fixed IP only on the member's own network, not on another project's, even shared; an admin anywhere", async () => {
    expect((await resolveNetworks(nets, on('mine', '10.0.0.5'), ctx))[0]).toMatchObject({ networkId: 'mine', fixedIp: '10.0.0.5' });
    await expect(resolveNetworks(nets, on('sh', '10.9.0.5'), ctx)).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await resolveNetworks(nets, on('sh', '10.9.0.5'), adminCtx))[0]).toMatchObject({ fixedIp: '10.9.0.5' });
  });
});

describe('resolveSecurityGroups: names or ids among the groups the caller sees', () => {
  const groups = [
    { id: 'g1', name: 'web', projectId: 'p1' },
    { id: 'g2', name: 'web', projectId: 'p2' },
    { id: 'g3', name: 'dup', projectId: 'p1' },
    { id: 'g4', name: 'dup', projectId: 'p1' },
  ];
  const tokens: string[] = [];
  const peers = {
    peers: {
      network: async () => ({
        listSecurityGroups: async (_r: unknown, opts: { token: string }) => {
          tokens.push(opts.token);
          return { securityGroups: groups };
        },
      }),
    },
  } as unknown as Pick<ApiDeps, 'peers'>;

  it("resolves with the caller's token, the caller's project first, ids as they are, duplicates once; none asks nothing", async () => {
    expect(await resolveSecurityGroups(peers, ['web', 'g3', 'g1'], ctx)).toEqual(['g1', 'g3']);
    expect(tokens).toEqual(['t']);
    expect(await resolveSecurityGroups(peers, [], ctx)).toEqual([]);
    expect(tokens).toHaveLength(1);
  });

  it("an unknown name is INVALID_ARGUMENT in Nova's words; a name of several groups is FAILED_PRECONDITION", async () => {
    const err = await resolveSecurityGroups(peers, ['nope'], ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toBe('invalid security_groups: Security group nope not found for project p1.');
    await expect(resolveSecurityGroups(peers, ['dup'], ctx)).rejects.toBeInstanceOf(FailedPreconditionError);
  });
});
