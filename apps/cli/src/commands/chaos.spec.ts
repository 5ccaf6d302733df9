import { Command } from 'commander';
import { FailedPreconditionError, NotFoundError } from '@minicloud/domain-errors';
import type { CommandContext } from '../context';
import { pidOfHolder, registerChaosCommands, type ChaosManifest, type ChaosOps } from './chaos';

const manifest: ChaosManifest = {
  redis_url: 'redis://127.0.0.1:1',
  processes: [
    { name: 'controller', kind: 'controller', pid: 100 },
    { name: 'controller-2', kind: 'controller', pid: 101 },
    { name: 'agent-1', kind: 'compute-agent', pid: 201, host_ids: ['host-1'] },
    { name: 'agent-2', kind: 'compute-agent', pid: 202, host_ids: ['host-2-1', 'host-2-2'] },
  ],
};

function run(argv: string[], leader?: string) {
  const signals: string[] = [];
  const dirs: string[] = [];
  let out = '';
  const ops: ChaosOps = {
    readManifest: (d) => (dirs.push(d), manifest),
    signal: (pid, sig) => void signals.push(`${pid} ${sig}`),
    leaderHolder: async () => leader,
  };
  const program = new Command().exitOverride();
  const ctx = { io: { env: {} }, out: (t: string) => (out += t) } as unknown as CommandContext;
  registerChaosCommands(program, ctx, ops);
  return { done: program.parseAsync(['node', 'minicloud', ...argv]), signals, dirs, out: () => out };
}

describe('minicloud chaos', () => {
  it.each([
    ['kill-host', 'SIGKILL'],
    ['stop-host', 'SIGSTOP'],
    ['resume-host', 'SIGCONT'],
  ])('%s signals the agent hosting the host (%s), reading --state-dir', async (verb, sig) => {
    const r = run(['chaos', verb, 'host-2-2', '--state-dir', '/tmp/cloud-x']);
    await r.done;
    expect(r.signals).toEqual([`202 ${sig}`]);
    expect(r.dirs).toEqual(['/tmp/cloud-x']);
    expect(r.out()).toContain('agent-2 (pid 202');
    expect(r.out()).toContain('rack: host-2-1, host-2-2');
  });

  it('refuses an unknown host with NOT_FOUND and signals nothing', async () => {
    const r = run(['chaos', 'kill-host', 'host-9']);
    await expect(r.done).rejects.toBeInstanceOf(NotFoundError);
    expect(r.signals).toEqual([]);
  });

  it('kill-controller kills the leader found in the lease holder id', async () => {
    const r = run(['chaos', 'kill-controller'], 'pid-101-abc');
    await r.done;
    expect(r.signals).toEqual(['101 SIGKILL']);
  });

  it('kill-controller --name kills that replica; no leader of this cloud is FAILED_PRECONDITION', async () => {
    const named = run(['chaos', 'kill-controller', '--name', 'controller'], 'pid-101-abc');
    await named.done;
    expect(named.signals).toEqual(['100 SIGKILL']);
    const none = run(['chaos', 'kill-controller'], 'pid-999-x');
    await expect(none.done).rejects.toBeInstanceOf(FailedPreconditionError);
    expect(none.signals).toEqual([]);
  });

  it('parses holder ids', () => {
    expect(pidOfHolder('pid-42-uuid')).toBe(42);
    expect(pidOfHolder('a-uuid')).toBeUndefined();
    expect(pidOfHolder(undefined)).toBeUndefined();
  });
});
