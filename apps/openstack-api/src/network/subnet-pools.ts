import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { network } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';
import { neutronResourceRoutes, type NeutronResource, type NeutronView } from './resource';
import { createBody } from './schemas';
import { neutronTime } from './views';

const prefixes = { type: 'array', minItems: 1, maxItems: 128, items: { type: 'string', minLength: 1, maxLength: 64 } } as const;
/** A prefix length, as an integer or its decimal string (neutron-lib's convert_to_int). */
const prefixlen = { anyOf: [{ type: 'integer', minimum: 0, maximum: 32 }, { type: 'string', pattern: '^[0-9]{1,2}$' }] } as const;
const int = (v: number | string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

/** Neutron's POST /subnetpools body (subnet_allocation; IPv4 pools only). */
export const createSubnetPoolBody = createBody('subnetpool', ['prefixes'], {
  name: { type: 'string', maxLength: 255 },
  prefixes,
  default_prefixlen: prefixlen,
  min_prefixlen: prefixlen,
  max_prefixlen: prefixlen,
  shared: { type: 'boolean' },
  is_default: { type: 'boolean' },
});

/** Neutron's PUT /subnetpools/{id} body. */
export const updateSubnetPoolBody = {
  type: 'object',
  required: ['subnetpool'],
  properties: {
    subnetpool: {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 255 },
        prefixes,
        default_prefixlen: prefixlen,
        min_prefixlen: prefixlen,
        max_prefixlen: prefixlen,
        is_default: { type: 'boolean' },
        description: { type: 'string', maxLength: 255 },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** The parsed POST /subnetpools body. */
export interface CreateSubnetPoolBody {
  subnetpool: {
    name?: string;
    prefixes: string[];
    default_prefixlen?: number | string;
    min_prefixlen?: number | string;
    max_prefixlen?: number | string;
    shared?: boolean;
    is_default?: boolean;
    project_id?: string;
    tenant_id?: string;
  };
}

interface UpdateSubnetPoolBody {
  subnetpool: { name?: string; prefixes?: string[]; default_prefixlen?: number | string; min_prefixlen?: number | string; max_prefixlen?: number | string; is_default?: boolean };
}

/** A subnet pool as Neutron shows it (no address scopes or quotas: null / none). */
export function subnetPoolView(p: network.SubnetPool): NeutronView {
  return {
    id: p.id,
    name: p.name,
    tenant_id: p.projectId,
    project_id: p.projectId,
    prefixes: p.prefixes,
    default_prefixlen: p.defaultPrefixlen,
    min_prefixlen: p.minPrefixlen,
    max_prefixlen: p.maxPrefixlen,
    shared: p.shared,
    is_default: p.isDefault,
    ip_version: p.ipVersion || 4,
    address_scope_id: null,
    default_quota: null,
    description: '',
    tags: [],
    created_at: neutronTime(p.createdAt),
    updated_at: neutronTime(p.createdAt),
    revision_number: 1,
  };
}

/** Subnet pools as NetworkService subnet pool calls. */
function subnetPoolResource(deps: ApiDeps): NeutronResource<CreateSubnetPoolBody> {
  const n = deps.backends.network;
  return {
    name: 'subnetpool',
    list: async (_req, ctx) => (await n.listSubnetPools({}, ctx)).subnetPools.map(subnetPoolView),
    show: async (subnetPoolId, ctx) => subnetPoolView((await n.getSubnetPool({ subnetPoolId }, ctx)).subnetPool!),
    create: {
      schema: createSubnetPoolBody,
      run: async ({ subnetpool: b }, ctx) =>
        subnetPoolView(
          (
            await n.createSubnetPool(
              {
                name: b.name ?? '',
                prefixes: b.prefixes,
                defaultPrefixlen: int(b.default_prefixlen),
                minPrefixlen: int(b.min_prefixlen),
                maxPrefixlen: int(b.max_prefixlen),
                shared: b.shared ?? false,
                isDefault: b.is_default ?? false,
                projectId: b.project_id ?? b.tenant_id ?? '',
              },
              ctx,
            )
          ).subnetPool!,
        ),
    },
    remove: async (subnetPoolId, ctx) => void (await n.deleteSubnetPool({ subnetPoolId }, ctx)),
  };
}

/**
 * Neutron's subnet pools under /v2.0: list (filters, fields, paging), show, create, delete
 * ({@link neutronResourceRoutes}); PUT (name, prefixes that only grow, prefix lengths, is_default).
 */
export function subnetPoolRoutes(api: FastifyInstance, v2Url: (req: FastifyRequest) => string, deps: ApiDeps): NeutronResource<CreateSubnetPoolBody> {
  const n = deps.backends.network;
  const resource = subnetPoolResource(deps);
  neutronResourceRoutes(api, v2Url, resource);
  api.put<{ Params: { id: string }; Body: UpdateSubnetPoolBody }>('/subnetpools/:id', { schema: { body: updateSubnetPoolBody } }, async (req) => {
    const b = req.body.subnetpool;
    const res = await n.updateSubnetPool(
      { subnetPoolId: req.params.id, name: b.name, prefixes: b.prefixes ?? [], defaultPrefixlen: int(b.default_prefixlen), minPrefixlen: int(b.min_prefixlen), maxPrefixlen: int(b.max_prefixlen), isDefault: b.is_default },
      callContext(req),
    );
    return { subnetpool: subnetPoolView(res.subnetPool!) };
  });
  return resource;
}
