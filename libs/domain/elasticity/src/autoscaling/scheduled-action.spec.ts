import { dueScheduledActions, ScheduledAction, validateScheduledAction } from './scheduled-action';

const H = 3_600_000;
const morning: ScheduledAction = { name: 'morning', recurrence: { kind: 'daily', secondOfDay: 8 * 3600 }, minSize: 4 };
const evening: ScheduledAction = { name: 'evening', recurrence: { kind: 'daily', secondOfDay: 20 * 3600 }, minSize: 2 };
const launch: ScheduledAction = { name: 'launch', recurrence: { kind: 'once', atMs: 30 * H }, desiredCapacity: 10 };

describe('dueScheduledActions', () => {
  it.each<[number, number, string[]]>([
    [0, 7 * H, []],
    [7 * H, 8 * H, ['morning']],
    [8 * H, 9 * H, []],
    [0, 21 * H, ['morning', 'evening']],
    [24 * H + 7 * H, 24 * H + 8 * H, ['morning']],
    [29 * H, 31 * H, ['launch']],
    [30 * H, 31 * H, []],
  ])('(%d, %d] -> %j', (from, to, names) => {
    expect(dueScheduledActions([evening, launch, morning], from, to).map((a) => a.name)).toEqual(names);
  });
});

describe('validateScheduledAction', () => {
  it.each([
    [{ name: '' }, 'name'],
    [{ minSize: undefined }, 'desired_capacity'],
    [{ minSize: -1 }, 'min_size'],
    [{ recurrence: { kind: 'daily', secondOfDay: 86400 } }, 'second_of_day'],
  ])('%o -> %s', (patch, field) => {
    expect(() => validateScheduledAction({ ...morning, ...(patch as object) })).toThrow(field);
  });
});
