import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext } from '../http/context';
import { VOLUME_MAX_VERSION, VOLUME_MIN_VERSION, negotiateVolumeVersion } from './microversion';
import { backupRoutes } from './backups';
import { qosSpecsRoutes } from './qos-specs';
import { quotaRoutes } from './quotas';
import { snapshotRoutes, typeRoutes } from './snapshots';
import { volumeRoutesV3 } from './volumes';

/** Cinder's v3 version document at `versionedUrl` (…/volume/v3). */
function v3Version(versionedUrl: string): Record<string, unknown> {
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: VOLUME_MAX_VERSION,
    min_version: VOLUME_MIN_VERSION,
    updated: '2016-02-08T12:20:21Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${versionedUrl}/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

/** The extensions Cinder lists whose attributes or actions this front serves. */
const EXTENSIONS = [
  ['AvailabilityZones', 'os-availability-zone', 'Describe Availability Zones.'],
  ['Backups', 'backups', 'Backups support.'],
  ['Hosts', 'os-hosts', 'Admin-only host administration.'],
  ['ExtendedSnapshotAttributes', 'os-extended-snapshot-attributes', 'Extended SnapshotAttributes support.'],
  ['Qos_specs_manage', 'qos-specs', 'QoS specs support.'],
  ['Quotas', 'os-quota-sets', 'Quota management support.'],
  ['TypesExtraSpecs', 'os-types-extra-specs', 'Type extra specs support.'],
  ['TypesManage', 'os-types-manage', 'Types manage support.'],
  ['VolumeActions', 'os-volume-actions', 'Enable volume actions.'],
  ['VolumeHostAttribute', 'os-vol-host-attr', 'Expose host as an attribute of a volume.'],
  ['VolumeTenantAttribute', 'os-vol-tenant-attr', 'Expose the internal project_id as an attribute of a volume.'],
  ['VolumeTypeAccess', 'os-volume-type-access', 'Volume type access support.'],
];

/**
 * Cinder v3 under `/volume`: the versions list (300) and the v3 version document, and under
 * `/volume/v3/{project_id}` (the catalog's URL; the token, not the URL, decides the project) with
 * microversion negotiation (3.0; Cinder's headers on every answer): volumes and their actions,
 * snapshots, backups, volume types and extra specs, QoS specs (admin), limits, quota sets, availability zones, os-hosts (admin),
 * extensions.
 */
export async function volumeRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const versioned = (req: FastifyRequest) => `${baseUrl(req, deps.publicUrl)}/volume/v3`;
  app.get('/', async (req, reply) => reply.code(300).send({ versions: [v3Version(versioned(req))] }));
  app.get('/v3', async (req) => ({ versions: [v3Version(versioned(req))] }));

  await app.register(
    async (v3) => {
      v3.addHook('onRequest', async (req, reply) => {
        reply.header('openstack-api-version', `volume ${VOLUME_MIN_VERSION}`).header('vary', 'OpenStack-API-Version');
        reply.header('openstack-api-version', `volume ${negotiateVolumeVersion(req)}`);
      });
      const urls = (req: FastifyRequest<{ Params: { project_id: string } }>) => ({
        versioned: `${versioned(req)}/${req.params.project_id}`,
        bookmark: `${baseUrl(req, deps.publicUrl)}/volume/${req.params.project_id}`,
      });
      v3.get('/extensions', async () => ({
        extensions: EXTENSIONS.map(([name, alias, description]) => ({ name, alias, description, updated: '2013-01-01T00:00:00+00:00', namespace: '', links: [] })),
      }));
      v3.get('/os-availability-zone', async (req) => {
        // the volume service places every volume in its one zone, "nova" (Cinder's default storage_availability_zone)
        await deps.backends.identity.validateToken({}, callContext(req)); // a token is still required
        return { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] };
      });
      v3.get('/os-hosts', async (req) => {
        // Cinder's volume hosts are its backends (host@backend); here each storage node's backend,
        // up while any of its pools is (ListPools is admin only, as os-hosts is)
        const { pools } = await deps.backends.volume.listPools({}, callContext(req));
        const hosts = new Map<string, boolean>();
        for (const p of pools) hosts.set(`${p.storageNode || 'minicloud'}@${p.backend}`, (hosts.get(`${p.storageNode || 'minicloud'}@${p.backend}`) ?? false) || p.up);
        return {
          hosts: [...hosts].map(([host, up]) => ({ host_name: host, service: 'cinder-volume', zone: 'nova', 'service-status': up ? 'available' : 'unavailable', 'service-state': 'enabled', 'last-update': null })),
        };
      });
      await volumeRoutesV3(v3, deps, urls);
      await snapshotRoutes(v3, deps);
      await backupRoutes(v3, deps);
      await typeRoutes(v3, deps);
      await quotaRoutes(v3, deps);
      await qosSpecsRoutes(v3, deps);
    },
    { prefix: '/v3/:project_id' },
  );
}
