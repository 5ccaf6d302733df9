/**
 * The walking skeleton, end to end: the README's bring-up command starts the cloud as processes (own
 * redis-server and nats-server, identity, image, volume, network, controller, 3 agents); everything
 * else goes through the `minicloud` CLI as a user would, plus direct gRPC for what the CLI refuses
 * locally. Then Redis is inspected for anything left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import Redis from 'ioredis';
import { compute } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { InvalidArgumentError, NotFoundError, UnauthenticatedError } from '@minicloud/domain-errors';
import { sampleSum, scrape, startCloud, type RunningCloud } from './cloud-harness';

jest.setTimeout(240_000);

describe('boot 20 servers through the CLI and delete them', () => {
  let cloud: RunningCloud;
  let redis: Redis;
  let networkId = '';
  let imageId = '';
  const serverIds: string[] = [];
  const portIds: string[] = [];

  const cli = (...args: string[]) => cloud.run(args);
  const json = (...args: string[]) => cloud.json(args);

  beforeAll(async () => {
    cloud = await startCloud({ agents: 3 });
    redis = new Redis(cloud.manifest.redis_url);
    await cli('login');
    // The admin project has Nova's default quota (10 instances); this suite boots 20.
    await cli('quota', 'set', 'admin', '--instances=-1', '--cores=-1', '--ram=-1');
  });

  afterAll(async () => {
    redis?.disconnect();
    await cloud?.stop();
  });

  it('seeds a flavor, a real qcow2 image and a network through the CLI', async () => {
    await cli('flavor', 'create', 'm1.tiny', '--vcpus', '1', '--ram', '512', '--disk', '1');
    const file = path.join(cloud.stateDir, 'cirros.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '1G']);
    const img = await json('image', 'create', 'cirros', '--file', file, '--disk-format', 'qcow2', '--public');
    expect(img).toMatchObject({ status: 'active', disk_format: 'qcow2', virtual_size_bytes: 1073741824 });
    imageId = img.id;
    const net = await json('network', 'create', 'e2e-net', '--subnet-range', '10.20.0.0/24');
    expect(net.segmentation_id).toBeGreaterThan(0);
    expect(net.mtu).toBe(1450);
    networkId = net.id;
  });

  it('boots 20 servers, all ACTIVE, spread over the 3 hosts', async () => {
    const hostsBefore = await json('host', 'list');
    expect(hostsBefore).toHaveLength(3);
    const out = await cli('server', 'create', 'web', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'e2e-net', '--count', '20', '--wait', '--timeout', '120');
    expect(out).not.toMatch(/ERROR/);
    const servers = (await json('server', 'list', '--all-projects')).filter((s: { name: string }) => s.name.startsWith('web'));
    expect(servers).toHaveLength(20);
    for (const s of servers) {
      expect(s).toMatchObject({ status: 'ACTIVE', vm_state: 'active', power_state: 'running' });
      expect(s.task_state ?? null).toBeNull();
      serverIds.push(s.id);
    }
    const byHost = new Map<string, number>();
    for (const s of servers) byHost.set(s.host_id, (byHost.get(s.host_id) ?? 0) + 1);
    expect([...byHost.keys()].sort()).toEqual(hostsBefore.map((h: { id: string }) => h.id).sort());
    const ports = await json('port', 'list', '--network', 'e2e-net');
    expect(ports).toHaveLength(20);
    for (const p of ports) {
      expect(serverIds).toContain(p.device_id);
      expect(p.binding_host_id).toBe(servers.find((s: { id: string }) => s.id === p.device_id).host_id);
      portIds.push(p.id);
    }
    const ips = ports.map((p: { fixed_ips: { ip_address: string }[] }) => p.fixed_ips[0].ip_address);
    expect(new Set(ips).size).toBe(20);

    // The agents agree: each reports the VMs it runs and their allocation.
    const hosts = await json('host', 'list');
    const allocated = hosts.reduce((sum: number, h: { vcpus: { allocated: number } }) => sum + h.vcpus.allocated, 0);
    expect(allocated).toBe(20);
  });

  it('exports the metrics an operator needs from every process', async () => {
    const controller = cloud.manifest.processes.find((p) => p.name === 'controller')!;
    const text = await scrape(controller.metrics_url, cloud.manifest.metrics_bearer_token);
    expect(sampleSum(text, 'minicloud_compute_instances', { vm_state: 'active' })).toBe(20);
    expect(sampleSum(text, 'minicloud_compute_hosts', { state: 'up' })).toBe(3);
    expect(sampleSum(text, 'minicloud_compute_host_vcpus', { kind: 'allocated' })).toBe(20);
    expect(sampleSum(text, 'minicloud_compute_host_vcpus', { kind: 'capacity' })).toBeGreaterThan(20);
    expect(sampleSum(text, 'minicloud_compute_host_ram_mb', { kind: 'allocated' })).toBe(20 * 512);
    for (const p of cloud.manifest.processes) {
      const m = await scrape(p.metrics_url, cloud.manifest.metrics_bearer_token);
      expect(sampleSum(m, 'minicloud_process_cpu_seconds_total')).toBeGreaterThan(0);
      if (!p.grpc_address) continue; // the OpenStack REST front serves HTTP only: no gRPC series
      expect(m).toMatch(/minicloud_grpc_server_handling_seconds_bucket/);
      expect(sampleSum(m, 'minicloud_grpc_server_handled_total')).not.toBeNaN();
    }
    const served = (name: string, method: string) =>
      scrape(cloud.manifest.processes.find((p) => p.name === name)!.metrics_url, cloud.manifest.metrics_bearer_token).then((m) => sampleSum(m, 'minicloud_grpc_server_handled_total', { grpc_method: method, grpc_code: 'OK' }));
    expect(await served('controller', 'createServer')).toBe(1);
    expect(await served('network', 'createPort')).toBe(20);
    expect(await served('identity', 'authenticate')).toBeGreaterThan(0);
    const agent = cloud.manifest.processes.find((p) => p.kind === 'compute-agent')!;
    const am = await scrape(agent.metrics_url, cloud.manifest.metrics_bearer_token);
    expect(sampleSum(am, 'minicloud_host_vcpus', { kind: 'allocated' })).toBeGreaterThan(0);
    expect(sampleSum(am, 'minicloud_host_running_vms')).toBeGreaterThan(0);
    expect(sampleSum(am, 'minicloud_host_power_watts')).toBeGreaterThan(0);
    expect(sampleSum(am, 'minicloud_host_energy_joules_total')).toBeGreaterThan(0);
  });

  it('refuses bad input with one clear line and creates nothing', async () => {
    const portsBefore = (await json('port', 'list')).length;
    const unknownFlavor = await cloud.cli(['server', 'create', 'x', '--image', 'cirros', '--flavor', 'm1.huge', '--network', 'e2e-net']);
    expect(unknownFlavor.code).toBe(1);
    expect(unknownFlavor.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknownFlavor.stderr).toMatch(/flavor.*m1\.huge.*not found/i);
    const unknownImage = await cloud.cli(['server', 'create', 'x', '--image', 'nope', '--flavor', 'm1.tiny', '--network', 'e2e-net']);
    expect(unknownImage.code).toBe(1);
    expect(unknownImage.stderr).toMatch(/image.*nope.*not found/i);
    const unknownNet = await cloud.cli(['server', 'create', 'x', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'nowhere']);
    expect(unknownNet.code).toBe(1);
    expect(unknownNet.stderr).toMatch(/network.*nowhere.*not found/i);
    const badCount = await cloud.cli(['server', 'create', 'x', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'e2e-net', '--count', '-1']);
    expect(badCount.code).toBe(1);
    expect(badCount.stderr).toMatch(/--count/);
    const badFlavor = await cloud.cli(['flavor', 'create', 'bad', '--vcpus', '-2', '--ram', '512', '--disk', '1']);
    expect(badFlavor.code).toBe(1);
    expect(badFlavor.stderr).toMatch(/vcpus.*INVALID_ARGUMENT/);
    const badLogin = await cloud.cli(['server', 'list'], { MINICLOUD_PASSWORD: 'wrong', MINICLOUD_CONFIG_DIR: path.join(cloud.stateDir, 'cli-bad') });
    expect(badLogin.code).toBe(1);
    expect(badLogin.stderr).toMatch(/UNAUTHENTICATED/);

    // The same through gRPC directly: codes and the fields they name.
    const controller = cloud.manifest.processes.find((p) => p.name === 'controller')!;
    const anon = createServiceClient(compute.ComputeServiceService, controller.grpc_address);
    await expect(anon.listServers({})).rejects.toBeInstanceOf(UnauthenticatedError);
    const forged = createServiceClient(compute.ComputeServiceService, controller.grpc_address, { token: () => 'eyJhbGciOiJFZERTQSJ9.e30.AAAA' });
    await expect(forged.listServers({})).rejects.toBeInstanceOf(UnauthenticatedError);
    const token = JSON.parse(fs.readFileSync(path.join(cloud.stateDir, 'cli', 'credentials.json'), 'utf8')).token;
    const c = createServiceClient(compute.ComputeServiceService, controller.grpc_address, { token: () => token });
    await expect(c.createServer({ name: '', flavorRef: 'm1.tiny', imageRef: imageId, networks: [{ networkId }] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'name',
    });
    await expect(c.createServer({ name: 'x', flavorRef: 'm1.tiny', imageRef: imageId, networks: [{ networkId }], minCount: -3 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(c.createServer({ name: 'x', flavorRef: 'm1.tiny', imageRef: imageId, networks: [{ networkId: 'no-such-net' }] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      resourceType: 'network',
    });
    await expect(c.getServer({ serverId: 'no-such-server' })).rejects.toBeInstanceOf(NotFoundError);
    // A request no host can hold fails whole (NoValidHost) and leaves no port or claim behind.
    await cli('flavor', 'create', 'm1.giant', '--vcpus', '4', '--ram', String(64 * 1024 * 1024), '--disk', '1');
    const giant = await cloud.cli(['server', 'create', 'g', '--image', 'cirros', '--flavor', 'm1.giant', '--network', 'e2e-net']);
    expect(giant.code).toBe(1);
    expect(giant.stderr).toMatch(/No valid host/i);
    expect((await json('port', 'list')).length).toBe(portsBefore);
    [anon, forged, c].forEach((x) => x.close());
  });

  it('deletes them: claims released, ports deleted, no key left behind in Redis', async () => {
    await cli('server', 'delete', ...serverIds, '--wait', '--timeout', '120');
    const left = (await json('server', 'list', '--all-projects')).filter((s: { name: string }) => s.name.startsWith('web'));
    expect(left).toEqual([]);
    const hosts = await json('host', 'list');
    for (const h of hosts) {
      expect(h.vcpus.allocated).toBe(0);
      expect(h.ram_mb.allocated).toBe(0);
      expect(h.disk_gb.allocated).toBe(0);
    }
    expect(await json('port', 'list', '--network', 'e2e-net')).toEqual([]);

    const ids = [...serverIds, ...portIds];
    const offenders: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if (ids.some((id) => key.includes(id))) offenders.push(key);
        const type = await redis.type(key);
        const members =
          type === 'set' ? await redis.smembers(key) : type === 'zset' ? await redis.zrange(key, 0, -1) : type === 'hash' ? await redis.hkeys(key) : type === 'list' ? await redis.lrange(key, 0, -1) : [];
        for (const m of members) if (ids.some((id) => m.includes(id))) offenders.push(`${key} -> ${m}`);
      }
    } while (cursor !== '0');
    expect(offenders).toEqual([]);
  });
});
