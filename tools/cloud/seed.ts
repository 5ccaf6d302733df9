import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { compute, identity, image, network, volume } from '@minicloud/proto';
import { createServiceClient, type GrpcTls, type ServiceClient } from '@minicloud/platform-grpc';
import { AlreadyExistsError } from '@minicloud/domain-errors';
import { endpointsOf } from '@minicloud/client';
import type { CloudManifest } from './manifest';

/** Clients of every public API, authenticated as one user in one project. */
export interface Session {
  token: string;
  projectId: string;
  identity: ServiceClient<typeof identity.IdentityServiceService>;
  compute: ServiceClient<typeof compute.ComputeServiceService>;
  image: ServiceClient<typeof image.ImageServiceService>;
  network: ServiceClient<typeof network.NetworkServiceService>;
  volume: ServiceClient<typeof volume.VolumeServiceService>;
  close(): void;
}

/**
 * Logs in (password) and builds clients from the catalog.
 * @param tls the cloud's CA to verify its services with (`{ ca }`, e.g. {@link manifestTls}); `null` for a
 *   plaintext cloud; default: the environment (TLS_CA_FILE)
 * @param region the region whose services the clients call (identity is shared); default RegionOne
 */
export async function adminSession(identityUrl: string, user: string, password: string, project: string, tls?: GrpcTls | null, region?: string): Promise<Session> {
  const id = createServiceClient(identity.IdentityServiceService, identityUrl, { idempotent: ['authenticate', 'getCatalog'], maxAttempts: 8, tls });
  const auth = await id.authenticate({ password: { userName: user, password, domainName: 'default' }, projectName: project });
  const url = (type: string) => {
    const e = endpointsOf(auth.catalog, type, region)[0];
    if (!e) throw new Error(`service ${type} is not in the catalog${region ? ` of ${region}` : ''}`);
    return e;
  };
  const opts = { token: () => auth.token, deadlineMs: 30_000, tls };
  const s: Session = {
    token: auth.token,
    projectId: auth.info?.projectId ?? '',
    identity: createServiceClient(identity.IdentityServiceService, identityUrl, opts),
    compute: createServiceClient(compute.ComputeServiceService, url('compute'), opts),
    image: createServiceClient(image.ImageServiceService, url('image'), opts),
    network: createServiceClient(network.NetworkServiceService, url('network'), opts),
    volume: createServiceClient(volume.VolumeServiceService, url('volume'), opts),
    close() {
      for (const c of [id, s.identity, s.compute, s.image, s.network, s.volume]) c.close();
    },
  };
  return s;
}

/**
 * The gRPC TLS a client of the cloud described by `m` needs: its CA (`{ ca }`) when the bring-up
 * turned TLS on, `null` (plaintext) when it ran with --insecure.
 * @throws Error when the manifest names a CA file that cannot be read
 */
export function manifestTls(m: Pick<CloudManifest, 'tls'>): GrpcTls | null {
  return m.tls ? { ca: fs.readFileSync(m.tls.ca_file) } : null;
}

/**
 * Waits until the controller lists `count` hosts in state UP (or in DPM standby: registered, powered
 * off) that registered at or after `registeredSinceMs` (default 0: any time). With kept state the
 * hosts of the previous run are still listed UP until their agents register again.
 */
export async function waitForHosts(admin: Session, count: number, timeoutMs: number, registeredSinceMs = 0): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await admin.compute.listHosts({});
    const fresh = res.hosts.filter((h) => (h.registeredAt?.getTime() ?? 0) >= registeredSinceMs);
    const up = fresh.filter((h) => h.state === compute.HostState.HOST_STATE_UP || h.state === compute.HostState.HOST_STATE_STANDBY).length;
    if (up >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${up} of ${count} hosts are up after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Nova's classic flavors. */
export const DEFAULT_FLAVORS = [
  { name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 },
  { name: 'm1.small', vcpus: 1, ramMb: 2048, diskGb: 20 },
  { name: 'm1.medium', vcpus: 2, ramMb: 4096, diskGb: 40 },
  { name: 'm1.large', vcpus: 4, ramMb: 8192, diskGb: 80 },
  { name: 'm1.xlarge', vcpus: 8, ramMb: 16384, diskGb: 160 },
];

async function ignoreExists<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof AlreadyExistsError) return undefined;
    throw e;
  }
}

/** Creates the flavors (admin). Idempotent. */
export async function seedFlavors(admin: Session): Promise<void> {
  for (const f of DEFAULT_FLAVORS) await ignoreExists(admin.compute.createFlavor({ ...f, id: f.name, isPublic: true }));
}

/** Makes a real (empty) qcow2 disk image with qemu-img and uploads it as a public image. */
export async function uploadQcow2Image(admin: Session, dir: string, name: string, virtualSize = '1G'): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.qcow2`);
  if (!fs.existsSync(file)) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, virtualSize]);
  const existing = (await admin.image.listImages({ name })).images.find((i) => i.status === image.ImageStatus.IMAGE_STATUS_ACTIVE);
  if (existing) return existing.id;
  const created = await admin.image.createImage({
    name,
    diskFormat: 'qcow2',
    containerFormat: 'bare',
    visibility: image.ImageVisibility.IMAGE_VISIBILITY_PUBLIC,
    properties: { architecture: 'x86_64', hypervisor_type: 'qemu', os_distro: 'cirros' },
  });
  const id = created.image!.id;
  const data = fs.readFileSync(file);
  const chunks: { imageId?: string; chunk?: Buffer }[] = [{ imageId: id }];
  for (let i = 0; i < data.length; i += 1 << 20) chunks.push({ chunk: data.subarray(i, i + (1 << 20)) });
  await admin.image.uploadImage(chunks);
  return id;
}

export interface DemoResult {
  projectId: string;
  imageId: string;
  networkId: string;
  /** The external network `public` (router:external) that floating IPs and router gateways use. */
  publicNetworkId: string;
  serverIds: string[];
}

/**
 * The external network's default subnet: devstack's 172.24.4.0/24 moved into 127.0.0.0/8, which Linux
 * routes to the loopback, so a floating IP is an address this machine answers on, as devstack's
 * br-ex makes its floating IPs reachable from the host (guests' sshd listen on them).
 */
export const DEFAULT_PUBLIC_CIDR = '127.24.4.0/24';

/** A /24 of 127.100.0.0-127.249.255.255 picked at random: a test cloud's floating IPs, apart from other clouds on the machine. */
export function randomPublicCidr(): string {
  return `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 256)}.0/24`;
}

/** Gateway (first address) and allocation pool (second to last before broadcast) of an IPv4 CIDR of /8../29. @throws Error when not such a CIDR */
export function publicSubnetPlan(cidr: string): { cidr: string; gatewayIp: string; pool: { start: string; end: string } } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : 0;
  if (!m || octets.some((o) => o > 255) || bits < 8 || bits > 29) throw new Error(`--public-cidr ${cidr}: an IPv4 CIDR of /8 to /29 is needed`);
  const base = (octets.reduce((a, o) => a * 256 + o, 0) & (0xffffffff << (32 - bits))) >>> 0;
  const size = 2 ** (32 - bits);
  const ip = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  return { cidr: `${ip(base)}/${bits}`, gatewayIp: ip(base + 1), pool: { start: ip(base + 2), end: ip(base + size - 2) } };
}

/**
 * The external network `public` as devstack makes it: router:external, not shared, one subnet
 * (default {@link DEFAULT_PUBLIC_CIDR}) whose first address is the gateway and the rest the pool for
 * router gateways and floating IPs. Idempotent.
 */
async function seedPublicNetwork(admin: Session, cidr: string): Promise<string> {
  const found = (await admin.network.listNetworks({ name: 'public' })).networks.find((n) => n.routerExternal);
  if (found) return found.id;
  const plan = publicSubnetPlan(cidr);
  const net = (await admin.network.createNetwork({ name: 'public', routerExternal: true })).network!;
  await admin.network.createSubnet({ networkId: net.id, name: 'public-subnet', cidr: plan.cidr, gatewayIp: plan.gatewayIp, allocationPools: [plan.pool], enableDhcp: false });
  return net.id;
}

/**
 * The demo: flavors m1.tiny..m1.xlarge, project `demo` with user `demo` (member, password `demoPassword`), a real qcow2
 * image `cirros`, the external network `public` (subnet `publicCidr`), network `demo-net` with subnet 10.0.0.0/24 and router
 * `router1` (gateway on `public`, an interface on demo-subnet), and `servers` m1.tiny servers booted as
 * the demo user and waited for ACTIVE. Idempotent: with kept state only the servers the demo project
 * lacks are booted (the ones it has are left as they are).
 */
export async function seedDemo(admin: Session, opts: { imageDir: string; servers: number; demoPassword: string; publicCidr?: string; tls?: GrpcTls | null }): Promise<DemoResult> {
  await seedFlavors(admin);
  const [imageId, publicNetworkId] = await Promise.all([uploadQcow2Image(admin, opts.imageDir, 'cirros'), seedPublicNetwork(admin, opts.publicCidr ?? DEFAULT_PUBLIC_CIDR)]);
  const project =
    (await ignoreExists(admin.identity.createProject({ name: 'demo', domainId: 'default', description: 'minicloud demo' })))?.project ??
    (await admin.identity.listProjects({})).projects.find((p) => p.name === 'demo')!;
  const user =
    (await ignoreExists(admin.identity.createUser({ name: 'demo', password: opts.demoPassword, domainId: 'default', defaultProjectId: project.id })))?.user ??
    (await admin.identity.listUsers({})).users.find((u) => u.name === 'demo')!;
  await ignoreExists(admin.identity.assignRole({ assignment: { roleName: 'member', userId: user.id, projectId: project.id } }));
  const identityUrl = (await admin.identity.getCatalog({})).catalog.find((c) => c.serviceType === 'identity')!.url;
  const demo = await adminSession(identityUrl, 'demo', opts.demoPassword, 'demo', opts.tls);
  try {
    let net = (await demo.network.listNetworks({ name: 'demo-net' })).networks[0];
    if (!net) {
      net = (await demo.network.createNetwork({ name: 'demo-net' })).network!;
      const subnet = (await demo.network.createSubnet({ networkId: net.id, name: 'demo-subnet', cidr: '10.0.0.0/24', dnsNameservers: ['10.0.0.2'] })).subnet!;
      const router = (await demo.network.createRouter({ name: 'router1', externalNetworkId: publicNetworkId })).router!;
      await demo.network.addRouterInterface({ routerId: router.id, subnetId: subnet.id });
    }
    const serverIds: string[] = [];
    const missing = opts.servers - (await demo.compute.listServers({})).servers.length;
    if (missing > 0) {
      const res = await demo.compute.createServer({
        name: 'demo',
        flavorRef: 'm1.tiny',
        imageRef: imageId,
        networks: [{ networkId: net.id }],
        minCount: missing,
        maxCount: missing,
      });
      serverIds.push(...res.servers.map((s) => s.id));
      const deadline = Date.now() + 60_000;
      for (const id of serverIds) {
        for (;;) {
          const s = (await demo.compute.getServer({ serverId: id })).server!;
          if (s.vmState === compute.VmState.VM_STATE_ACTIVE && s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED) break;
          if (s.vmState === compute.VmState.VM_STATE_ERROR) throw new Error(`demo server ${id} failed: ${s.fault?.message}`);
          if (Date.now() > deadline) throw new Error(`demo server ${id} not ACTIVE within 60 s`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    return { projectId: project.id, imageId, networkId: net.id, publicNetworkId, serverIds };
  } finally {
    demo.close();
  }
}
