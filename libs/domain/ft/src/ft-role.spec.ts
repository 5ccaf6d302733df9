import fc from 'fast-check';
import { ConflictError } from '@minicloud/domain-errors';
import { casGeneration, decideFt, FT_STATES, ftRequestedByFlavor, type FtHostHealth, type FtPair } from './ft-role';

const pair = (state: FtPair['state'], secondaryHostId: string | undefined = 'h2', generation = 3): FtPair => ({ state, generation, secondaryHostId });

describe('decideFt (FT role decision)', () => {
  it.each<[FtPair, FtHostHealth, FtHostHealth | undefined, ReturnType<typeof decideFt>]>([
    [pair('protected'), 'up', 'up', { kind: 'none' }],
    [pair('protected'), 'down', 'up', { kind: 'failover', toHostId: 'h2', generation: 4 }],
    [pair('protected'), 'up', 'down', { kind: 'drop_secondary', generation: 4 }],
    [pair('protected'), 'down', 'down', { kind: 'give_up_to_ha', generation: 4 }],
    [pair('starting'), 'down', 'up', { kind: 'give_up_to_ha', generation: 4 }],
    [pair('starting'), 'up', 'down', { kind: 'drop_secondary', generation: 4 }],
    [pair('need_secondary', undefined), 'up', undefined, { kind: 'protect' }],
    [pair('need_secondary', undefined), 'down', undefined, { kind: 'none' }],
    [pair('not_protected', undefined), 'down', undefined, { kind: 'none' }],
    [pair('failing_over'), 'down', 'up', { kind: 'none' }],
    [pair('protected', undefined), 'up', undefined, { kind: 'drop_secondary', generation: 4 }],
  ])('%j primary %s secondary %s -> %j', (p, primary, secondary, want) => {
    expect(decideFt(p, primary, secondary)).toEqual(want);
  });

  it('property: exactly one copy is live, whatever deciders race on the same generation', () => {
    const health = fc.constantFrom<FtHostHealth>('up', 'down');
    fc.assert(
      fc.property(fc.constantFrom(...FT_STATES), fc.nat(1000), health, health, fc.array(fc.tuple(health, health), { minLength: 1, maxLength: 5 }), (state, g, p, s, others) => {
        const stored: FtPair = { state, generation: g, secondaryHostId: 'h2' };
        // Several deciders (a stale leader, the new one, ...) read the same generation, each with its own view.
        const decisions = [decideFt(stored, p, s), ...others.map(([a, b]) => decideFt(stored, a, b))].filter((d) => d.kind !== 'none' && d.kind !== 'protect');
        let cur = stored;
        let wins = 0;
        for (const d of decisions) {
          try {
            cur = casGeneration(cur, g, { ...cur, generation: g + 1, state: d.kind === 'failover' ? 'failing_over' : 'need_secondary' });
            wins++;
          } catch (e) {
            expect(e).toBeInstanceOf(ConflictError);
          }
        }
        expect(wins).toBe(decisions.length > 0 ? 1 : 0);
        expect(cur.generation).toBe(decisions.length > 0 ? g + 1 : g);
      }),
    );
  });

  it('casGeneration refuses a step that does not advance by exactly one', () => {
    expect(() => casGeneration(pair('protected'), 3, pair('protected', 'h2', 5))).toThrow(/generation/);
  });
});

describe('ftRequestedByFlavor', () => {
  it('reads minicloud:ft=true|false and refuses anything else', () => {
    expect(ftRequestedByFlavor({})).toBe(false);
    expect(ftRequestedByFlavor({ 'minicloud:ft': 'True' })).toBe(true);
    expect(ftRequestedByFlavor({ 'minicloud:ft': 'false' })).toBe(false);
    expect(() => ftRequestedByFlavor({ 'minicloud:ft': 'yes' })).toThrow(/extra_specs.minicloud:ft/);
  });
});
