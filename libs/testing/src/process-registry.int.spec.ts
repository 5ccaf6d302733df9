import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait-for';

jest.setTimeout(30_000);

/** Dead or a zombie waiting for init to reap it. */
const isGone = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
};

describe('server processes do not outlive their owner', () => {
  const owners: ChildProcess[] = [];
  afterAll(() => owners.forEach((o) => o.kill('SIGKILL')));

  it('are killed by the watchdog when the owning process is SIGKILLed (no exit handler runs)', async () => {
    // `node --import tsx` (not the tsx CLI, which forks a second node) so the owner is a single process.
    const owner = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/start-servers-and-hang.ts')], {
      cwd: join(__dirname, '../../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    owners.push(owner);
    let out = '';
    owner.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(() => out.includes('\n'), { timeoutMs: 20_000, message: 'fixture never printed its pids' });
    const { pids } = JSON.parse(out) as { pids: number[] };
    expect(pids.every((pid) => !isGone(pid))).toBe(true);

    owner.kill('SIGKILL');
    await waitFor(() => pids.every(isGone), { timeoutMs: 5000, message: `servers ${pids.join(',')} outlived their owner` });
  });
});
