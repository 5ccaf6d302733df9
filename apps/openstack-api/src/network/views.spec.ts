import { filterViews, projectFields } from './views';

describe("Neutron's list filters and fields", () => {
  const nets = [
    { id: 'a', name: 'x', shared: false, 'router:external': true, subnets: ['s1'] },
    { id: 'b', name: 'y', shared: true, 'router:external': false, subnets: [] },
  ];

  it('filters by any attribute, booleans as True/true, repeated values as any-of, list attributes by membership', () => {
    expect(filterViews(nets, { 'router:external': 'True' }).map((n) => n.id)).toEqual(['a']);
    expect(filterViews(nets, { shared: 'true' }).map((n) => n.id)).toEqual(['b']);
    expect(filterViews(nets, { name: ['x', 'y'] }).map((n) => n.id)).toEqual(['a', 'b']);
    expect(filterViews(nets, { subnets: 's1' }).map((n) => n.id)).toEqual(['a']);
    expect(filterViews(nets, { limit: '1', fields: 'id' })).toHaveLength(2);
  });

  it('filters a list of objects (fixed_ips) by key=value and key_substr=value', () => {
    const ports = [
      { id: 'p1', fixed_ips: [{ subnet_id: 's1', ip_address: '10.0.0.5' }] },
      { id: 'p2', fixed_ips: [{ subnet_id: 's2', ip_address: '10.0.1.50' }] },
    ];
    expect(filterViews(ports, { fixed_ips: 'ip_address=10.0.0.5' }).map((p) => p.id)).toEqual(['p1']);
    expect(filterViews(ports, { fixed_ips: 'ip_address_substr=.5' }).map((p) => p.id)).toEqual(['p1', 'p2']);
    expect(filterViews(ports, { fixed_ips: 'subnet_id=s2' }).map((p) => p.id)).toEqual(['p2']);
    expect(filterViews(ports, { fixed_ips: 'subnet_id=s9' })).toEqual([]);
  });

  it('fields keeps only the named attributes', () => {
    expect(projectFields(nets[0], ['id', 'name'])).toEqual({ id: 'a', name: 'x' });
    expect(projectFields(nets[0], 'id,shared')).toEqual({ id: 'a', shared: false });
    expect(projectFields(nets[0], undefined)).toBe(nets[0]);
  });
});
