import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { Redis } from '@minicloud/platform-state';
import type { CommandContext } from '../context';

/** What the chaos commands read of `<state-dir>/cloud.json` (tools/cloud/main.ts CloudManifest). */
export interface ChaosManifest {
  redis_url: string;
  processes: { name: string; kind: string; pid: number; host_ids?: string[] }[];
}

/** The process-level effects, injectable for tests. */
export interface ChaosOps {
  readManifest(stateDir: string): ChaosManifest;
  /** process.kill(pid, signal) */
  signal(pid: number, signal: NodeJS.Signals): void;
  /** Holder id of the controller leader lease (`pid-<pid>-<uuid>`), or undefined. */
  leaderHolder(redisUrl: string): Promise<string | undefined>;
}

/** The real ops: the manifest file, signals, and a GET of `mc:controller:leader`. */
export const realChaosOps: ChaosOps = {
  readManifest(stateDir) {
    const file = path.join(stateDir, 'cloud.json');
    if (!fs.existsSync(file)) throw new NotFoundError('cloud manifest', file, 'start a cloud with `npm run cloud` or pass --state-dir');
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ChaosManifest;
  },
  signal(pid, signal) {
    process.kill(pid, signal);
  },
  async leaderHolder(redisUrl) {
    const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await r.connect();
      return (await r.get('mc:controller:leader')) ?? undefined;
    } finally {
      r.disconnect();
    }
  },
};

/** The agent process hosting `hostId`. @throws NotFoundError('host', id) */
export function agentOf(m: ChaosManifest, hostId: string): ChaosManifest['processes'][number] {
  const p = m.processes.find((x) => x.kind === 'compute-agent' && (x.host_ids ?? []).includes(hostId));
  if (!p) throw new NotFoundError('host', hostId, 'no agent process of the manifest hosts it');
  return p;
}

/** Pid inside a leader holder id `pid-<pid>-<uuid>`, if any. */
export function pidOfHolder(holder: string | undefined): number | undefined {
  const m = /^pid-(\d+)-/.exec(holder ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * `minicloud chaos kill-host|stop-host|resume-host|kill-controller` for drills against `npm run cloud`:
 * signals the processes listed in `<state-dir>/cloud.json` (default ./.minicloud or MINICLOUD_STATE_DIR).
 * kill-host = SIGKILL the host's agent (a rack fails as one), stop-host = SIGSTOP (a frozen host; its
 * lease lapses and it self-fences on SIGCONT), resume-host = SIGCONT, kill-controller = SIGKILL the
 * leader replica (or --name).
 */
export function registerChaosCommands(program: Command, ctx: CommandContext, ops: ChaosOps = realChaosOps): void {
  const cmd = program.command('chaos').description('chaos drills against a local cloud (signals its processes)');
  const stateDir = (o: { stateDir?: string }) => path.resolve(o.stateDir ?? ctx.io.env.MINICLOUD_STATE_DIR ?? '.minicloud');
  const hostCommand = (name: string, description: string, sig: NodeJS.Signals, verb: string) =>
    cmd
      .command(`${name} <host>`)
      .description(description)
      .option('--state-dir <dir>', 'state dir of the cloud (its cloud.json)')
      .action(async (hostId: string, o: { stateDir?: string }) => {
        const p = agentOf(ops.readManifest(stateDir(o)), hostId);
        ops.signal(p.pid, sig);
        const rack = (p.host_ids ?? []).length > 1 ? ` (rack: ${(p.host_ids ?? []).join(', ')})` : '';
        ctx.out(`${verb} ${p.name} (pid ${p.pid}, ${sig}) hosting ${hostId}${rack}\n`);
      });
  hostCommand('kill-host', 'kill -9 the agent process of a host', 'SIGKILL', 'killed');
  hostCommand('stop-host', 'freeze (SIGSTOP) the agent process of a host', 'SIGSTOP', 'stopped');
  hostCommand('resume-host', 'resume (SIGCONT) a stopped host', 'SIGCONT', 'resumed');
  cmd
    .command('kill-controller')
    .description('kill -9 the leader controller replica (or the one named)')
    .option('--name <name>', 'a controller process name from cloud.json (e.g. controller-2)')
    .option('--state-dir <dir>', 'state dir of the cloud (its cloud.json)')
    .action(async (o: { name?: string; stateDir?: string }) => {
      const m = ops.readManifest(stateDir(o));
      const controllers = m.processes.filter((p) => p.kind === 'controller' || p.name.startsWith('controller'));
      let target;
      if (o.name) {
        target = controllers.find((p) => p.name === o.name);
        if (!target) throw new InvalidArgumentError('name', `no controller named '${o.name}' (have: ${controllers.map((p) => p.name).join(', ')})`);
      } else {
        const pid = pidOfHolder(await ops.leaderHolder(m.redis_url));
        target = controllers.find((p) => p.pid === pid);
        if (!target) throw new FailedPreconditionError('no controller of this cloud holds the leader lease right now', 'no_leader');
      }
      ops.signal(target.pid, 'SIGKILL');
      ctx.out(`killed ${target.name} (pid ${target.pid}, SIGKILL)${o.name ? '' : ' (the leader)'}\n`);
    });
}
