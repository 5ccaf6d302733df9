import { FakeClock } from '@minicloud/testing';
import { ImageCache, profileByName } from '@minicloud/domain-hypervisor';
import { CONSOLE_LOG_MAX_BYTES, runGuestCommand } from '@minicloud/domain-guest';
import { SimulatedHost, type ImageProvider } from '../simulated-host';
import type { VmSpec } from '../vm-spec';
import { GuestConsoles, sshFingerprint } from './guest-consoles';
import type { GuestSpec } from './guest-spec';
import { MetadataUnavailableError, type MetadataReader } from './metadata-client';

const cachedImages = (): ImageProvider => {
  const cache = new ImageCache(2 ** 30);
  cache.add('img-1', 1000);
  return { cache, acquire: async () => (cache.pin('img-1'), { cached: true, sizeBytes: 1000 }), release: () => undefined, cachedImageIds: () => ['img-1'] };
};

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1hZ2ljS2V5Qm9keUZvclRlc3RzT25seTAwMDAwMDA= alice@laptop';
const SCRIPT = '#!/bin/sh\necho "hello from user data"\nsystemctl restart nginx\n';

const guest = (over: Partial<GuestSpec> = {}): GuestSpec => ({
  instanceId: 'i1', name: 'Web 1', hostname: 'web-1', projectId: 'p1', userData: SCRIPT, keyName: 'alice', publicKey: KEY, adminPass: '',
  vcpus: 2, ramMb: 2048, disks: [{ device: 'vda', sizeGb: 20 }], nics: [{ macAddress: 'fa:16:3e:00:00:01', ipv4: '10.0.0.5', prefixLength: 24 }], ...over,
});
const spec = (g: GuestSpec): VmSpec => ({
  instanceId: g.instanceId, flavor: { vcpus: g.vcpus, ramMb: g.ramMb, diskGb: 20 }, image: { imageId: 'img-1', sha256: '' },
  workload: { kind: 'idle' }, portIds: ['p1'], volumeIds: [], guest: g,
});

function setup(read?: MetadataReader) {
  const clock = new FakeClock(Date.UTC(2026, 11, 7, 3, 45, 2));
  const guests = new GuestConsoles(read);
  const host = new SimulatedHost({
    profile: profileByName('hp-proliant-ml110-g4', 'h1'), clock, images: cachedImages(), report: () => undefined,
    bootModel: { fetchBandwidthMbps: 1000, overlayCreateMs: 20, guestBootMs: 300 }, guests,
  });
  host.setEpoch(1);
  return { clock, guests, host };
}
const flush = () => new Promise((r) => setImmediate(r));

async function spawned(read?: MetadataReader, g = guest()) {
  const env = setup(read);
  env.host.execute(1, g.instanceId, { type: 'spawn', spec: spec(g) });
  await flush();
  await flush();
  env.clock.advance(400);
  return env;
}

const metadataService = (calls: string[] = []): MetadataReader => async (instanceId, projectId) => {
  calls.push(`${instanceId}/${projectId}`);
  return {
    metaData: { hostname: 'web-1.novalocal', public_keys: { alice: KEY } },
    userData: new TextEncoder().encode(SCRIPT),
    vendorData2: { minicloud_identity: { token: 'tok' } },
  };
};

describe('guest boot on a simulated host', () => {
  it('shows a hot-plugged vNIC to the guest, down and unconfigured, and takes an unplugged one away (boot NIC or hot-plugged)', async () => {
    const { host, guests } = await spawned();
    host.execute(1, 'i1', { type: 'attach_interface', portId: 'p2', macAddress: 'fa:16:3e:00:00:02' });
    expect(guests.view('i1')!.nics).toEqual([{ macAddress: 'fa:16:3e:00:00:01', ipv4: '10.0.0.5', prefixLength: 24 }, { macAddress: 'fa:16:3e:00:00:02', hotplugged: true }]);
    const sys = { ...guests.view('i1')!, fqdn: 'web-1', cpuMhz: 2000, disks: [], uptimeSeconds: 10, nowMs: 0, loadAverage: [0, 0, 0] as [number, number, number], user: 'ubuntu', authorizedKeys: [] };
    const link = runGuestCommand('ip link show ens4', sys).stdout;
    expect(link).toContain('ens4: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN');
    expect(link).toContain('link/ether fa:16:3e:00:00:02');
    expect(runGuestCommand('hostname -I', sys).stdout).toBe('10.0.0.5 \n');
    host.execute(1, 'i1', { type: 'detach_interface', portId: 'p1' });
    expect(guests.view('i1')!.nics).toEqual([{ macAddress: 'fa:16:3e:00:00:02', hotplugged: true }]);
    host.execute(1, 'i1', { type: 'detach_interface', portId: 'p2' });
    expect(guests.view('i1')!.nics).toEqual([]);
  });

  it('boots the guest before reporting running: kernel lines, cloud-init from the metadata service, the script echo, the key', async () => {
    const calls: string[] = [];
    const { host, guests } = await spawned(metadataService(calls));
    expect(host.runtime('i1')?.powerState).toBe('running');
    expect(calls).toEqual(['i1/p1']);
    const out = host.consoleOutput('i1');
    expect(out).toMatch(/^\[ {4}0\.000000\] Linux version 5\.15\.0-91-generic/);
    expect(out).toContain('smpboot: Allowing 2 CPUs, 0 hotplug CPUs');
    expect(out).toContain('virtio_net virtio0 ens3: renamed from eth0');
    expect(out).toContain("running 'init' at Mon, 07 Dec 2026 03:45:07 +0000.");
    expect(out).toContain('cloud-init[744]: hello from user data');
    expect(out).toMatch(/Cloud-init v\. 22\.4\.2-0ubuntu0~22\.04\.1 finished at .*\. Datasource DataSourceOpenStack \[net,ver=2\]\.  Up \d+\.\d\d seconds\n$/);
    expect(out).toContain(sshFingerprint('AAAAC3NzaC1lZDI1NTE5AAAAIE1hZ2ljS2V5Qm9keUZvclRlc3RzT25seTAwMDAwMDA='));
    expect(guests.view('i1')).toMatchObject({ hostname: 'web-1', boots: 1, authorizedKeys: { ubuntu: [KEY] }, vendorData2: { minicloud_identity: { token: 'tok' } } });
    expect(guests.view('i1')?.cloudInit?.commands).toEqual([
      { command: 'echo "hello from user data"', executed: true, output: ['hello from user data'] },
      { command: 'systemctl restart nginx', executed: false, output: [] },
    ]);
  });

  it('appends a boot at each reboot and power-on without rerunning the script, and keeps the tail as Nova does', async () => {
    const { host, guests } = await spawned(metadataService());
    host.execute(1, 'i1', { type: 'reboot', hard: false });
    host.execute(1, 'i1', { type: 'power_off' });
    host.execute(1, 'i1', { type: 'power_on' });
    const out = host.consoleOutput('i1');
    expect(out.match(/Linux version/g)).toHaveLength(3);
    expect(out.match(/hello from user data/g)).toHaveLength(1);
    expect(out.match(/ finished at /g)).toHaveLength(3);
    expect(guests.view('i1')).toMatchObject({ boots: 3, authorizedKeys: { ubuntu: [KEY] } });
    expect(host.consoleOutput('i1', 1)).toBe('');
    expect(host.consoleOutput('i1', 2)).toMatch(/ finished at .*\n$/);
    expect(host.consoleOutput('i1', 0)).toBe('');
    expect(host.consoleOutput('i1', -1)).toBe(out);
  });

  it('falls back to the config drive when the metadata service fails, logging it as cloud-init does', async () => {
    const { host, guests } = await spawned(async () => {
      throw new MetadataUnavailableError('http://169.254.169.254/openstack/latest/meta_data.json', 'HTTP 403');
    });
    const out = host.consoleOutput('i1');
    expect(out).toContain("url_helper.py[WARNING]: Calling 'http://169.254.169.254/openstack/latest/meta_data.json' failed [0/-1s]: request error [HTTP 403]");
    expect(out).toContain('Datasource DataSourceConfigDrive [net,ver=2][source=/dev/sr0].');
    expect(out).toContain('hello from user data');
    expect(guests.view('i1')).toMatchObject({ authorizedKeys: { ubuntu: [KEY] } });
  });

  it('sets root\'s password from the config drive\'s admin_pass (also when the metadata service answers) and changes it on command', async () => {
    const { host, guests } = await spawned(metadataService(), guest({ adminPass: 'Zq7vX2mPk9Ta' }));
    const out = host.consoleOutput('i1');
    expect(out).toContain("cc_set_passwords.py[DEBUG]: Changing password for ['root']:");
    expect(out).toContain('Datasource DataSourceOpenStack');
    expect(out).not.toContain('Zq7vX2mPk9Ta');
    expect(guests.view('i1')?.rootPasswordSet).toBe(true);
    expect(JSON.stringify(guests.view('i1'))).not.toContain('Zq7vX2mPk9Ta');
    expect(guests.checkRootPassword('i1', 'Zq7vX2mPk9Ta')).toBe(true);
    expect(guests.checkRootPassword('i1', 'wrong')).toBe(false);

    host.setAdminPassword(1, 'i1', 'n3w-Secret');
    expect(guests.checkRootPassword('i1', 'n3w-Secret')).toBe(true);
    expect(guests.checkRootPassword('i1', 'Zq7vX2mPk9Ta')).toBe(false);
    expect(host.consoleOutput('i1')).toBe(out);

    // a reboot does not set the first boot's password again
    host.execute(1, 'i1', { type: 'reboot', hard: true });
    expect(host.consoleOutput('i1').match(/Changing password/g)).toHaveLength(1);
    expect(guests.checkRootPassword('i1', 'n3w-Secret')).toBe(true);

    host.execute(1, 'i1', { type: 'power_off' });
    expect(() => host.setAdminPassword(1, 'i1', 'x')).toThrow(/cannot set a password/);
    expect(() => host.setAdminPassword(1, 'nope', 'x')).toThrow(/not on host/);
    expect(() => host.setAdminPassword(7, 'i1', 'x')).toThrow(/stale epoch/);
  });

  it('sets no password without admin_pass', async () => {
    const { host, guests } = await spawned(metadataService());
    expect(host.consoleOutput('i1')).not.toContain('cc_set_passwords');
    expect(guests.view('i1')?.rootPasswordSet).toBe(false);
  });

  it('logs the metadata service as unreachable when none is configured', async () => {
    const { host } = await spawned(undefined, guest({ userData: '', keyName: '', publicKey: '' }));
    expect(host.consoleOutput('i1')).toContain("Calling 'http://169.254.169.254/openstack' failed");
  });

  it('a VM that arrived by live migration starts an empty console and does not rerun the script at its next boot', async () => {
    const { host, guests } = setup(metadataService());
    host.prepareIncoming(spec(guest()), 'm-1');
    host.commitIncoming('i1', 'm-1');
    expect(host.consoleOutput('i1')).toBe('');
    host.execute(1, 'i1', { type: 'reboot', hard: false });
    const out = host.consoleOutput('i1');
    expect(out).toContain(' finished at ');
    expect(out).not.toContain('hello from user data');
    expect(guests.view('i1')).toMatchObject({ boots: 2, hostname: 'web-1' });
  });

  it('keeps the last 64 KiB across many boots and forgets the console with the VM', async () => {
    const { host } = await spawned(metadataService());
    for (let i = 0; i < 60; i++) host.execute(1, 'i1', { type: 'reboot', hard: true });
    const out = host.consoleOutput('i1');
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(CONSOLE_LOG_MAX_BYTES);
    expect(Buffer.byteLength(out)).toBeGreaterThan(CONSOLE_LOG_MAX_BYTES - 1000);
    expect(out).not.toContain('hello from user data');
    expect(out).toMatch(/ finished at .*\n$/);
    host.execute(1, 'i1', { type: 'destroy' });
    expect(() => host.consoleOutput('i1')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
