import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import { listAll } from '@minicloud/client';
import { paginate } from '../http/pagination';
import { createNetworkBody, createPortBody, createSubnetBody, type CreateNetworkBody, type CreatePortBody, type CreateSubnetBody } from './schemas';
import { filterViews, networkView, portView, projectFields, subnetView } from './views';

/** The Neutron extensions whose attributes and behaviour this front serves. */
export const EXTENSIONS = [
  { alias: 'external-net', name: 'Neutron external network', description: 'Adds external network attribute to network resource.' },
  { alias: 'binding', name: 'Port Binding', description: 'Expose port bindings of a virtual port to external application' },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.' },
].map((e) => ({ ...e, links: [], updated: '2013-01-01T10:00:00-00:00' }));

type Query = Record<string, string | string[] | undefined>;

/**
 * Neutron v2.0 under `/network`: versions, the v2.0 resource index, extensions, and networks,
 * subnets and ports (list with attribute filters, `fields` and limit/marker; show; create; delete).
 */
export async function networkRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const n = deps.backends.network;
  const v2 = (req: FastifyRequest) => `${baseUrl(req, deps.publicUrl)}/network/v2.0`;

  app.get('/', async (req) => ({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${v2(req)}/` }] }] }));

  await app.register(
    async (api) => {
      api.get('/', async (req) => ({
        resources: ['network', 'subnet', 'port'].map((r) => ({ name: r, collection: `${r}s`, links: [{ rel: 'self', href: `${v2(req)}/${r}s` }] })),
      }));
      api.get('/extensions', async () => ({ extensions: EXTENSIONS }));
      api.get<{ Params: { alias: string } }>('/extensions/:alias', async (req) => {
        const e = EXTENSIONS.find((x) => x.alias === req.params.alias);
        if (!e) throw new HttpError(404, `Extension with alias ${req.params.alias} does not exist`, 'ExtensionNotFound');
        return { extension: e };
      });

      /** One Neutron collection: filter and project the views, then page them with `<collection>_links`. */
      const listed = (req: FastifyRequest, collection: string, views: Record<string, unknown>[]) => {
        const query = req.query as Query;
        const page = paginate(filterViews(views, query), (v) => String(v.id), { limit: queryValue(req, 'limit'), marker: queryValue(req, 'marker') });
        const items = page.items.map((v) => projectFields(v, query.fields));
        const next = page.nextMarker ? { [`${collection}_links`]: [{ rel: 'next', href: `${v2(req)}/${collection}?limit=${page.items.length}&marker=${page.nextMarker}` }] } : {};
        return { [collection]: items, ...next };
      };
      const shown = (req: FastifyRequest, view: Record<string, unknown>) => projectFields(view, (req.query as Query).fields);

      api.get('/networks', async (req) => {
        const all = await listAll(async (pageToken) => {
          const res = await n.listNetworks({ page: { pageSize: 1000, pageToken } }, callContext(req));
          return { items: res.networks, next: res.page?.nextPageToken ?? '' };
        });
        return listed(req, 'networks', all.map(networkView));
      });
      api.get<{ Params: { id: string } }>('/networks/:id', async (req) => ({ network: shown(req, networkView((await n.getNetwork({ networkId: req.params.id }, callContext(req))).network!)) }));
      api.post('/networks', { schema: { body: createNetworkBody } }, async (req, reply) => {
        const b = (req.body as CreateNetworkBody).network;
        const res = await n.createNetwork(
          {
            name: b.name ?? '',
            shared: b.shared ?? false,
            routerExternal: b['router:external'] ?? false,
            mtu: b.mtu ?? 0,
            networkType: b['provider:network_type'] ?? '',
            segmentationId: b['provider:segmentation_id'] ?? 0,
            projectId: b.project_id ?? b.tenant_id ?? '',
          },
          callContext(req),
        );
        return reply.code(201).send({ network: networkView(res.network!) });
      });
      api.delete<{ Params: { id: string } }>('/networks/:id', async (req, reply) => {
        await n.deleteNetwork({ networkId: req.params.id }, callContext(req));
        return reply.code(204).send();
      });

      api.get('/subnets', async (req) => {
        const res = await n.listSubnets({ networkId: queryValue(req, 'network_id') ?? '' }, callContext(req));
        return listed(req, 'subnets', res.subnets.map(subnetView));
      });
      api.get<{ Params: { id: string } }>('/subnets/:id', async (req) => ({ subnet: shown(req, subnetView((await n.getSubnet({ subnetId: req.params.id }, callContext(req))).subnet!)) }));
      api.post('/subnets', { schema: { body: createSubnetBody } }, async (req, reply) => {
        const b = (req.body as CreateSubnetBody).subnet;
        const res = await n.createSubnet(
          {
            networkId: b.network_id,
            name: b.name ?? '',
            cidr: b.cidr,
            ipVersion: b.ip_version ?? 4,
            gatewayIp: b.gateway_ip === null ? 'none' : (b.gateway_ip ?? ''),
            allocationPools: b.allocation_pools ?? [],
            dnsNameservers: b.dns_nameservers ?? [],
            hostRoutes: b.host_routes ?? [],
            enableDhcp: b.enable_dhcp ?? true,
          },
          callContext(req),
        );
        return reply.code(201).send({ subnet: subnetView(res.subnet!) });
      });
      api.delete<{ Params: { id: string } }>('/subnets/:id', async (req, reply) => {
        await n.deleteSubnet({ subnetId: req.params.id }, callContext(req));
        return reply.code(204).send();
      });

      api.get('/ports', async (req) => {
        const all = await listAll(async (pageToken) => {
          const res = await n.listPorts(
            { networkId: queryValue(req, 'network_id') ?? '', deviceId: queryValue(req, 'device_id') ?? '', page: { pageSize: 1000, pageToken } },
            callContext(req),
          );
          return { items: res.ports, next: res.page?.nextPageToken ?? '' };
        });
        return listed(req, 'ports', all.map(portView));
      });
      api.get<{ Params: { id: string } }>('/ports/:id', async (req) => ({ port: shown(req, portView((await n.getPort({ portId: req.params.id }, callContext(req))).port!)) }));
      api.post('/ports', { schema: { body: createPortBody } }, async (req, reply) => {
        const b = (req.body as CreatePortBody).port;
        const res = await n.createPort(
          {
            networkId: b.network_id,
            name: b.name ?? '',
            fixedIps: (b.fixed_ips ?? []).map((f) => ({ subnetId: f.subnet_id ?? '', ipAddress: f.ip_address ?? '' })),
            deviceId: b.device_id ?? '',
            deviceOwner: b.device_owner ?? '',
            securityGroupIds: b.security_groups ?? [],
            portSecurityEnabled: b.port_security_enabled,
            macAddress: b.mac_address ?? '',
            projectId: b.project_id ?? b.tenant_id ?? '',
          },
          callContext(req),
        );
        return reply.code(201).send({ port: portView(res.port!) });
      });
      api.delete<{ Params: { id: string } }>('/ports/:id', async (req, reply) => {
        await n.deletePort({ portId: req.params.id }, callContext(req));
        return reply.code(204).send();
      });
    },
    { prefix: '/v2.0' },
  );
}
