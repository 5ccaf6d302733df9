/**
 * Chaos of live migration, real processes: 3 agents, 1 controller, migrations capped at
 * 1000 Mbit/s (MIGRATION_MAX_BANDWIDTH_MBPS) so round 0 of a 512 MiB VM lasts ~4.3 s (TIME_SCALE 1).
 * 0. A clean live migration through the CLI (`server migrate --live --host --wait`): figures printed.
 * 1. kill -9 the SOURCE agent during round 0: the destination discards its incoming copy (stream
 *    broken); the source host is fenced and HA restarts the VM (a restart, not a migration): it ends
 *    ACTIVE on exactly one live host, the migration record `failed`.
 * 2. kill -9 the DESTINATION agent during round 0: the source keeps the VM running; ACTIVE on the
 *    source, the record `failed`, the destination claim released.
 * The invariant checker runs throughout; it knows the switch-over (the destination's `migrated_in`
 * while the source's paused copy awaits its `migrated_out`) and fails on anything else.
 */
import { compute } from '@minicloud/proto';
import { bootOnHost, startChaosCloud, until, waitAll, type ChaosCloud } from './chaos-kit';

jest.setTimeout(150_000);

describe('chaos: live migration', () => {
  let cc: ChaosCloud;
  const acked: string[] = [];

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 3, controllers: 1, env: { MIGRATION_MAX_BANDWIDTH_MBPS: '1000', MIGRATION_AUTO_CONVERGE: 'true' } });
  });

  afterAll(async () => {
    await cc?.stop();
  });

  afterEach(() => {
    expect(cc.checker.violations).toEqual([]);
  });


  const migrationOf = async (id: string, migrationId: string) => (await cc.compute.listMigrations({ serverId: id })).migrations.find((m) => m.id === migrationId);
  const runningMigration = (id: string, migrationId: string) => until(`migration ${migrationId} running`, async () => (await migrationOf(id, migrationId))?.status === 'running', 15_000, 100);

  it('0. a live migration through the CLI ends on the destination only; figures printed', async () => {
    const [id] = await bootOnHost(cc, 'host-1', 1);
    acked.push(id);
    const t0 = Date.now();
    const r = await cc.cloud.cli(['server', 'migrate', id, '--live', '--host', 'host-2', '--wait', '--timeout', '60', '-f', 'json']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    console.log(
      `live migration 512 MiB idle VM host-1 -> host-2 at 1000 Mbit/s: model total ${m.total_time_ms} ms, downtime ${m.downtime_ms} ms, ` +
        `${m.rounds} rounds, ${m.transferred_bytes} bytes; wall (CLI incl. --wait polling) ${Date.now() - t0} ms`,
    );
    expect(m).toMatchObject({ status: 'completed', source_host: 'host-1', dest_host: 'host-2' });
    expect(m.downtime_ms).toBeLessThanOrEqual(300);
    const [s] = await waitAll(cc, [id], (x) => x.hostId === 'host-2' && x.vmState === compute.VmState.VM_STATE_ACTIVE && x.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED, 10_000, 'server on host-2');
    expect(s.hostId).toBe('host-2');
    await until('source copy gone and destination running', async () => {
      const on = cc.checker.runningOn(id);
      return on.length === 1 && on[0] === 'host-2';
    }, 10_000);
  });

  it('1. kill -9 of the source mid-migration: the VM ends ACTIVE on exactly one host (HA restart), record failed', async () => {
    const [id] = await bootOnHost(cc, 'host-1', 1);
    acked.push(id);
    const res = await cc.compute.serverAction({ serverId: id, migrate: { live: true, hostId: 'host-3' } });
    await runningMigration(id, res.migrationId);
    await new Promise((r) => setTimeout(r, 1000)); // inside round 0 (~4.3 s)
    process.kill(cc.agentPid('host-1'), 'SIGKILL');
    cc.checker.hostKilled('host-1');
    const t0 = Date.now();
    const [s] = await waitAll(cc, [id], (x) => x.vmState === compute.VmState.VM_STATE_ACTIVE && x.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED && x.hostId !== 'host-1' && x.hostId !== '', 40_000, 'server ACTIVE off the killed source');
    console.log(`kill -9 source: ACTIVE again on ${s.hostId} after ${Date.now() - t0} ms (HA restart)`);
    await until('record failed', async () => (await migrationOf(id, res.migrationId))?.status === 'failed', 15_000);
    await until('running on exactly its host', async () => {
      const on = cc.checker.runningOn(id);
      return on.length === 1 && on[0] === s.hostId;
    }, 15_000);
    const actions = (await cc.compute.listInstanceActions({ serverId: id })).actions.map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['live-migration', 'evacuate']));
  });

  it('2. kill -9 of the destination mid-migration: the VM stays ACTIVE on the source, record failed, claim released', async () => {
    const [id] = await bootOnHost(cc, 'host-2', 1);
    acked.push(id);
    const res = await cc.compute.serverAction({ serverId: id, migrate: { live: true, hostId: 'host-3' } });
    await runningMigration(id, res.migrationId);
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(cc.agentPid('host-3'), 'SIGKILL');
    cc.checker.hostKilled('host-3');
    await until('record failed', async () => (await migrationOf(id, res.migrationId))?.status === 'failed', 20_000);
    const [s] = await waitAll(cc, [id], (x) => x.vmState === compute.VmState.VM_STATE_ACTIVE && x.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED, 10_000, 'server ACTIVE');
    expect(s.hostId).toBe('host-2');
    expect(cc.checker.runningOn(id)).toEqual(['host-2']);
    const m = (await migrationOf(id, res.migrationId))!;
    console.log(`kill -9 destination: record ${m.status} (${m.error}), VM stays on host-2`);
    // Every acknowledged VM (including those HA moved off host-3) ends ACTIVE on exactly one host.
    const all = await waitAll(cc, acked, (x) => x.vmState === compute.VmState.VM_STATE_ACTIVE && x.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED && x.hostId !== 'host-1' && x.hostId !== 'host-3', 40_000, 'every VM ACTIVE on host-2');
    await until('reports settled', async () => all.every((x) => cc.checker.runningOn(x.id).join() === x.hostId), 15_000);
    cc.checker.checkAcknowledged(acked, all);
    // The destination claim of the failed migration (and HA's old claims) are gone from the dead host.
    await until('no claims left on host-3', async () => ((await cc.compute.getHost({ hostId: 'host-3' })).host!.vcpus?.allocated ?? 0) === 0, 15_000);
  });
});
