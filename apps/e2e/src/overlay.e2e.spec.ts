/**
 * The overlay end to end: servers on two hosts of a real cloud, traced through the CLI. The trace
 * crosses processes: the network service asks the source host's agent, whose VTEP sends the frame over
 * NATS to the destination host's VTEP, which evaluates ingress and answers. A router's static route
 * takes a packet to the VM that is its nexthop.
 */
import { seedTinyCloud, startCloud, type RunningCloud } from './cloud-harness';

jest.setTimeout(180_000);

describe('overlay traces through the CLI', () => {
  let cloud: RunningCloud;
  const cli = (...args: string[]) => cloud.run(args);
  const json = (...args: string[]) => cloud.json(args);

  beforeAll(async () => {
    cloud = await startCloud({ agents: 2 });
    await cli('login');
    await seedTinyCloud(cloud, { network: 'blue', cidr: '10.30.0.0/24', imageVirtualSize: '1G' });
    await cli('network', 'create', 'green', '--subnet-range', '10.30.0.0/24');
    // anti-affinity by hint: the second server must land on another host than the first
    await cli('server', 'create', 'b1', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'blue', '--wait');
    const b1 = (await json('server', 'show', 'b1')).id;
    await cli('server', 'create', 'b2', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'blue', '--hint', `different_host=${b1}`, '--wait');
    // g1 on the other tenant network with the same CIDR; its address must not also be a blue address
    // (IPs are allocated at random), or the isolation check below would hit a legitimate blue port.
    const blueIps = new Set((await json('port', 'list', '--network', 'blue')).map((p: { fixed_ips: { ip_address: string }[] }) => p.fixed_ips[0].ip_address));
    for (;;) {
      await cli('server', 'create', 'g1', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'green', '--hint', `same_host=${b1}`, '--wait');
      const ip = (await json('server', 'show', 'g1')).addresses[0].ip_address;
      if (!blueIps.has(ip)) break;
      await cli('server', 'delete', 'g1', '--wait');
    }
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it('delivers between two hosts of one network through VXLAN (VNI, UDP 4789, both VTEPs shown)', async () => {
    const b1 = await json('server', 'show', 'b1');
    const b2 = await json('server', 'show', 'b2');
    expect(b1.host_id).not.toBe(b2.host_id);
    const out = await cli('network', 'trace', '--from', 'b1', '--to', 'b2', '--proto', 'tcp', '--port', '22');
    expect(out).toMatch(/DELIVERED/);
    const hops = await json('network', 'trace', '--from', 'b1', '--to', 'b2', '--proto', 'tcp', '--port', '22');
    const stages = hops.map((h: { stage: string }) => h.stage);
    expect(stages).toEqual(expect.arrayContaining(['vtep_encap', 'vtep_decap']));
    const encap = hops.find((h: { stage: string }) => h.stage === 'vtep_encap');
    expect(encap.fields).toMatch(/4789/);
    const hosts = new Set(hops.map((h: { host: string }) => h.host).filter(Boolean));
    expect(hosts).toEqual(new Set([b1.host_id, b2.host_id]));
  });

  it('never lets a frame cross VNIs: the same address on another network is not reachable', async () => {
    const g1 = await json('server', 'show', 'g1');
    const greenIp = g1.addresses[0].ip_address;
    const out = await cli('network', 'trace', '--from', 'b1', '--to', greenIp, '--proto', 'tcp', '--port', '22');
    expect(out).toMatch(/DROPPED/);
    expect(out).not.toContain(g1.id);
  });

  it('follows a static route: a router on blue sends 192.168.70.0/24 to b2, the VM acting as its gateway', async () => {
    const b2 = await json('server', 'show', 'b2');
    const b2Ip = b2.addresses[0].ip_address;
    const router = await json('router', 'create', 'r-static');
    await cli('router', 'add-subnet', router.id, 'blue-subnet');
    const routed = await json('router', 'add-route', router.id, '192.168.70.0/24', b2Ip);
    expect(routed.routes).toEqual([{ destination: '192.168.70.0/24', nexthop: b2Ip }]);
    const out = await cli('network', 'trace', '--from', 'b1', '--to', '192.168.70.5', '--proto', 'icmp');
    expect(out).toMatch(/DELIVERED/);
    expect(out).toContain(`static route 192.168.70.0/24 via ${b2Ip}`);
    const hops = await json('network', 'trace', '--from', 'b1', '--to', '192.168.70.5', '--proto', 'icmp');
    expect(hops.at(-1)).toMatchObject({ stage: 'vnic', host: b2.host_id });
    expect((await json('router', 'remove-route', router.id, '192.168.70.0/24', b2Ip)).routes ?? []).toEqual([]);
    expect(await cli('network', 'trace', '--from', 'b1', '--to', '192.168.70.5', '--proto', 'icmp')).toMatch(/DROPPED/);
  });
});
