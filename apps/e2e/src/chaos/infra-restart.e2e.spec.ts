/**
 * Chaos, infrastructure restart: Redis (AOF, appendfsync always) and NATS (JetStream on disk) are killed
 * and started again during a load of creates. Services reconnect; no acknowledged write is lost: every
 * create that was acknowledged exists and ends ACTIVE or ERROR with a fault, none stuck.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { compute } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { portOpen } from '../../../../tools/cloud/local-servers';
import { activeOrFaulted, pidsMatching, processSpec, startChaosCloud, until, waitAll, type ChaosCloud } from './chaos-kit';

jest.setTimeout(240_000);

describe('chaos: Redis and NATS restarted under load', () => {
  let cc: ChaosCloud;
  const restarted: ChildProcess[] = [];

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 3, controllers: 2 });
  });

  afterAll(async () => {
    await cc?.stop();
    for (const c of restarted) c.kill('SIGTERM');
  });

  /** kill -9 the process, start it again with the same command line (+ extra args). */
  const restart = async (pid: number, name: string, port: number, extraArgs: string[] = [], argv?: string[]) => {
    const spec = processSpec(pid);
    if (argv) spec.argv = argv;
    process.kill(pid, 'SIGKILL');
    await until(`${name} gone`, async () => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 5000, 20);
    const log = fs.openSync(path.join(cc.cloud.stateDir, `${name}-restarted.log`), 'a');
    const child = spawn(spec.argv[0], [...spec.argv.slice(1), ...extraArgs], { env: spec.env, stdio: ['ignore', log, log] });
    restarted.push(child);
    const logFile = path.join(cc.cloud.stateDir, `${name}-restarted.log`);
    await until(`${name} listening again`, async () => child.exitCode === null && (await portOpen(port)), 15_000, 50).catch((e: Error) => {
      throw new Error(`${e.message}; exit ${child.exitCode}; log: ${fs.readFileSync(logFile, 'utf8').slice(-800)}`);
    });
    return child;
  };

  it('4. services reconnect and no acknowledged write is lost', async () => {
    const redisPort = new URL(cc.cloud.manifest.redis_url).port;
    const natsPort = new URL(cc.cloud.manifest.nats_url).port;
    const [redisPid] = pidsMatching('redis-server', `:${redisPort}`).concat(pidsMatching('redis-server', redisPort));
    const [natsPid] = pidsMatching('nats-server', natsPort);
    expect(redisPid).toBeGreaterThan(0);
    expect(natsPid).toBeGreaterThan(0);
    const admin = new Redis(cc.cloud.manifest.redis_url);
    await admin.config('SET', 'appendfsync', 'always');
    admin.disconnect();

    const acked: string[] = [];
    let failed = 0;
    let stop = false;
    const client = createServiceClient(compute.ComputeServiceService, `ipv4:${cc.cloud.manifest.processes.filter((p) => p.kind === 'controller').map((p) => p.grpc_address).join(',')}`, { token: () => cc.token, deadlineMs: 10_000 });
    const loadUntil = Date.now() + 30_000;
    const load = (async () => {
      for (let i = 0; !stop && i < 40 && Date.now() < loadUntil; i++) {
        try {
          const res = await client.createServer({ name: `load-${i}`, flavorRef: 'm1.tiny', imageRef: cc.imageId, networks: [{ networkId: cc.networkId }] });
          acked.push(res.servers[0].id);
        } catch {
          failed++;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await until('some creates acknowledged', async () => acked.length >= 5, 60_000, 50);
    // redis-server rewrites its process title: restart it from its known command line (tools/cloud/local-servers.ts).
    await restart(redisPid, 'redis', Number(redisPort), [], ['redis-server', '--port', redisPort, '--bind', '127.0.0.1', '--dir', path.join(cc.cloud.stateDir, 'redis'), '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--aclfile', path.join(cc.cloud.manifest.secrets_dir!, 'redis-users.acl')]);
    await new Promise((r) => setTimeout(r, 1500));
    await restart(natsPid, 'nats', Number(natsPort));
    await load;
    stop = true;
    client.close();
    console.log(`chaos 4: ${acked.length} creates acknowledged, ${failed} refused during the restarts`);
    expect(acked.length).toBeGreaterThan(10);
    const servers = await waitAll(cc, acked, activeOrFaulted, 120_000, 'every acknowledged create ACTIVE or ERROR with a fault');
    const active = servers.filter((s) => s.vmState === compute.VmState.VM_STATE_ACTIVE).length;
    console.log(`chaos 4: ${active} ACTIVE, ${servers.length - active} ERROR`);
    cc.checker.checkAcknowledged(acked, servers);
    expect(cc.checker.violations).toEqual([]);
  });
});
