import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listAll } from '@minicloud/client';
import type { ApiDeps } from '../deps';
import { baseUrl, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import { neutronResourceRoutes, type NeutronResource } from './resource';
import {
  createNetworkBody,
  createPortBody,
  createSubnetBody,
  updateNetworkBody,
  updatePortBody,
  updateSubnetBody,
  type CreateNetworkBody,
  type CreatePortBody,
  type CreateSubnetBody,
  type UpdateNetworkBody,
  type UpdatePortBody,
  type UpdateSubnetBody,
} from './schemas';
import { quotaRoutes } from './quotas';
import { securityGroupRoutes } from './security-groups';
import { networkView, portView, subnetView } from './views';
import { L3_EXTENSIONS } from './l3-extensions';
import { routerRoutes } from './routers';
import { floatingIpRoutes } from './floating-ips';
import { subnetPoolRoutes } from './subnet-pools';

/** The Neutron extensions whose attributes and behaviour this front serves. */
export const EXTENSIONS = [
  { alias: 'external-net', name: 'Neutron external network', description: 'Adds external network attribute to network resource.' },
  { alias: 'binding', name: 'Port Binding', description: 'Expose port bindings of a virtual port to external application' },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.' },
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.' },
  { alias: 'sorting', name: 'Sorting support', description: 'Enabled sorting support.' },
  { alias: 'pagination', name: 'Pagination support', description: 'Enabled pagination support.' },
  { alias: 'quotas', name: 'Quota management support', description: 'Expose functions for quotas management per project' },
  { alias: 'quota_details', name: 'Quota details management support', description: 'Expose functions for quotas usage statistics per project' },
  ...L3_EXTENSIONS,
].map((e) => ({ ...e, links: [], updated: '2013-01-01T10:00:00-00:00' }));

/** The Neutron resources served, each as its NetworkService calls. */
function resources(deps: ApiDeps): [NeutronResource<CreateNetworkBody, UpdateNetworkBody>, NeutronResource<CreateSubnetBody, UpdateSubnetBody>, NeutronResource<CreatePortBody, UpdatePortBody>] {
  const n = deps.backends.network;
  const network: NeutronResource<CreateNetworkBody, UpdateNetworkBody> = {
    name: 'network',
    list: async (_req, ctx) =>
      (
        await listAll(async (pageToken) => {
          const res = await n.listNetworks({ page: { pageSize: 1000, pageToken } }, ctx);
          return { items: res.networks, next: res.page?.nextPageToken ?? '' };
        })
      ).map(networkView),
    show: async (id, ctx) => networkView((await n.getNetwork({ networkId: id }, ctx)).network!),
    create: {
      schema: createNetworkBody,
      run: async ({ network: b }, ctx) =>
        networkView(
          (
            await n.createNetwork(
              {
                name: b.name ?? '',
                shared: b.shared ?? false,
                routerExternal: b['router:external'] ?? false,
                mtu: b.mtu ?? 0,
                networkType: b['provider:network_type'] ?? '',
                segmentationId: b['provider:segmentation_id'] ?? 0,
                projectId: b.project_id ?? b.tenant_id ?? '',
                description: b.description ?? '',
              },
              ctx,
            )
          ).network!,
        ),
    },
    update: {
      schema: updateNetworkBody,
      run: async (id, { network: b }, ctx) =>
        networkView((await n.updateNetwork({ networkId: id, name: b.name, description: b.description, shared: b.shared, adminStateUp: b.admin_state_up }, ctx)).network!),
    },
    remove: async (id, ctx) => void (await n.deleteNetwork({ networkId: id }, ctx)),
  };
  const subnet: NeutronResource<CreateSubnetBody, UpdateSubnetBody> = {
    name: 'subnet',
    list: async (req, ctx) => (await n.listSubnets({ networkId: queryValue(req, 'network_id') ?? '' }, ctx)).subnets.map(subnetView),
    show: async (id, ctx) => subnetView((await n.getSubnet({ subnetId: id }, ctx)).subnet!),
    create: {
      schema: createSubnetBody,
      run: async ({ subnet: b }, ctx) =>
        subnetView(
          (
            await n.createSubnet(
              {
                networkId: b.network_id,
                name: b.name ?? '',
                cidr: b.cidr ?? '',
                subnetpoolId: b.subnetpool_id ?? '',
                prefixlen: Number(b.prefixlen ?? 0),
                ipVersion: b.ip_version ?? 4,
                gatewayIp: b.gateway_ip === null ? 'none' : (b.gateway_ip ?? ''),
                allocationPools: b.allocation_pools ?? [],
                dnsNameservers: b.dns_nameservers ?? [],
                hostRoutes: b.host_routes ?? [],
                enableDhcp: b.enable_dhcp ?? true,
                description: b.description ?? '',
              },
              ctx,
            )
          ).subnet!,
        ),
    },
    update: {
      schema: updateSubnetBody,
      run: async (id, { subnet: b }, ctx) =>
        subnetView(
          (
            await n.updateSubnet(
              {
                subnetId: id,
                name: b.name,
                gatewayIp: b.gateway_ip === null ? 'none' : b.gateway_ip,
                allocationPools: b.allocation_pools ?? [],
                replaceAllocationPools: b.allocation_pools !== undefined,
                dnsNameservers: b.dns_nameservers ?? [],
                replaceDnsNameservers: b.dns_nameservers !== undefined,
                hostRoutes: b.host_routes ?? [],
                replaceHostRoutes: b.host_routes !== undefined,
                enableDhcp: b.enable_dhcp,
                description: b.description,
              },
              ctx,
            )
          ).subnet!,
        ),
    },
    remove: async (id, ctx) => void (await n.deleteSubnet({ subnetId: id }, ctx)),
  };
  const port: NeutronResource<CreatePortBody, UpdatePortBody> = {
    name: 'port',
    list: async (req, ctx) =>
      (
        await listAll(async (pageToken) => {
          const res = await n.listPorts({ networkId: queryValue(req, 'network_id') ?? '', deviceId: queryValue(req, 'device_id') ?? '', page: { pageSize: 1000, pageToken } }, ctx);
          return { items: res.ports, next: res.page?.nextPageToken ?? '' };
        })
      ).map(portView),
    show: async (id, ctx) => portView((await n.getPort({ portId: id }, ctx)).port!),
    create: {
      schema: createPortBody,
      run: async ({ port: b }, ctx) =>
        portView(
          (
            await n.createPort(
              {
                networkId: b.network_id,
                name: b.name ?? '',
                fixedIps: (b.fixed_ips ?? []).map((f) => ({ subnetId: f.subnet_id ?? '', ipAddress: f.ip_address ?? '' })),
                deviceId: b.device_id ?? '',
                deviceOwner: b.device_owner ?? '',
                securityGroupIds: b.security_groups ?? [],
                explicitSecurityGroups: b.security_groups !== undefined,
                portSecurityEnabled: b.port_security_enabled,
                macAddress: b.mac_address ?? '',
                projectId: b.project_id ?? b.tenant_id ?? '',
                description: b.description ?? '',
              },
              ctx,
            )
          ).port!,
        ),
    },
    update: {
      schema: updatePortBody,
      run: async (id, { port: b }, ctx) =>
        portView(
          (
            await n.updatePort(
              {
                portId: id,
                name: b.name,
                adminStateUp: b.admin_state_up,
                // Neutron's security_groups is the whole list (null or [] clears it)
                securityGroupIds: b.security_groups ?? [],
                replaceSecurityGroups: b.security_groups !== undefined,
                portSecurityEnabled: b.port_security_enabled,
                deviceId: b.device_id,
                deviceOwner: b.device_owner,
                fixedIps: (b.fixed_ips ?? []).map((f) => ({ subnetId: f.subnet_id ?? '', ipAddress: f.ip_address ?? '' })),
                replaceFixedIps: b.fixed_ips !== undefined,
                description: b.description,
              },
              ctx,
            )
          ).port!,
        ),
    },
    remove: async (id, ctx) => void (await n.deletePort({ portId: id }, ctx)),
  };
  return [network, subnet, port];
}

/**
 * Neutron v2.0 under `/network`: versions, the v2.0 resource index, extensions, and networks,
 * subnets and ports ({@link neutronResourceRoutes}: list with attribute filters, `fields` and
 * limit/marker; show; create; delete).
 */
export async function networkRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const v2 = (req: FastifyRequest) => `${baseUrl(req, deps.publicUrl)}/network/v2.0`;
  const served = resources(deps);

  app.get('/', async (req) => ({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${v2(req)}/` }] }] }));

  await app.register(
    async (api) => {
      const l3 = [routerRoutes(api, v2, deps), floatingIpRoutes(api, v2, deps), subnetPoolRoutes(api, v2, deps)];
      api.get('/', async (req) => ({
        resources: [...served, { name: 'security_group', path: 'security-groups' }, { name: 'security_group_rule', path: 'security-group-rules' }, ...l3].map((r) => ({
          name: r.name,
          collection: `${r.name}s`,
          links: [{ rel: 'self', href: `${v2(req)}/${r.path ?? `${r.name}s`}` }],
        })),
      }));
      api.get('/extensions', async () => ({ extensions: EXTENSIONS }));
      api.get<{ Params: { alias: string } }>('/extensions/:alias', async (req) => {
        const e = EXTENSIONS.find((x) => x.alias === req.params.alias);
        if (!e) throw new HttpError(404, `Extension with alias ${req.params.alias} does not exist`, 'ExtensionNotFound');
        return { extension: e };
      });
      neutronResourceRoutes(api, v2, served[0]);
      neutronResourceRoutes(api, v2, served[1]);
      neutronResourceRoutes(api, v2, served[2]);
      securityGroupRoutes(api, v2, deps);
      quotaRoutes(api, deps);
    },
    { prefix: '/v2.0' },
  );
}
