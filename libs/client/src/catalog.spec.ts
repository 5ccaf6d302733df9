import { endpointsOf, regionsOf, type CatalogEntry } from './catalog';

const e = (serviceType: string, url: string, region: string, iface = 'public'): CatalogEntry => ({ serviceType, url, region, interface: iface });

describe('endpointsOf (regions)', () => {
  const catalog = [e('volume', 'a:1', 'RegionOne'), e('volume', 'b:1', 'RegionTwo'), e('volume', 'c:1', 'RegionTwo', 'internal'), e('volume', 'd:1', ''), e('image', 'i:1', 'west')];
  it.each<[string, string | undefined, string[]]>([
    ['volume', 'RegionOne', ['a:1', 'd:1']],
    ['volume', 'RegionTwo', ['b:1', 'c:1']],
    ['volume', undefined, ['a:1', 'd:1']],
    ['volume', 'RegionThree', []],
    // A one-region cloud whose region is not RegionOne is served when no region is asked for.
    ['image', undefined, ['i:1']],
    ['image', 'RegionOne', []],
  ])('%s in %s -> %j', (type, region, expected) => {
    expect(endpointsOf(catalog, type, region)).toEqual(expected);
  });

  it('regionsOf lists each region once, sorted; "" is RegionOne', () => {
    expect(regionsOf(catalog)).toEqual(['RegionOne', 'RegionTwo', 'west']);
  });
});
