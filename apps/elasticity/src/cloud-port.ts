import { compute, network } from '@minicloud/proto';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';
import type { LaunchTemplate } from './store/records';

/** What the elasticity service needs of a subnet. */
export interface SubnetInfo {
  readonly id: string;
  readonly projectId: string;
  readonly cidr: string;
}

/** What it needs of a server. `vmState` is Nova's (building, active, stopped, error, ...). */
export interface ServerInfo {
  readonly id: string;
  readonly vmState: string;
  readonly availabilityZone: string;
  readonly addresses: readonly string[];
}

/**
 * The other services' public APIs as the elasticity service uses them (Octavia's and Senlin's
 * network and compute drivers). Reads that check what a tenant may see take the caller's token, so
 * another project's subnet or a private flavor the caller cannot use is NOT_FOUND; server writes
 * use the service's own credentials.
 */
export interface CloudPort {
  /** @throws NotFoundError('subnet', id) when the caller cannot see it */
  getSubnet(userToken: string | undefined, subnetId: string): Promise<SubnetInfo>;
  /** @throws NotFoundError('flavor', ref) when the caller cannot use it */
  getFlavor(userToken: string | undefined, flavorRef: string): Promise<{ id: string; vcpus: number }>;
  /** Creates one server from the template; `metadata` carries the group's tags and the workload. */
  createServer(name: string, template: LaunchTemplate, metadata: Record<string, string>): Promise<ServerInfo>;
  /** The server, or null when it is gone. */
  getServer(serverId: string): Promise<ServerInfo | null>;
  /** Deletes a server (gone already: no-op). */
  deleteServer(serverId: string): Promise<void>;
  /** Sets server metadata (the workload the hypervisor model applies). */
  setServerMetadata(serverId: string, metadata: Record<string, string>): Promise<void>;
}

const VM_STATES: Record<number, string> = {
  [compute.VmState.VM_STATE_BUILDING]: 'building',
  [compute.VmState.VM_STATE_ACTIVE]: 'active',
  [compute.VmState.VM_STATE_STOPPED]: 'stopped',
  [compute.VmState.VM_STATE_PAUSED]: 'paused',
  [compute.VmState.VM_STATE_SUSPENDED]: 'suspended',
  [compute.VmState.VM_STATE_ERROR]: 'error',
  [compute.VmState.VM_STATE_DELETED]: 'deleted',
};

function toServerInfo(s: compute.Server): ServerInfo {
  return { id: s.id, vmState: VM_STATES[s.vmState] ?? 'unknown', availabilityZone: s.availabilityZone, addresses: s.addresses.map((a) => a.ipAddress) };
}

const isNotFound = (e: unknown) => e instanceof Error && e.name === 'NotFoundError';

/**
 * {@link CloudPort} over the network and compute services' gRPC APIs; `endpoint(type)` resolves
 * through the catalog and `serviceToken()` is the elasticity service user's token.
 */
export function grpcCloudPort(opts: { endpoint: (serviceType: string) => Promise<string>; serviceToken: () => Promise<string> }): CloudPort & { close(): void } {
  let net: ServiceClient<typeof network.NetworkServiceService> | undefined;
  let cmp: ServiceClient<typeof compute.ComputeServiceService> | undefined;
  const networkClient = async () => (net ??= createServiceClient(network.NetworkServiceService, await opts.endpoint('network'), { deadlineMs: 30_000 }));
  const computeClient = async () => (cmp ??= createServiceClient(compute.ComputeServiceService, await opts.endpoint('compute'), { deadlineMs: 60_000 }));
  const svc = async () => ({ token: await opts.serviceToken() });
  return {
    async getSubnet(userToken, subnetId) {
      const { subnet } = await (await networkClient()).getSubnet({ subnetId }, { token: userToken ?? '' });
      return { id: subnet!.id, projectId: subnet!.projectId, cidr: subnet!.cidr };
    },
    async getFlavor(userToken, flavorRef) {
      const { flavor } = await (await computeClient()).getFlavor({ flavorRef }, { token: userToken ?? '' });
      return { id: flavor!.id, vcpus: flavor!.vcpus };
    },
    async createServer(name, t, metadata) {
      const { servers } = await (await computeClient()).createServer(
        {
          name,
          flavorRef: t.flavorId,
          imageRef: t.imageId,
          networks: t.networkIds.map((networkId) => ({ networkId, portId: '', fixedIp: '' })),
          securityGroups: [...t.securityGroupIds],
          userData: t.userData,
          keyName: t.keyName,
          metadata,
          minCount: 1,
          maxCount: 1,
        },
        await svc(),
      );
      return toServerInfo(servers[0]);
    },
    async getServer(serverId) {
      try {
        const { server } = await (await computeClient()).getServer({ serverId }, await svc());
        return server ? toServerInfo(server) : null;
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async deleteServer(serverId) {
      try {
        await (await computeClient()).deleteServer({ serverId, force: false }, await svc());
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
    async setServerMetadata(serverId, metadata) {
      await (await computeClient()).updateServer({ serverId, setMetadata: metadata }, await svc());
    },
    close() {
      net?.close();
      cmp?.close();
    },
  };
}
