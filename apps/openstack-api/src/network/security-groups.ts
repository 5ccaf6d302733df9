import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '@minicloud/domain-errors';
import type { network } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { invalidField } from '../http/errors';
import { neutronResourceRoutes, type NeutronResource } from './resource';

const id = { type: 'string', minLength: 1, maxLength: 255 } as const;
const text = { type: 'string', maxLength: 255 } as const;
/**
 * A port number or ICMP type/code: Neutron converts a decimal string too; null is "any". The range
 * is the network service's to check (its messages say which port or ICMP value is wrong).
 */
const portValue = { type: ['integer', 'string', 'null'], minimum: -2147483648, maximum: 2147483647, pattern: '^-?[0-9]{1,10}$' } as const;

/** POST /security-groups: neutron-lib's security group attributes (name and description optional). */
export const createSecurityGroupBody = {
  type: 'object',
  required: ['security_group'],
  properties: {
    security_group: {
      type: 'object',
      properties: { name: text, description: text, project_id: id, tenant_id: id, stateful: { type: 'boolean', const: true } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** PUT /security-groups/:id: name and description. */
export const updateSecurityGroupBody = {
  type: 'object',
  required: ['security_group'],
  properties: { security_group: { type: 'object', properties: { name: text, description: text }, additionalProperties: false } },
  additionalProperties: false,
} as const;

/** POST /security-group-rules: neutron-lib's rule attributes; values are checked by the network service. */
export const createSecurityGroupRuleBody = {
  type: 'object',
  required: ['security_group_rule'],
  properties: {
    security_group_rule: {
      type: 'object',
      required: ['security_group_id', 'direction'],
      properties: {
        security_group_id: id,
        direction: { type: 'string', enum: ['ingress', 'egress'] },
        ethertype: { type: 'string', enum: ['IPv4', 'IPv6'] },
        protocol: { type: ['string', 'integer', 'null'], maxLength: 32, minimum: 0, maximum: 255 },
        port_range_min: portValue,
        port_range_max: portValue,
        remote_ip_prefix: { type: ['string', 'null'], maxLength: 64 },
        remote_group_id: { type: ['string', 'null'], maxLength: 255 },
        description: text,
        project_id: id,
        tenant_id: id,
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

interface CreateSecurityGroupBody {
  security_group: { name?: string; description?: string; project_id?: string; tenant_id?: string };
}
interface UpdateSecurityGroupBody {
  security_group: { name?: string; description?: string };
}
interface CreateRuleBody {
  security_group_rule: {
    security_group_id: string;
    direction: string;
    ethertype?: string;
    protocol?: string | number | null;
    port_range_min?: number | string | null;
    port_range_max?: number | string | null;
    remote_ip_prefix?: string | null;
    remote_group_id?: string | null;
    description?: string;
  };
}

/** A rule as Neutron shows it (the owning group's project is the rule's). */
export function securityGroupRuleView(r: network.SecurityGroupRule, projectId: string): Record<string, unknown> {
  return {
    id: r.id,
    security_group_id: r.securityGroupId,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol || null,
    port_range_min: r.portRangeMin ?? null,
    port_range_max: r.portRangeMax ?? null,
    remote_ip_prefix: r.remoteIpPrefix || null,
    remote_group_id: r.remoteGroupId || null,
    remote_address_group_id: null,
    description: r.description,
    tenant_id: projectId,
    project_id: projectId,
    revision_number: 0,
  };
}

/** A security group as Neutron shows it, with its rules. */
export function securityGroupView(g: network.SecurityGroup): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    tenant_id: g.projectId,
    project_id: g.projectId,
    stateful: g.stateful,
    shared: false,
    security_group_rules: g.rules.map((r) => securityGroupRuleView(r, g.projectId)),
    tags: [],
    revision_number: 0,
  };
}

/** A port value from the body: a number, a decimal string, or absent/null for "any". */
function portOf(field: string, v: number | string | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalidField(field, `'${v}' is not an integer.`);
  return n;
}

/**
 * Neutron's security groups (`/v2.0/security-groups`) and rules (`/v2.0/security-group-rules`),
 * over NetworkService's security group calls. A rule is found through the groups the caller sees
 * (the service answers groups with their rules).
 */
export function securityGroupRoutes(api: FastifyInstance, v2: (req: FastifyRequest) => string, deps: ApiDeps): void {
  const n = deps.backends.network;
  const groups: NeutronResource<CreateSecurityGroupBody, UpdateSecurityGroupBody> = {
    name: 'security_group',
    path: 'security-groups',
    list: async (_req, ctx) => (await n.listSecurityGroups({}, ctx)).securityGroups.map(securityGroupView),
    show: async (sgId, ctx) => securityGroupView((await n.getSecurityGroup({ securityGroupId: sgId }, ctx)).securityGroup!),
    create: {
      schema: createSecurityGroupBody,
      run: async ({ security_group: b }, ctx) =>
        securityGroupView((await n.createSecurityGroup({ name: b.name ?? '', description: b.description ?? '', projectId: b.project_id ?? b.tenant_id ?? '' }, ctx)).securityGroup!),
    },
    update: {
      schema: updateSecurityGroupBody,
      run: async (sgId, { security_group: b }, ctx) =>
        securityGroupView((await n.updateSecurityGroup({ securityGroupId: sgId, name: b.name, description: b.description }, ctx)).securityGroup!),
    },
    remove: async (sgId, ctx) => void (await n.deleteSecurityGroup({ securityGroupId: sgId }, ctx)),
  };
  const allRules = async (ctx: Parameters<typeof n.listSecurityGroups>[1]) =>
    (await n.listSecurityGroups({}, ctx)).securityGroups.flatMap((g) => g.rules.map((r) => securityGroupRuleView(r, g.projectId)));
  const rules: NeutronResource<CreateRuleBody> = {
    name: 'security_group_rule',
    path: 'security-group-rules',
    list: async (_req, ctx) => allRules(ctx),
    show: async (ruleId, ctx) => {
      const rule = (await allRules(ctx)).find((r) => r.id === ruleId);
      if (!rule) throw new NotFoundError('security_group_rule', ruleId);
      return rule;
    },
    create: {
      schema: createSecurityGroupRuleBody,
      run: async ({ security_group_rule: b }, ctx) => {
        const res = await n.createSecurityGroupRule(
          {
            rule: {
              id: '',
              securityGroupId: b.security_group_id,
              direction: b.direction,
              ethertype: b.ethertype ?? 'IPv4',
              protocol: b.protocol === null || b.protocol === undefined ? '' : String(b.protocol),
              portRangeMin: portOf('port_range_min', b.port_range_min),
              portRangeMax: portOf('port_range_max', b.port_range_max),
              remoteIpPrefix: b.remote_ip_prefix ?? '',
              remoteGroupId: b.remote_group_id ?? '',
              description: b.description ?? '',
            },
          },
          ctx,
        );
        const group = (await n.getSecurityGroup({ securityGroupId: b.security_group_id }, ctx)).securityGroup!;
        return securityGroupRuleView(res.rule!, group.projectId);
      },
    },
    remove: async (ruleId, ctx) => void (await n.deleteSecurityGroupRule({ ruleId }, ctx)),
  };
  neutronResourceRoutes(api, v2, groups);
  neutronResourceRoutes(api, v2, rules);
}
