import { createHash } from 'node:crypto';
import { Client, utils as sshUtils, type ConnectConfig } from 'ssh2';
import { fdbUpdatedSubject } from '@minicloud/platform-bus';
import { events, network } from '@minicloud/proto';
import { waitFor } from '@minicloud/testing';
import { startAgentBed, type AgentBed } from '../testing/agent-bed';

jest.setTimeout(60_000);

/** An SSH client session: connect, then run commands (each on its own channel). */
async function connect(cfg: ConnectConfig): Promise<Client> {
  const c = new Client();
  await new Promise<void>((resolve, reject) => {
    c.once('ready', () => resolve());
    c.once('error', reject);
    c.connect({ readyTimeout: 10_000, ...cfg });
  });
  return c;
}

function exec(c: Client, command: string): Promise<{ stdout: string; stderr: string; code: number | undefined }> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      let code: number | undefined;
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      stream.on('exit', (c2: number) => (code = c2));
      stream.on('close', () => resolve({ stdout, stderr, code }));
    });
  });
}

describe("guests' sshd on their floating IPs (the agent in-process, real Redis + NATS, a fake network service)", () => {
  const bytes = Buffer.from('qcow2'.repeat(100));
  const sha = createHash('sha256').update(bytes).digest('hex');
  const FIP = '127.77.0.5';
  /** The guests' sshd start (uptime); short here, long enough to see the port closed while a guest boots. */
  const SSHD_START_MS = 600;
  const key = sshUtils.generateKeyPairSync('ed25519', { comment: 'alice@laptop' });
  const otherKey = sshUtils.generateKeyPairSync('ed25519');
  let bed: AgentBed;
  /** What the fake network service answers: the host's floating IPs and their generation. */
  const served = { generation: 1, fips: [] as network.HostFloatingIp[] };
  const tables = async () => network.GetHostFdbResponse.fromPartial({ fdbGeneration: served.generation, floatingIps: served.fips });
  const setFloatingIps = (fips: network.HostFloatingIp[]) => {
    served.fips = fips;
    served.generation += 1;
    bed.bus.publishCore(fdbUpdatedSubject('ssh-host'), events.FdbUpdated, { hostId: 'ssh-host', fdbGeneration: served.generation });
  };
  const sshd = () => bed.handles.guestSsh[0];
  /** What the fake network service answers for the ports' security groups, and what it was asked. */
  let ingress: 'allow' | 'deny' | 'fail' = 'allow';
  const ingressAsked: { portId: string; remoteIp: string; dstPort: number }[] = [];
  const spawn = async (instanceId: string, name: string, portId: string, publicKey: string, projectId = 'p1') => {
    const spec = {
      instanceId,
      name,
      projectId,
      flavor: { vcpus: 2, ramMb: 1024, diskGb: 1 },
      image: { imageId: 'img-1', sha256: sha },
      ports: [{ portId, networkId: 'n1', macAddress: 'fa:16:3e:00:00:05', ipAddresses: ['10.0.0.5'], mtu: 1450 }],
      keyName: 'k1',
      publicKey,
    };
    await bed.client.executeCommand({ hostId: 'ssh-host', epoch: 3, instanceId, spawn: { spec } });
    await waitFor(() => bed.handles.hosts[0].runningIds().includes(instanceId));
  };
  const asUbuntu = (privateKey: string, port: number): ConnectConfig => ({ host: FIP, port, username: 'ubuntu', privateKey });

  beforeAll(async () => {
    bed = await startAgentBed({
      env: { HOST_ID: 'ssh-host', BOOT_TIME_MS: '50', GUEST_SSH_PORT: '0', GUEST_SSHD_START_MS: String(SSHD_START_MS) },
      registerHost: async () => ({ epoch: 3, heartbeatIntervalMs: 200, leaseTtlMs: 2000, selfFenceAfterMs: 5000 }),
      overrides: {
        vtep: {
          registerVtep: async () => network.RegisterVtepResponse.fromPartial(await tables()),
          getHostFdb: tables,
          checkPortIngress: async (req) => {
            ingressAsked.push({ portId: req.portId ?? '', remoteIp: req.remoteIp ?? '', dstPort: req.dstPort ?? 0 });
            if (ingress === 'fail') throw new Error('network service unavailable');
            return network.CheckPortIngressResponse.fromPartial({ allowed: ingress === 'allow' });
          },
        },
        imageSource: async function* () {
          yield bytes;
        },
      },
      epoch: 3,
    });
    await waitFor(() => bed.handles.overlays[0].ready);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it("lets the key pair's key in as ubuntu and runs the guest's shell; another key, a password and root are refused", async () => {
    await spawn('vm-1', 'Web 1', 'port-1', key.public);
    setFloatingIps([{ floatingIpId: 'f1', floatingIpAddress: FIP, portId: 'port-1', fixedIpAddress: '10.0.0.5', routerId: 'r1' }]);
    await waitFor(() => sshd().addressOf('vm-1') !== undefined);
    const { port } = sshd().addressOf('vm-1')!;

    const c = await connect(asUbuntu(key.private, port));
    expect(await exec(c, 'set -eu -o pipefail; PATH=$PATH:/sbin:/usr/sbin; hostname')).toEqual({ stdout: 'web-1\n', stderr: '', code: 0 });
    expect((await exec(c, 'grep -c ^processor /proc/cpuinfo')).stdout).toBe('2\n');
    expect((await exec(c, "ip addr | awk '/ether/ {print $2}'")).stdout).toBe('fa:16:3e:00:00:05\n');
    expect((await exec(c, 'ip link show ens3')).stdout).toContain('mtu 1450');
    expect(await exec(c, 'reboot-the-world')).toMatchObject({ code: 127, stderr: 'bash: line 1: reboot-the-world: command not found\n' });
    // a volume attached to the running VM is a new disk to the guest
    expect((await exec(c, 'lsblk -lb --nodeps')).stdout).toBe('NAME MAJ:MIN RM       SIZE RO TYPE MOUNTPOINTS\nvda  252:0    0 1073741824  0 disk\n');
    await bed.client.executeCommand({ hostId: 'ssh-host', epoch: 3, instanceId: 'vm-1', attachVolume: { volume: { volumeId: 'vol-1', sizeGb: 2 } } });
    expect((await exec(c, 'lsblk -lb --nodeps')).stdout).toContain('\nvdb  252:16   0 2147483648  0 disk\n');
    c.end();

    await expect(connect(asUbuntu(otherKey.private, port))).rejects.toThrow(/authentication methods failed/);
    await expect(connect({ host: FIP, port, username: 'ubuntu', password: 'anything' })).rejects.toThrow(/authentication methods failed/);
    await expect(connect({ ...asUbuntu(key.private, port), username: 'alice' })).rejects.toThrow(/authentication methods failed/);
    const root = await connect({ ...asUbuntu(key.private, port), username: 'root' });
    expect(await exec(root, 'hostname')).toEqual({ stdout: 'Please login as the user "ubuntu" rather than the user "root".\n', stderr: '', code: 142 });
    root.end();
  });

  it('stops answering when the floating IP is disassociated (open sessions dropped) and when the VM is powered off or deleted', async () => {
    const { port } = sshd().addressOf('vm-1')!;
    const open = await connect(asUbuntu(key.private, port));
    const dropped = new Promise<void>((resolve) => open.once('close', () => resolve()));
    setFloatingIps([]);
    await dropped;
    await waitFor(() => sshd().addressOf('vm-1') === undefined);
    await expect(connect(asUbuntu(key.private, port))).rejects.toThrow(/ECONNREFUSED/);

    setFloatingIps([{ floatingIpId: 'f1', floatingIpAddress: FIP, portId: 'port-1', fixedIpAddress: '10.0.0.5', routerId: 'r1' }]);
    await waitFor(() => sshd().addressOf('vm-1') !== undefined);
    await bed.client.executeCommand({ hostId: 'ssh-host', epoch: 3, instanceId: 'vm-1', powerOff: { timeoutSeconds: 0 } });
    await waitFor(() => sshd().addressOf('vm-1') === undefined);
    await bed.client.executeCommand({ hostId: 'ssh-host', epoch: 3, instanceId: 'vm-1', powerOn: {} });
    await waitFor(() => sshd().addressOf('vm-1') !== undefined);
    const again = await connect(asUbuntu(key.private, sshd().addressOf('vm-1')!.port));
    expect((await exec(again, 'hostname')).stdout).toBe('web-1\n');
    again.end();
    await bed.client.executeCommand({ hostId: 'ssh-host', epoch: 3, instanceId: 'vm-1', destroy: {} });
    await waitFor(() => sshd().addressOf('vm-1') === undefined);
  });

  it("the same floating IP moved to another project's VM lets only that VM's key in", async () => {
    await spawn('vm-2', 'other', 'port-2', otherKey.public, 'p2');
    setFloatingIps([{ floatingIpId: 'f1', floatingIpAddress: FIP, portId: 'port-2', fixedIpAddress: '10.0.0.5', routerId: 'r1' }]);
    await waitFor(() => sshd().addressOf('vm-2') !== undefined);
    const { port } = sshd().addressOf('vm-2')!;
    await expect(connect(asUbuntu(key.private, port))).rejects.toThrow(/authentication methods failed/);
    const c = await connect(asUbuntu(otherKey.private, port));
    expect((await exec(c, 'hostname')).stdout).toBe('other\n');
    c.end();
  });

  it('a floating IP moved straight from one running VM to another answers for the new one (the address is reopened once released)', async () => {
    await spawn('vm-3', 'third', 'port-3', key.public);
    setFloatingIps([{ floatingIpId: 'f1', floatingIpAddress: FIP, portId: 'port-3', fixedIpAddress: '10.0.0.5', routerId: 'r1' }]);
    await waitFor(() => sshd().addressOf('vm-3') !== undefined);
    expect(sshd().addressOf('vm-2')).toBeUndefined();
    const c = await connect(asUbuntu(key.private, sshd().addressOf('vm-3')!.port));
    expect((await exec(c, 'hostname')).stdout).toBe('third\n');
    c.end();
    setFloatingIps([{ floatingIpId: 'f1', floatingIpAddress: FIP, portId: 'port-2', fixedIpAddress: '10.0.0.5', routerId: 'r1' }]);
    await waitFor(() => sshd().addressOf('vm-2') !== undefined);
  });

  it('drops a connection after MaxAuthTries failed attempts', async () => {
    const { port } = sshd().addressOf('vm-2')!;
    const keys = Array.from({ length: 7 }, () => sshUtils.generateKeyPairSync('ed25519').private);
    let tried = 0;
    const c = new Client();
    const outcome = new Promise<string>((resolve) => {
      c.once('ready', () => resolve('ready'));
      c.once('error', (e) => resolve(e.message));
      c.once('close', () => resolve('closed'));
    });
    c.connect({
      host: FIP,
      port,
      username: 'ubuntu',
      readyTimeout: 10_000,
      authHandler: (_methods, _partial, next) => {
        if (tried >= keys.length) return next(false as never);
        next({ type: 'publickey', username: 'ubuntu', key: keys[tried++] } as never);
      },
    });
    expect(await outcome).not.toBe('ready');
    expect(tried).toBe(6);
  });

  it("refuses while the guest boots and again after a reboot, which drops open sessions and restarts the guest's uptime", async () => {
    const before = sshd().addressOf('vm-2')!;
    const c = await connect(asUbuntu(otherKey.private, before.port));
    const uptimeOf = async (conn: Client) => Number((await exec(conn, 'cut -f1 -d. /proc/uptime')).stdout.trim());
    const bootTimeBeforeS = Date.now() / 1000 - (await uptimeOf(c));
    const dropped = new Promise<void>((resolve) => c.once('close', () => resolve()));
    const rebootedAtMs = Date.now();
    await bed.client.executeCommand({ hostId: 'ssh-host', epoch: 3, instanceId: 'vm-2', reboot: { hard: true } });
    await dropped;
    expect(sshd().addressOf('vm-2')).toBeUndefined();
    await expect(connect(asUbuntu(otherKey.private, before.port))).rejects.toThrow(/ECONNREFUSED/);
    await waitFor(() => sshd().addressOf('vm-2') !== undefined, { timeoutMs: 10_000 });
    expect(Date.now() - rebootedAtMs).toBeGreaterThanOrEqual(SSHD_START_MS);
    const again = await connect(asUbuntu(otherKey.private, sshd().addressOf('vm-2')!.port));
    const bootTimeAfterS = Date.now() / 1000 - (await uptimeOf(again));
    expect(bootTimeAfterS).toBeGreaterThan(bootTimeBeforeS);
    expect(bootTimeAfterS).toBeGreaterThanOrEqual(rebootedAtMs / 1000 - 1);
    again.end();
  });

  it("lets a connection in only when the port's security groups allow it (asked per connection; no answer is a refusal)", async () => {
    const { port } = sshd().addressOf('vm-2')!;
    ingressAsked.length = 0;
    ingress = 'deny';
    await expect(connect(asUbuntu(otherKey.private, port))).rejects.toThrow();
    expect(ingressAsked).toEqual([{ portId: 'port-2', remoteIp: '127.0.0.1', dstPort: 22 }]);
    ingress = 'fail';
    await expect(connect(asUbuntu(otherKey.private, port))).rejects.toThrow();
    ingress = 'allow';
    const c = await connect(asUbuntu(otherKey.private, port));
    expect((await exec(c, 'hostname')).stdout).toBe('other\n');
    c.end();
    expect(ingressAsked).toHaveLength(3);
  });
});
