import { DHCP_DOMAIN } from './hostname';

/** What the metadata service knows of one instance (from its record and its ports). */
export interface InstanceMetadataSource {
  readonly uuid: string;
  readonly name: string;
  /** Nova's instance.hostname (sanitizeHostname of the display name). */
  readonly hostname: string;
  readonly projectId: string;
  readonly availabilityZone: string;
  readonly launchIndex: number;
  readonly reservationId: string;
  readonly flavorName: string;
  readonly imageId: string;
  readonly keyName?: string;
  /** The key pair's OpenSSH public key. */
  readonly publicKey?: string;
  readonly meta: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly portId: string; readonly networkId: string; readonly macAddress: string; readonly ipAddresses: readonly string[]; readonly mtu: number }[];
  /** User data, the decoded text as the controller stores it (empty: none). */
  readonly userData: string;
  readonly securityGroups: readonly string[];
}

/** An answer of the metadata service: a body and its type, or undefined for 404. */
export interface MetadataAnswer {
  readonly contentType: 'application/json' | 'text/plain' | 'application/octet-stream';
  readonly body: string | Uint8Array;
}

/** The OpenStack metadata versions Nova serves (nova/api/metadata/base.py OPENSTACK_VERSIONS), then 'latest'. */
export const OPENSTACK_VERSIONS = ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', '2016-10-06', '2017-02-22', '2018-08-27', '2020-10-14', 'latest'];

/** The EC2 metadata versions Nova serves (VERSIONS), then 'latest'. */
export const EC2_VERSIONS = ['1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01', '2009-04-04', 'latest'];

/** The name under which vendor_data2.json carries the instance's identity credential (Nova's dynamic vendordata target name). */
export const IDENTITY_VENDOR_DATA_TARGET = 'minicloud_identity';

/** EC2-style id of a uuid-named resource: prefix and the uuid's first 8 hex digits (Nova uses its integer id, "i-%08x"; minicloud has only uuids). */
function ec2Id(prefix: string, uuid: string): string {
  return `${prefix}-${uuid.replace(/-/g, '').slice(0, 8).padEnd(8, '0')}`;
}

/** Nova's meta_data.json (nova/api/metadata/base.py InstanceMetadata._metadata_as_json). */
export function metaDataJson(s: InstanceMetadataSource): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    uuid: s.uuid,
    meta: { ...s.meta },
    hostname: `${s.hostname}.${DHCP_DOMAIN}`,
    name: s.name,
    launch_index: s.launchIndex,
    availability_zone: s.availabilityZone,
    project_id: s.projectId,
    devices: [],
  };
  if (s.keyName && s.publicKey) {
    doc.public_keys = { [s.keyName]: s.publicKey };
    doc.keys = [{ name: s.keyName, type: 'ssh', data: s.publicKey }];
  }
  return doc;
}

/**
 * Nova's network_data.json (nova/virt/netutils.py get_network_metadata): one link per port ("tap" +
 * the port id's first 11 characters, as Nova names the tap device), one network per fixed IPv4 (type
 * ipv4_dhcp: minicloud's subnets hand addresses out by DHCP), and no services (DNS servers come by DHCP).
 */
export function networkDataJson(s: InstanceMetadataSource): Record<string, unknown> {
  const links = s.ports.map((p) => ({ id: `tap${p.portId.slice(0, 11)}`, vif_id: p.portId, type: 'ovs', mtu: p.mtu || null, ethernet_mac_address: p.macAddress }));
  let n = 0;
  const networks = s.ports.flatMap((p) =>
    p.ipAddresses.filter((ip) => !ip.includes(':')).map((ip) => ({ id: `network${n++}`, type: 'ipv4_dhcp', link: `tap${p.portId.slice(0, 11)}`, network_id: p.networkId, ip_address: ip })),
  );
  return { links, networks, services: [] };
}

/** Nova's EC2 meta-data tree (InstanceMetadata.get_ec2_metadata, version 2009-04-04 and later). */
export function ec2MetaData(s: InstanceMetadataSource): Record<string, unknown> {
  const host = `${s.hostname}.${DHCP_DOMAIN}`;
  const tree: Record<string, unknown> = {
    'ami-id': ec2Id('ami', s.imageId || s.uuid),
    'ami-launch-index': String(s.launchIndex),
    // Nova answers this literal string: EC2 clients expect the key, and there is no manifest.
    'ami-manifest-path': 'FIXME',
    'block-device-mapping': { ami: 'vda', root: '/dev/vda' },
    hostname: host,
    'instance-action': 'none',
    'instance-id': ec2Id('i', s.uuid),
    'instance-type': s.flavorName,
    'local-hostname': host,
    'local-ipv4': s.ports.flatMap((p) => p.ipAddresses).find((ip) => !ip.includes(':')) ?? '',
    placement: { 'availability-zone': s.availabilityZone },
    'public-hostname': host,
    'public-ipv4': '',
    'reservation-id': s.reservationId,
    'security-groups': s.securityGroups.join('\n'),
  };
  if (s.keyName && s.publicKey) tree['public-keys'] = { [`0=${s.keyName}`]: { 'openssh-key': s.publicKey } };
  return tree;
}

/** A directory listing as Nova prints one: keys one per line, a trailing '/' on sub-trees but the public-keys "0=name" entries. */
function listing(tree: Record<string, unknown>): string {
  return Object.entries(tree)
    .map(([k, v]) => (v && typeof v === 'object' && !k.includes('=') ? `${k}/` : k))
    .join('\n');
}

const json = (v: unknown): MetadataAnswer => ({ contentType: 'application/json', body: JSON.stringify(v) });
const text = (v: string): MetadataAnswer => ({ contentType: 'text/plain', body: v });

/** Walks `tree` by `parts` (EC2 paths; the public-keys index "0" also matches the "0=name" key, as Nova's). */
function walk(tree: unknown, parts: string[]): unknown {
  let cur = tree;
  for (const p of parts) {
    if (!cur || typeof cur !== 'object') return undefined;
    const o = cur as Record<string, unknown>;
    const key = p in o ? p : Object.keys(o).find((k) => k.startsWith(`${p}=`));
    if (key === undefined) return undefined;
    cur = o[key];
  }
  return cur;
}

/**
 * The answer of the metadata service for `path` (Nova's MetadataRequestHandler + InstanceMetadata.lookup):
 * `/` EC2 versions; `/openstack` OpenStack versions; `/openstack/<version>` its files;
 * `/openstack/<version>/{meta_data.json,network_data.json,vendor_data.json,vendor_data2.json,user_data}`;
 * `/<ec2 version>` (meta-data/, user-data), `/<ec2 version>/meta-data/...` and `/<ec2 version>/user-data`.
 * `vendorData2` is vendor_data2.json's content (the identity credential under
 * {@link IDENTITY_VENDOR_DATA_TARGET}; the caller fetches it only for that path). Undefined: 404.
 */
export function metadataLookup(path: string, s: InstanceMetadataSource, vendorData2: () => Record<string, unknown> = () => ({})): MetadataAnswer | undefined {
  const parts = path.split('/').filter(Boolean);
  const userData = s.userData ? new TextEncoder().encode(s.userData) : undefined;
  if (parts.length === 0) return text(EC2_VERSIONS.join('\n'));
  if (parts[0] === 'openstack') {
    if (parts.length === 1) return text(OPENSTACK_VERSIONS.join('\n'));
    if (!OPENSTACK_VERSIONS.includes(parts[1])) return undefined;
    if (parts.length === 2) return text(['meta_data.json', 'password', 'vendor_data.json', 'network_data.json', 'vendor_data2.json', ...(userData ? ['user_data'] : [])].join('\n'));
    if (parts.length > 3) return undefined;
    switch (parts[2]) {
      case 'meta_data.json':
        return json(metaDataJson(s));
      case 'network_data.json':
        return json(networkDataJson(s));
      case 'vendor_data.json':
        return json({});
      case 'vendor_data2.json':
        return json(vendorData2());
      case 'password':
        return text('');
      case 'user_data':
        return userData ? { contentType: 'application/octet-stream', body: userData } : undefined;
      default:
        return undefined;
    }
  }
  if (!EC2_VERSIONS.includes(parts[0])) return undefined;
  if (parts.length === 1) return text(['meta-data/', ...(userData ? ['user-data'] : [])].join('\n'));
  if (parts[1] === 'user-data' && parts.length === 2) return userData ? { contentType: 'application/octet-stream', body: userData } : undefined;
  if (parts[1] !== 'meta-data') return undefined;
  const node = walk(ec2MetaData(s), parts.slice(2));
  if (node === undefined) return undefined;
  return typeof node === 'object' && node ? text(listing(node as Record<string, unknown>)) : text(String(node));
}
