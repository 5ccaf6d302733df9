/**
 * Learns what tempest.conf needs from a running minicloud through its OpenStack REST front only, as
 * an operator would with the `openstack` CLI: a token, the images, flavors, the external network,
 * Neutron's extensions, the advertised microversions and the compute hosts. Makes a second image
 * (tempest's image_ref_alt) from the first one's bytes when the cloud has only one.
 */
import fs from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import type { CloudFacts } from './tempest-conf';

type Fetch = typeof fetch;

/** fetch() verifying HTTPS against `caFile` (the cloud's CA), or the global fetch without one. */
function fetchTrusting(caFile: string | undefined): Fetch {
  if (!caFile) return fetch;
  const dispatcher = new Agent({ connect: { ca: fs.readFileSync(caFile) } });
  return ((url: string, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher })) as unknown as Fetch;
}

interface Admin {
  user: string;
  password: string;
  project: string;
  domain: string;
}

/**
 * @param apiUrl the REST front, e.g. `https://127.0.0.1:5080`
 * @param caFile the CA to verify an HTTPS front with (the manifest's `tls.ca_file`); it is also
 *   the `caFile` of the facts, for tempest.conf
 * @throws Error naming the call when the cloud answers an unexpected status, or has no active
 *   image or fewer than two flavors
 */
export async function learnCloudFacts(apiUrl: string, admin: Admin, caFile?: string): Promise<CloudFacts> {
  const fetch = fetchTrusting(caFile);
  const token = await login(fetch, apiUrl, admin);
  const call = async <T>(method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> => {
    const res = await fetch(`${apiUrl}${p}`, {
      method,
      headers: { 'x-auth-token': token, ...(body !== undefined && !(body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    const type = res.headers.get('content-type') ?? '';
    return (type.includes('json') ? await res.json() : await res.arrayBuffer()) as T;
  };

  const images = (await call<{ images: { id: string; name: string; status: string; visibility: string }[] }>('GET', '/image/v2/images?status=active&limit=100')).images;
  if (!images.length) throw new Error('the cloud has no active image');
  const first = images.find((i) => i.name === 'cirros') ?? images[0];
  let alt = images.find((i) => i.id !== first.id && i.visibility === 'public');
  if (!alt) {
    const bytes = new Uint8Array(await call<ArrayBuffer>('GET', `/image/v2/images/${first.id}/file`));
    const created = await call<{ id: string }>('POST', '/image/v2/images', { name: `${first.name}-alt`, disk_format: 'qcow2', container_format: 'bare', visibility: 'public' });
    await call('PUT', `/image/v2/images/${created.id}/file`, bytes, { 'content-type': 'application/octet-stream' });
    alt = { id: created.id, name: `${first.name}-alt`, status: 'active', visibility: 'public' };
  }

  const flavors = (await call<{ flavors: { id: string; name: string; ram: number; vcpus: number; disk: number }[] }>('GET', '/compute/v2.1/flavors/detail')).flavors.sort((a, b) => a.ram - b.ram || a.vcpus - b.vcpus);
  if (flavors.length < 2) throw new Error('the cloud has fewer than two flavors');
  const flavor = flavors.find((f) => f.name === 'm1.tiny') ?? flavors[0];
  const flavorAlt = flavors.find((f) => f.name === 'm1.small') ?? flavors.find((f) => f.id !== flavor.id)!;

  const externals = (await call<{ networks: { id: string; name: string }[] }>('GET', '/network/v2.0/networks?router%3Aexternal=True')).networks;
  // Floating IPs reach guests' sshd when the external network's addresses are this machine's (127.0.0.0/8 is all loopback).
  const externalCidrs = externals[0] ? (await call<{ subnets: { cidr: string }[] }>('GET', `/network/v2.0/subnets?network_id=${externals[0].id}`)).subnets.map((s) => s.cidr) : [];
  const floatingReachable = externalCidrs.length > 0 && externalCidrs.every((c) => c.startsWith('127.'));
  const extensions = (await call<{ extensions: { alias: string }[] }>('GET', '/network/v2.0/extensions')).extensions.map((e) => e.alias);
  const hypervisors = (await call<{ hypervisors: { state: string; status: string }[] }>('GET', '/compute/v2.1/os-hypervisors')).hypervisors;
  const computeMax = await maxMicroversion(fetch, apiUrl, '/compute/', 'v2.1');
  const volumeMax = await maxMicroversion(fetch, apiUrl, '/volume/', 'v3.0');

  return {
    apiUrl,
    ...(caFile ? { caFile } : {}),
    region: 'RegionOne',
    admin,
    imageRef: first.id,
    imageRefAlt: alt.id,
    flavorRef: flavor.id,
    flavorRefAlt: flavorAlt.id,
    ...(externals[0] ? { publicNetworkId: externals[0].id, publicNetworkName: externals[0].name } : {}),
    networkExtensions: extensions,
    computeMaxMicroversion: computeMax,
    volumeMaxMicroversion: volumeMax,
    computeNodes: hypervisors.filter((h) => h.state === 'up' && h.status === 'enabled').length,
    consoleOutput: true,
    // The agents model every guest as an Ubuntu 22.04 cloud image, whose default user is `ubuntu`.
    ...(floatingReachable ? { guestSshUser: 'ubuntu' } : {}),
  };
}

async function login(fetch: Fetch, apiUrl: string, a: Admin): Promise<string> {
  const res = await fetch(`${apiUrl}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: a.user, domain: { name: a.domain }, password: a.password } } },
        scope: { project: { name: a.project, domain: { name: a.domain } } },
      },
    }),
  });
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) throw new Error(`admin login at ${apiUrl}/identity: ${res.status} ${await res.text()}`);
  return token;
}

/** The `version` (max microversion) of the version document `id` at `root`, or `fallback` when it has none. */
async function maxMicroversion(fetch: Fetch, apiUrl: string, root: string, id: string): Promise<string> {
  const res = await fetch(`${apiUrl}${root}`);
  const body = (await res.json().catch(() => ({}))) as { versions?: { id: string; version?: string }[] };
  const v = body.versions?.find((x) => x.id === id);
  return v?.version || (id === 'v2.1' ? '2.1' : '3.0');
}
