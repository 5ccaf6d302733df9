import { createHash } from 'node:crypto';
import { compute, events } from '@minicloud/proto';
import { heartbeatSubject, POWER_STATE_REPORTED_WILDCARD } from '@minicloud/platform-bus';
import type { Redis } from '@minicloud/platform-state';
import { waitFor } from '@minicloud/testing';
import { startAgentBed, type AgentBed } from './testing/agent-bed';

jest.setTimeout(60_000);

describe('compute-agent (real Redis + NATS, fake controller and image service)', () => {
  const bytes = Buffer.from('qcow2-image-bytes'.repeat(1000));
  const sha = createHash('sha256').update(bytes).digest('hex');
  let epoch = 6;
  let bed: AgentBed;
  let redis: Redis;
  let client: AgentBed['client'];
  const heartbeats: events.Heartbeat[] = [];
  const reports: events.InstancePowerStateReported[] = [];

  beforeAll(async () => {
    bed = await startAgentBed({
      env: { HOST_ID: 'it-host', BOOT_TIME_MS: '50' },
      registerHost: async () => ({ epoch: ++epoch, heartbeatIntervalMs: 100, leaseTtlMs: 900, selfFenceAfterMs: 2000 }),
      overrides: { vtep: null, imageSource: async function* (id) { if (id !== 'img-1') throw new Error(`image ${id} not found`); yield bytes; } },
      epoch: 7,
      beforeStart: async (bus) => {
        bus.subscribe(heartbeatSubject('it-host'), events.Heartbeat, (hb) => void heartbeats.push(hb));
        await bus.consumeEvents({ durable: `it-${Date.now()}`, filterSubject: POWER_STATE_REPORTED_WILDCARD, type: events.InstancePowerStateReported, deliverNew: true, handler: (ev) => void reports.push(ev) });
      },
    });
    ({ redis, client } = bed);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it('registers, heartbeats and renews its lease with the epoch', async () => {
    await waitFor(() => heartbeats.length >= 2);
    expect(heartbeats.at(-1)).toMatchObject({ hostId: 'it-host', epoch: 7 });
    expect(heartbeats[1].sequence).toBeGreaterThan(heartbeats[0].sequence);
    expect(await redis.get('mc:compute-agent:lease:it-host')).toBe('7');
    expect(await redis.pttl('mc:compute-agent:lease:it-host')).toBeGreaterThan(0);
  });

  it('spawns (image fetched, sha256 checked), reports spawned on JetStream, then destroys', async () => {
    const spec = { instanceId: 'vm-1', flavor: { vcpus: 1, ramMb: 512, diskGb: 1 }, image: { imageId: 'img-1', sha256: sha } };
    const res = await client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'vm-1', spawn: { spec } });
    expect(res.instance?.powerState).toBe(compute.PowerState.POWER_STATE_NOSTATE);
    await waitFor(() => reports.some((r) => r.instanceId === 'vm-1' && r.reason === 'spawned'));
    expect(reports.find((r) => r.reason === 'spawned')).toMatchObject({ hostId: 'it-host', epoch: 7, powerState: compute.PowerState.POWER_STATE_RUNNING });
    const status = await client.getHostStatus({ hostId: 'it-host' });
    expect(status.cachedImageIds).toEqual(['img-1']);
    expect(status.usage?.imageCacheBytes).toBe(bytes.length);
    await waitFor(() => heartbeats.at(-1)!.runningInstanceIds.includes('vm-1'));
    await client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'vm-1', destroy: {} });
    await waitFor(() => reports.some((r) => r.instanceId === 'vm-1' && r.reason === 'destroyed'));
    expect((await client.listInstances({ hostId: 'it-host' })).instances).toEqual([]);
  });

  it('reports spawn_failed when the image service has no such image', async () => {
    const spec = { instanceId: 'vm-2', flavor: { vcpus: 1, ramMb: 512, diskGb: 1 }, image: { imageId: 'img-1', sha256: 'ab'.repeat(32) } };
    await client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'vm-2', spawn: { spec: { ...spec, image: { imageId: 'img-missing', sha256: '' } } } });
    await waitFor(() => reports.some((r) => r.instanceId === 'vm-2' && r.reason === 'spawn_failed'));
    expect(reports.find((r) => r.instanceId === 'vm-2')?.error).toContain('img-missing');
  });

  it("boots the guest with the spawn's admin_pass (the console logs that root's password was set, not the password); set_admin_password only on a running VM", async () => {
    const spec = { instanceId: 'vm-3', name: 'pw', flavor: { vcpus: 1, ramMb: 512, diskGb: 1 }, image: { imageId: 'img-1', sha256: sha }, adminPass: 'Zq7vX2mPk9Ta' };
    await client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'vm-3', spawn: { spec } });
    await waitFor(() => reports.some((r) => r.instanceId === 'vm-3' && r.reason === 'spawned'));
    const out = (await client.getConsoleOutput({ hostId: 'it-host', instanceId: 'vm-3' })).output;
    expect(out).toContain("cc_set_passwords.py[DEBUG]: Changing password for ['root']:");
    expect(out).not.toContain('Zq7vX2mPk9Ta');
    const set = await client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'vm-3', setAdminPassword: { adminPass: 'n3w-Secret' } });
    expect(set.instance?.powerState).toBe(compute.PowerState.POWER_STATE_RUNNING);
    await expect(client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'vm-3', setAdminPassword: { adminPass: '' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'set_admin_password.admin_pass' });
    await expect(client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'nope', setAdminPassword: { adminPass: 'x' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.executeCommand({ hostId: 'it-host', epoch: 6, instanceId: 'vm-3', setAdminPassword: { adminPass: 'x' } })).rejects.toMatchObject({ reason: 'stale_epoch' });
    await client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'vm-3', powerOff: { timeoutSeconds: 0 } });
    await expect(client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'vm-3', setAdminPassword: { adminPass: 'x' } })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'instance_not_running' });
    await client.executeCommand({ hostId: 'it-host', epoch: 7, instanceId: 'vm-3', destroy: {} });
  });

  it('refuses a stale epoch and an unknown host', async () => {
    await expect(client.executeCommand({ hostId: 'it-host', epoch: 6, instanceId: 'x', destroy: {} })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'stale_epoch' });
    await expect(client.executeCommand({ hostId: 'other', epoch: 7, instanceId: 'x', destroy: {} })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
