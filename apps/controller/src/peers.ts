import { agent, identity, image, network, volume } from '@minicloud/proto';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';

export type ImageClient = ServiceClient<typeof image.ImageServiceService>;
export type NetworkClient = ServiceClient<typeof network.NetworkServiceService>;
export type IdentityClient = ServiceClient<typeof identity.IdentityServiceService>;
export type VolumeClient = ServiceClient<typeof volume.VolumeServiceService>;
export type HypervisorClient = ServiceClient<typeof agent.HypervisorServiceService>;

/** What the controller needs of its service identity: a token and catalog lookups (ServiceCredentials fits). */
export interface PeerCredentials {
  getToken(): Promise<string>;
  endpoint(serviceType: string): Promise<string>;
}

/**
 * Clients of the services the controller calls, found through the catalog and cached per address:
 * image and network (service token by default; pass `{ token: ctx.token }` to act as the caller) and
 * each agent's HypervisorService (always the service token).
 */
export class Peers {
  private readonly clients = new Map<string, { close(): void }>();

  constructor(
    private readonly creds: PeerCredentials,
    private readonly opts: { agentDeadlineMs: number },
  ) {}

  serviceToken(): Promise<string> {
    return this.creds.getToken();
  }

  image(): Promise<ImageClient> {
    return this.service('image', image.ImageServiceService);
  }

  network(): Promise<NetworkClient> {
    return this.service('network', network.NetworkServiceService);
  }

  identity(): Promise<IdentityClient> {
    return this.service('identity', identity.IdentityServiceService);
  }

  /** Volume service (Cinder's role): attachments for attach/detach and delete. */
  volume(): Promise<VolumeClient> {
    return this.service('volume', volume.VolumeServiceService);
  }

  /** The client of catalog service `type` (the controller's service token), cached per address. */
  private async service<D extends Parameters<typeof createServiceClient>[0]>(type: string, definition: D): Promise<ServiceClient<D>> {
    return this.cached(`${type}@${await this.creds.endpoint(type)}`, (addr) => createServiceClient(definition, addr, { token: () => this.creds.getToken() }) as ServiceClient<D>);
  }

  /** @param endpoint the agent's host:port from its registration */
  agent(endpoint: string): HypervisorClient {
    return this.cached(`agent@${endpoint}`, (addr) =>
      createServiceClient(agent.HypervisorServiceService, addr, {
        token: () => this.creds.getToken(),
        deadlineMs: this.opts.agentDeadlineMs,
        // Commands are idempotent by (instance_id, command) per docs/agent-protocol.md.
        idempotent: ['executeCommand', 'getHostStatus', 'listInstances', 'getConsoleOutput'],
      }),
    );
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private cached<T extends { close(): void }>(key: string, make: (addr: string) => T): T {
    let c = this.clients.get(key) as T | undefined;
    if (!c) {
      c = make(key.slice(key.indexOf('@') + 1));
      this.clients.set(key, c);
    }
    return c;
  }
}
