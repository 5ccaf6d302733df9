import { FakeClock } from '@minicloud/testing';
import { ImageCache, profileByName } from '@minicloud/domain-hypervisor';
import { NotFoundError } from '@minicloud/domain-errors';
import { SimulatedHost, type ImageProvider, type PowerReport } from './simulated-host';
import type { VmSpec } from './vm-spec';

class FakeImages implements ImageProvider {
  readonly cache = new ImageCache(10 * 2 ** 30);
  pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  acquires = 0;
  async acquire(want: { imageId: string }) {
    this.acquires++;
    if (this.cache.has(want.imageId)) {
      this.cache.pin(want.imageId);
      return { cached: true, sizeBytes: 1000 };
    }
    await new Promise<void>((resolve, reject) => this.pending.set(want.imageId, { resolve, reject }));
    this.cache.add(want.imageId, 1000);
    this.cache.pin(want.imageId);
    return { cached: false, sizeBytes: 1000 };
  }
  release(id: string) {
    this.cache.unpin(id);
  }
  cachedImageIds() {
    return this.cache.entries().map((e) => e.imageId);
  }
}

const spec = (id: string, over: Partial<VmSpec> = {}): VmSpec => ({
  instanceId: id, flavor: { vcpus: 2, ramMb: 2048, diskGb: 20 }, image: { imageId: 'img-1', sha256: '' },
  workload: { kind: 'constant', utilizationRatio: 0.5 }, portIds: ['p1'], volumeIds: [], ...over,
});

function setup() {
  const clock = new FakeClock();
  const images = new FakeImages();
  const reports: PowerReport[] = [];
  const newer: number[] = [];
  const host = new SimulatedHost({
    profile: profileByName('hp-proliant-ml110-g4', 'h1'), clock, images, report: (r) => reports.push(r),
    bootModel: { fetchBandwidthMbps: 1000, overlayCreateMs: 20, guestBootMs: 300 }, onNewerEpoch: (e) => newer.push(e),
  });
  host.setEpoch(3);
  return { clock, images, reports, host, newer };
}
const flush = () => new Promise((r) => setImmediate(r));

/** A host with the VMs `ids` spawned from a cached image and booted. */
async function booted(ids: string[], over: Partial<VmSpec> = {}) {
  const env = setup();
  env.images.cache.add('img-1', 1000);
  for (const id of ids) env.host.execute(3, id, { type: 'spawn', spec: spec(id, over) });
  await flush();
  env.clock.advance(400);
  return env;
}

describe('SimulatedHost.execute', () => {
  it('refuses a stale or future epoch with FAILED_PRECONDITION stale_epoch, and asks to re-register on a newer one', () => {
    const { host, newer } = setup();
    expect(() => host.execute(2, 'i1', { type: 'spawn', spec: spec('i1') })).toThrow(expect.objectContaining({ code: 'FAILED_PRECONDITION', reason: 'stale_epoch' }));
    expect(newer).toEqual([]);
    expect(() => host.execute(4, 'i1', { type: 'destroy' })).toThrow(expect.objectContaining({ reason: 'stale_epoch' }));
    expect(newer).toEqual([4]);
    expect(host.runtimes()).toEqual([]);
  });

  it('refuses a guest CPU its own CPU cannot run (spawn and incoming migration), FAILED_PRECONDITION cpu_incompatible', () => {
    const { host } = setup(); // an HP ML110 G4: Intel Xeon 3040, Core 2 flags
    const g5Passthrough = { mode: 'host-passthrough' as const, model: 'Intel Xeon 3075', flags: [...profileByName('hp-proliant-ml110-g5', 'x').cpuFlags] };
    const skylakeModel = { mode: 'host-model' as const, model: 'Intel Xeon Gold 6142', flags: [...profileByName('std-2s32c-256g', 'x').cpuFlags] };
    expect(() => host.prepareIncoming(spec('i1', { guestCpu: g5Passthrough }), 'm1')).toThrow(expect.objectContaining({ code: 'FAILED_PRECONDITION', reason: 'cpu_incompatible', message: expect.stringContaining('Intel Xeon 3075') }));
    expect(() => host.execute(3, 'i2', { type: 'spawn', spec: spec('i2', { guestCpu: skylakeModel }) })).toThrow(expect.objectContaining({ reason: 'cpu_incompatible', message: expect.stringContaining('avx512f') }));
    expect(host.runtimes()).toEqual([]);
    // The same model's passthrough CPU, and a host-model CPU of the same flags from a G5, are fine.
    expect(host.prepareIncoming(spec('i3', { guestCpu: { ...g5Passthrough, model: 'Intel Xeon 3040' } }), 'm3').powerState).toBe('paused');
    expect(host.prepareIncoming(spec('i4', { guestCpu: { ...g5Passthrough, mode: 'host-model' } }), 'm4').powerState).toBe('paused');
  });

  it('in memory state low refuses spawns and incoming migrations with RESOURCE_EXHAUSTED host_memory_low', async () => {
    // Three 2 GiB guests touching all their memory on a 4 GiB host: no free memory even after page sharing.
    const { host, clock } = await booted(['i1', 'i2', 'i0'], { flavor: { vcpus: 1, ramMb: 2048, diskGb: 1 }, workload: { kind: 'constant', utilizationRatio: 1 } });
    clock.advance(1000);
    host.tick(); // the model ticker's turn
    expect(host.modelSnapshot().memory.state).toBe('low');
    expect(host.usage().memoryState).toBe('low');
    const refusal = expect.objectContaining({ code: 'RESOURCE_EXHAUSTED', reason: 'host_memory_low', message: expect.stringContaining('memory state low') });
    expect(() => host.execute(3, 'i3', { type: 'spawn', spec: spec('i3', { flavor: { vcpus: 1, ramMb: 256, diskGb: 1 } }) })).toThrow(refusal);
    expect(() => host.prepareIncoming(spec('i4', { flavor: { vcpus: 1, ramMb: 256, diskGb: 1 } }), 'm4')).toThrow(refusal);
    expect(host.runtimes().map((r) => r.instanceId).sort()).toEqual(['i0', 'i1', 'i2']);
  });

  it('spawn returns building at once, fetches, waits the boot model on the clock, then reports spawned', async () => {
    const { host, images, clock, reports } = setup();
    const rt = host.execute(3, 'i1', { type: 'spawn', spec: spec('i1') });
    expect(rt).toMatchObject({ powerState: 'nostate', building: true });
    await flush();
    images.pending.get('img-1')!.resolve();
    await flush();
    clock.advance(319);
    expect(reports).toEqual([]);
    clock.advance(2); // 0.008 ms fetch + 20 ms overlay + 300 ms boot
    expect(reports).toEqual([expect.objectContaining({ instanceId: 'i1', powerState: 'running', reason: 'spawned', epoch: 3 })]);
    expect(host.runtime('i1')).toMatchObject({ powerState: 'running', cpuUtilizationRatio: 0.5 });
    expect(host.usage()).toMatchObject({ vcpusUsed: 2, runningVms: 1, cpuUtilizationRatio: 0.5 });
    expect(host.usage().powerWatts).toBeCloseTo(102);
  });

  it('is idempotent: a second spawn answers the current runtime and shares the download', async () => {
    const { host, images } = setup();
    host.execute(3, 'i1', { type: 'spawn', spec: spec('i1') });
    const again = host.execute(3, 'i1', { type: 'spawn', spec: spec('i1') });
    expect(again.building).toBe(true);
    await flush();
    expect(images.acquires).toBe(1);
    expect(host.runtimes()).toHaveLength(1);
  });

  it('reports spawn_failed and removes the VM when the image fetch fails', async () => {
    const { host, images, reports } = setup();
    host.execute(3, 'i1', { type: 'spawn', spec: spec('i1') });
    await flush();
    images.pending.get('img-1')!.reject(new NotFoundError('image', 'img-1'));
    await flush();
    expect(reports).toEqual([expect.objectContaining({ reason: 'spawn_failed', powerState: 'nostate', error: expect.stringContaining('img-1') })]);
    expect(host.runtimes()).toEqual([]);
    expect(host.usage().vcpusUsed).toBe(0);
  });

  it('refuses a spawn the host cannot hold with RESOURCE_EXHAUSTED and defines nothing', () => {
    const { host } = setup();
    expect(() => host.execute(3, 'big', { type: 'spawn', spec: spec('big', { flavor: { vcpus: 1, ramMb: 8192, diskGb: 1 } }) })).toThrow(
      expect.objectContaining({ code: 'RESOURCE_EXHAUSTED', reason: 'host_ram_exhausted' }),
    );
    expect(host.runtimes()).toEqual([]);
  });

  it('destroy during the boot cancels it, unpins the image and reports destroyed; destroying again succeeds', async () => {
    const { host, images, clock, reports } = setup();
    host.execute(3, 'i1', { type: 'spawn', spec: spec('i1') });
    await flush();
    images.pending.get('img-1')!.resolve();
    await flush();
    host.execute(3, 'i1', { type: 'destroy' });
    clock.advance(10_000);
    expect(reports.map((r) => r.reason)).toEqual(['destroyed']);
    expect(images.cache.isPinned('img-1')).toBe(false);
    expect(host.execute(3, 'i1', { type: 'destroy' })).toMatchObject({ powerState: 'nostate' });
    expect(reports.map((r) => r.reason)).toEqual(['destroyed', 'destroyed']);
    expect(reports[1].sequence).toBeGreaterThan(reports[0].sequence);
  });

  it('applies power commands synchronously with reasons; repeats are no-ops; invalid ones name the power state', async () => {
    const { host, reports } = await booted(['i1']);
    expect(host.execute(3, 'i1', { type: 'power_off' }).powerState).toBe('shutdown');
    expect(host.execute(3, 'i1', { type: 'power_off' }).powerState).toBe('shutdown');
    expect(() => host.execute(3, 'i1', { type: 'pause' })).toThrow(expect.objectContaining({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('shutdown') }));
    host.execute(3, 'i1', { type: 'power_on' });
    host.execute(3, 'i1', { type: 'reboot', hard: false }, 'req-9');
    host.execute(3, 'i1', { type: 'reboot', hard: false }, 'req-9');
    expect(reports.map((r) => r.reason)).toEqual(['spawned', 'powered_off', 'powered_on', 'rebooted']);
    expect(host.usage().cpuUtilizationRatio).toBeGreaterThan(0);
    expect(() => host.execute(3, 'nope', { type: 'pause' })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('hot-plugs and unplugs vNICs on a running or shut-off VM: the runtime and the model gain and lose the NIC; repeats are no-ops', async () => {
    const { host, reports } = await booted(['i1']);
    expect(host.runtime('i1')!.portIds).toEqual(['p1']);
    expect(host.execute(3, 'i1', { type: 'attach_interface', portId: 'p2', macAddress: 'fa:16:3e:00:00:02' }).portIds).toEqual(['p1', 'p2']);
    expect(host.modelSnapshot().vms.get('i1')!.vnics.map((n) => n.portId)).toEqual(['p1', 'p2']);
    host.execute(3, 'i1', { type: 'attach_interface', portId: 'p2', macAddress: 'fa:16:3e:00:00:02' });
    // a boot-time vNIC goes as a hot-plugged one does
    expect(host.execute(3, 'i1', { type: 'detach_interface', portId: 'p1' }).portIds).toEqual(['p2']);
    expect(host.modelSnapshot().vms.get('i1')!.vnics.map((n) => n.portId)).toEqual(['p2']);
    host.execute(3, 'i1', { type: 'detach_interface', portId: 'p1' });
    host.execute(3, 'i1', { type: 'power_off' });
    expect(host.execute(3, 'i1', { type: 'attach_interface', portId: 'p3', macAddress: 'fa:16:3e:00:00:03' }).portIds).toEqual(['p2', 'p3']);
    expect(host.execute(3, 'i1', { type: 'detach_interface', portId: 'p2' }).portIds).toEqual(['p3']);
    expect(reports.map((r) => r.reason)).toEqual(['spawned', 'interface_attached', 'interface_detached', 'powered_off', 'interface_attached', 'interface_detached']);
  });

  it('refuses a hot-plug on a paused VM naming its power state, and on an unknown VM with NOT_FOUND', async () => {
    const { host } = await booted(['i1']);
    host.execute(3, 'i1', { type: 'pause' });
    expect(() => host.execute(3, 'i1', { type: 'attach_interface', portId: 'p2', macAddress: '' })).toThrow(expect.objectContaining({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('paused') }));
    expect(host.runtime('i1')!.portIds).toEqual(['p1']);
    expect(() => host.execute(3, 'nope', { type: 'attach_interface', portId: 'p2', macAddress: '' })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('self-fencing powers off running VMs and reports self_fenced', async () => {
    const { host, reports } = await booted(['i1']);
    expect(host.powerOffAll('self_fenced')).toEqual(['i1']);
    expect(reports.at(-1)).toMatchObject({ reason: 'self_fenced', powerState: 'shutdown' });
  });
});

describe('SimulatedHost models', () => {
  it('overcommitted VMs share the 2 G4 cores and report ready time through runtimes', async () => {
    // two 2-vCPU VMs at 100 % demand 7440 MHz on 3720 MHz: each runs 1860 MHz, ready 50 %
    const { host, clock } = await booted(['a', 'b'], { workload: { kind: 'constant', utilizationRatio: 1 } });
    clock.advance(1000);
    const snap = host.tick();
    expect(snap.vms.get('a')!.cpu.usageMhz).toBeCloseTo(1860, 6);
    expect(host.runtime('a')).toMatchObject({ cpuUsageMhz: 1860, cpuReadyRatio: 0.5, cpuUtilizationRatio: 0.5 });
    expect(host.usage()).toMatchObject({ cpuUtilizationRatio: 1, powerWatts: 117 });
  });

  it('applies the spec\'s CPU controls (flavor quota:* extra specs): a reservation is honoured, a limit caps', async () => {
    // a: 2 vCPUs at 100 % with a 3000 MHz reservation; b: 2 vCPUs at 100 % limited to 500 MHz, on 3720 MHz
    const { host, clock } = await booted(['a'], { workload: { kind: 'constant', utilizationRatio: 1 }, controls: { cpu: { reservationMhz: 3000 } } });
    host.execute(3, 'b', { type: 'spawn', spec: spec('b', { workload: { kind: 'constant', utilizationRatio: 1 }, controls: { cpu: { limitMhz: 500 } } }) });
    await flush();
    clock.advance(400);
    clock.advance(1000);
    const snap = host.tick();
    expect(snap.vms.get('b')!.cpu.usageMhz).toBeCloseTo(500, 6);
    expect(snap.vms.get('a')!.cpu.usageMhz).toBeCloseTo(3220, 6);
  });

  it('power_off stops the VM in the model at once; snapshot adds a QCOW2 layer; destroy removes it', async () => {
    const { host, clock } = await booted(['a']);
    clock.advance(10_000);
    host.tick();
    expect(host.runtime('a')!.diskAllocatedBytes).toBeGreaterThan(0);
    host.execute(3, 'a', { type: 'snapshot' });
    expect(host.modelSnapshot().vms.get('a')!.disk.layers).toBe(3);
    host.execute(3, 'a', { type: 'power_off' });
    expect(host.runtime('a')).toMatchObject({ cpuUtilizationRatio: 0, memoryActiveMb: 0 });
    host.execute(3, 'a', { type: 'destroy' });
    expect(host.modelSnapshot().vms.size).toBe(0);
  });

  it('VMs from the same image share pages (TPS) in the memory model', async () => {
    const { host } = await booted(['a', 'b']);
    expect(host.modelSnapshot().memory.sharedSavedMb).toBeGreaterThan(0);
  });
});
