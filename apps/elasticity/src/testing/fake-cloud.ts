import { NotFoundError } from '@minicloud/domain-errors';
import type { CloudPort, ServerInfo, SubnetInfo } from '../cloud-port';
import type { LaunchTemplate } from '../store/records';

/**
 * An in-memory stand-in for the network and compute services' public APIs (tests only). Tokens are
 * mapped to projects by `tokenProject`, so a subnet or private flavor of another project is
 * NOT_FOUND as the real services answer.
 */
export class FakeCloud implements CloudPort {
  readonly subnets = new Map<string, SubnetInfo>();
  readonly flavors = new Map<string, { id: string; vcpus: number }>();
  readonly servers = new Map<string, ServerInfo & { metadata: Record<string, string>; template: LaunchTemplate }>();
  private seq = 0;

  constructor(private readonly tokenProject: (token: string | undefined) => string) {}

  async getSubnet(token: string | undefined, subnetId: string): Promise<SubnetInfo> {
    const s = this.subnets.get(subnetId);
    if (!s || s.projectId !== this.tokenProject(token)) throw new NotFoundError('subnet', subnetId);
    return s;
  }

  async getFlavor(_token: string | undefined, flavorRef: string) {
    const f = this.flavors.get(flavorRef);
    if (!f) throw new NotFoundError('flavor', flavorRef);
    return f;
  }

  async createServer(name: string, template: LaunchTemplate, metadata: Record<string, string>): Promise<ServerInfo> {
    const n = ++this.seq;
    const s = { id: `srv-${n}`, vmState: 'active', availabilityZone: n % 2 ? 'az-1' : 'az-2', addresses: [`10.0.0.${100 + n}`], metadata: { ...metadata }, template };
    this.servers.set(s.id, s);
    return s;
  }

  async getServer(serverId: string): Promise<ServerInfo | null> {
    return this.servers.get(serverId) ?? null;
  }

  async deleteServer(serverId: string): Promise<void> {
    this.servers.delete(serverId);
  }

  async setServerMetadata(serverId: string, metadata: Record<string, string>): Promise<void> {
    const s = this.servers.get(serverId);
    if (s) Object.assign(s.metadata, metadata);
  }
}
