import { InvalidArgumentError, PermissionDeniedError } from '@minicloud/domain-errors';
import { network } from '@minicloud/proto';
import { assertActsForHost, isCloudAdmin } from '@minicloud/platform-auth';
import { service, type ServiceRegistration, withInputLimits } from '@minicloud/platform-grpc';
import type { L2pop } from '../l2pop';
import type { Networks } from '../networks';
import type { Ports } from '../ports';
import type { SecurityGroups } from '../security-groups';
import type { Subnets } from '../subnets';
import type { FloatingIps } from '../floating-ips';
import type { Routers } from '../routers';
import type { SubnetPools } from '../subnet-pools';
import type { Tracer } from '../tracer';
import type { NetworkQuotas } from '../quotas';
import { callerOf, paginate, routesChangeOf, toFdbEntry, toFloatingIp, toInterfaceChange, toNetwork, toPort, toRouter, toRule, toSecurityGroup, toSubnet, toSubnetPool } from './mapping';

export interface NetworkLogic {
  networks: Networks;
  subnets: Subnets;
  subnetPools: SubnetPools;
  ports: Ports;
  securityGroups: SecurityGroups;
  l2pop: L2pop;
  routers: Routers;
  floatingIps: FloatingIps;
  tracer: Tracer;
  quotas: NetworkQuotas;
}

/** The gRPC registration of minicloud.network.v1.NetworkService over the logic classes. */
export function networkServiceRegistration(l: NetworkLogic): ServiceRegistration {
  const withSubnets = async (n: Parameters<typeof toNetwork>[0]) => toNetwork(n, (await l.subnets.listOfNetwork(n.id)).map((s) => s.id));
  return service({
    definition: network.NetworkServiceService,
    handlers: withInputLimits(network.NetworkServiceService, {
      createNetwork: async (req, ctx) => ({ network: await withSubnets(await l.networks.create(req, callerOf(ctx))) }),
      getNetwork: async (req, ctx) => ({ network: await withSubnets((await l.networks.get(req.networkId, callerOf(ctx))).value) }),
      listNetworks: async (req, ctx) => {
        const page = paginate(await l.networks.list(callerOf(ctx), req.name), req.page);
        return { networks: await Promise.all(page.items.map(withSubnets)), page: { nextPageToken: page.nextPageToken } };
      },
      updateNetwork: async (req, ctx) => ({
        network: await withSubnets(await l.networks.update(req.networkId, { name: req.name, description: req.description, shared: req.shared, adminStateUp: req.adminStateUp }, callerOf(ctx))),
      }),
      deleteNetwork: async (req, ctx) => {
        await l.ports.deleteNetwork(req.networkId, callerOf(ctx));
        return {};
      },

      createSubnet: async (req, ctx) => ({ subnet: toSubnet(await l.subnets.create(req, callerOf(ctx))) }),
      getSubnet: async (req, ctx) => ({ subnet: toSubnet((await l.subnets.get(req.subnetId, callerOf(ctx))).value) }),
      listSubnets: async (req, ctx) => ({ subnets: (await l.subnets.list(callerOf(ctx), req.networkId)).map(toSubnet) }),
      updateSubnet: async (req, ctx) => ({ subnet: toSubnet(await l.subnets.update(req.subnetId, req, callerOf(ctx))) }),
      deleteSubnet: async (req, ctx) => {
        await l.subnets.delete(req.subnetId, callerOf(ctx));
        return {};
      },
      createSubnetPool: async (req, ctx) => ({ subnetPool: toSubnetPool(await l.subnetPools.create(req, callerOf(ctx))) }),
      getSubnetPool: async (req, ctx) => ({ subnetPool: toSubnetPool((await l.subnetPools.get(req.subnetPoolId, callerOf(ctx))).value) }),
      listSubnetPools: async (_req, ctx) => ({ subnetPools: (await l.subnetPools.list(callerOf(ctx))).map(toSubnetPool) }),
      updateSubnetPool: async (req, ctx) => ({ subnetPool: toSubnetPool(await l.subnetPools.update(req.subnetPoolId, req, callerOf(ctx))) }),
      deleteSubnetPool: async (req, ctx) => {
        await l.subnetPools.delete(req.subnetPoolId, callerOf(ctx));
        return {};
      },

      createPort: async (req, ctx) => ({ port: toPort(await l.ports.create(req, callerOf(ctx)), isCloudAdmin(ctx.auth)) }),
      getPort: async (req, ctx) => ({ port: toPort((await l.ports.get(req.portId, callerOf(ctx))).value, isCloudAdmin(ctx.auth)) }),
      listPorts: async (req, ctx) => {
        const page = paginate(await l.ports.list(callerOf(ctx), req), req.page);
        return { ports: page.items.map((p) => toPort(p, isCloudAdmin(ctx.auth))), page: { nextPageToken: page.nextPageToken } };
      },
      updatePort: async (req, ctx) => ({ port: toPort(await l.ports.update(req.portId, req, callerOf(ctx)), isCloudAdmin(ctx.auth)) }),
      deletePort: async (req, ctx) => {
        const caller = callerOf(ctx);
        await l.ports.delete(req.portId, caller);
        await l.floatingIps.portDeleted(req.portId, caller.requestId);
        return {};
      },
      bindPort: async (req, ctx) => ({ port: toPort(await l.ports.bind(req.portId, req, callerOf(ctx)), true) }),
      unbindPort: async (req, ctx) => ({ port: toPort(await l.ports.unbind(req.portId, callerOf(ctx)), true) }),

      createSecurityGroup: async (req, ctx) => ({ securityGroup: toSecurityGroup(await l.securityGroups.create(req, callerOf(ctx))) }),
      getSecurityGroup: async (req, ctx) => ({ securityGroup: toSecurityGroup(await l.securityGroups.get(req.securityGroupId, callerOf(ctx))) }),
      listSecurityGroups: async (_req, ctx) => ({ securityGroups: (await l.securityGroups.list(callerOf(ctx))).map(toSecurityGroup) }),
      updateSecurityGroup: async (req, ctx) => ({
        securityGroup: toSecurityGroup(await l.securityGroups.update(req.securityGroupId, { name: req.name, description: req.description }, callerOf(ctx))),
      }),
      deleteSecurityGroup: async (req, ctx) => {
        await l.securityGroups.delete(req.securityGroupId, callerOf(ctx));
        return {};
      },
      createSecurityGroupRule: async (req, ctx) => {
        const r = req.rule ?? network.SecurityGroupRule.fromPartial({});
        return { rule: toRule(await l.securityGroups.createRule(r, callerOf(ctx))) };
      },
      deleteSecurityGroupRule: async (req, ctx) => {
        await l.securityGroups.deleteRule(req.ruleId, callerOf(ctx));
        return {};
      },

      createRouter: async (req, ctx) => {
        const gateway = req.externalNetworkId ? { externalNetworkId: req.externalNetworkId, enableSnat: req.enableSnat ?? true, externalFixedIps: req.externalFixedIps } : null;
        return { router: toRouter(await l.routers.create({ name: req.name, adminStateUp: req.adminStateUp ?? true, gateway, projectId: req.projectId }, callerOf(ctx))) };
      },
      getRouter: async (req, ctx) => ({ router: toRouter((await l.routers.get(req.routerId, callerOf(ctx))).value) }),
      listRouters: async (_req, ctx) => ({ routers: (await l.routers.list(callerOf(ctx))).map(toRouter) }),
      updateRouter: async (req, ctx) => ({ router: toRouter(await l.routers.update(req.routerId, { name: req.name, adminStateUp: req.adminStateUp, routes: routesChangeOf(req) }, callerOf(ctx))) }),
      deleteRouter: async (req, ctx) => {
        await l.routers.delete(req.routerId, callerOf(ctx));
        return {};
      },
      addRouterInterface: async (req, ctx) => toInterfaceChange(await l.routers.addInterface(req.routerId, { subnetId: req.subnetId, portId: req.portId }, callerOf(ctx))),
      removeRouterInterface: async (req, ctx) => toInterfaceChange(await l.routers.removeInterface(req.routerId, { subnetId: req.subnetId, portId: req.portId }, callerOf(ctx))),
      setRouterGateway: async (req, ctx) => ({
        router: toRouter(await l.routers.setGateway(req.routerId, { externalNetworkId: req.externalNetworkId, enableSnat: req.enableSnat, externalFixedIps: req.externalFixedIps }, callerOf(ctx))),
      }),
      createFloatingIp: async (req, ctx) => ({ floatingIp: toFloatingIp(await l.floatingIps.create(req, callerOf(ctx))) }),
      getFloatingIp: async (req, ctx) => ({ floatingIp: toFloatingIp((await l.floatingIps.get(req.floatingIpId, callerOf(ctx))).value) }),
      listFloatingIps: async (_req, ctx) => ({ floatingIps: (await l.floatingIps.list(callerOf(ctx))).map(toFloatingIp) }),
      updateFloatingIp: async (req, ctx) => ({ floatingIp: toFloatingIp(await l.floatingIps.update(req.floatingIpId, req.portId, req.fixedIpAddress, callerOf(ctx))) }),
      deleteFloatingIp: async (req, ctx) => {
        await l.floatingIps.delete(req.floatingIpId, callerOf(ctx));
        return {};
      },
      getQuotaUsage: async (req, ctx) => {
        const caller = callerOf(ctx);
        if (req.projectId.length > 255) throw new InvalidArgumentError('project_id', `is ${req.projectId.length} long, more than 255`);
        const projectId = req.projectId || caller.projectId;
        if (projectId !== caller.projectId && !caller.isAdmin) throw new PermissionDeniedError("reading another project's quota usage requires role admin");
        return { projectId, inUse: await l.quotas.usage(projectId) };
      },
      tracePacket: async (req, ctx) => {
        const r = await l.tracer.trace(req, callerOf(ctx));
        return { hops: r.hops.map((h) => ({ stage: h.stage, hostId: h.hostId, description: h.description, fields: { ...h.fields } })), delivered: r.delivered, dropReason: r.dropReason };
      },
      checkPortIngress: async (req, ctx) => {
        const d = await l.tracer.checkIngress({ portId: req.portId, remoteIp: req.remoteIp, protocol: req.protocol, dstPort: req.dstPort }, (hostId) =>
          assertActsForHost(ctx.auth, hostId, 'port_id'),
        );
        return { allowed: d.allowed, ruleId: d.ruleId ?? '', description: d.description };
      },

      // A compute agent registers and reads only its own hosts' VTEP and FDB (its account's host ids).
      registerVtep: async (req, ctx) => {
        assertActsForHost(ctx.auth, req.hostId, 'host_id');
        const r = await l.l2pop.registerVtep(req.hostId, req.tunnelIp, req.udpPort, ctx.requestId);
        return { fdb: r.fdb.map(toFdbEntry), fdbGeneration: r.fdbGeneration, localPorts: r.localPorts.map(toFdbEntry), floatingIps: r.floatingIps };
      },
      getHostFdb: async (req, ctx) => {
        assertActsForHost(ctx.auth, req.hostId, 'host_id');
        const r = await l.l2pop.hostFdb(req.hostId);
        return { fdb: r.fdb.map(toFdbEntry), fdbGeneration: r.fdbGeneration, localPorts: r.localPorts.map(toFdbEntry), floatingIps: r.floatingIps };
      },
    }),
  });
}
