import { withRegion } from './main';
import type { CliIo } from './io';

describe('--os-region-name / MINICLOUD_REGION / OS_REGION_NAME', () => {
  const io = (env: Record<string, string> = {}): CliIo => ({ stdout: { write: () => true }, stderr: { write: () => true }, env });

  it.each<[string[], Record<string, string>, string[], string | undefined]>([
    [['server', '--os-region-name', 'RegionTwo', 'list'], {}, ['server', 'list'], 'RegionTwo'],
    [['--os-region-name=RegionTwo', 'host', 'list'], { MINICLOUD_REGION: 'X' }, ['host', 'list'], 'RegionTwo'],
    [['server', 'list'], { MINICLOUD_REGION: 'RegionTwo', OS_REGION_NAME: 'Other' }, ['server', 'list'], 'RegionTwo'],
    [['server', 'list'], { OS_REGION_NAME: 'RegionTwo' }, ['server', 'list'], 'RegionTwo'],
    [['server', 'list'], {}, ['server', 'list'], undefined],
    [['sim', '--', '--os-region-name', 'x'], {}, ['sim', '--', '--os-region-name', 'x'], undefined],
  ])('%j with %j -> %j in %s', (argv, env, rest, region) => {
    expect(withRegion(argv, io(env))).toEqual({ argv: rest, region });
  });

  it('refuses a missing or malformed region', () => {
    expect(() => withRegion(['server', 'list', '--os-region-name'], io())).toThrow(/needs a region id/);
    expect(() => withRegion(['--os-region-name', 'a b'], io())).toThrow(/invalid region 'a b'/);
  });
});
