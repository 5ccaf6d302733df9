import { paginate } from './pagination';

describe('paginate (limit/marker)', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  const id = (s: string) => s;

  it('pages after the marker and names the next marker only while more remain', () => {
    expect(paginate(items, id, { limit: '2' })).toEqual({ items: ['a', 'b'], nextMarker: 'b' });
    expect(paginate(items, id, { limit: '2', marker: 'b' })).toEqual({ items: ['c', 'd'], nextMarker: 'd' });
    expect(paginate(items, id, { limit: '2', marker: 'd' })).toEqual({ items: ['e'], nextMarker: undefined });
    expect(paginate(items, id, {})).toEqual({ items, nextMarker: undefined });
    expect(paginate(items, id, { limit: '10' }, 3).items).toEqual(['a', 'b', 'c']);
  });

  it('refuses a bad limit or an unknown marker with 400', () => {
    expect(() => paginate(items, id, { limit: 'x' })).toThrow(/limit/);
    expect(() => paginate(items, id, { limit: '-1' })).toThrow(/limit/);
    expect(() => paginate(items, id, { marker: 'z' })).toThrow('marker [z] not found');
  });
});
