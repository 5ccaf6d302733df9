import { InvalidArgumentError } from '@minicloud/domain-errors';
import { lookupRoute, MAX_ROUTES, normaliseRoutes, routesVia, validateRoutes, type RouteEntry } from './routing-table';

describe('lookupRoute', () => {
  const table: RouteEntry<string>[] = [
    { destination: '10.0.0.0/24', origin: 'connected', target: 'net-a' },
    { destination: '10.0.1.0/24', origin: 'connected', target: 'net-b' },
    { destination: '192.168.0.0/16', origin: 'static', target: 'via 10.0.0.5' },
    { destination: '192.168.7.0/24', origin: 'static', target: 'via 10.0.1.9' },
    { destination: '10.0.1.128/25', origin: 'static', target: 'via 10.0.0.6' },
    { destination: '10.0.0.0/24', origin: 'static', target: 'shadowed' },
    { destination: '0.0.0.0/0', origin: 'default', target: 'gateway' },
  ];
  it.each([
    ['10.0.0.7', 'net-a'],
    ['10.0.1.7', 'net-b'],
    ['10.0.1.200', 'via 10.0.0.6'],
    ['192.168.3.3', 'via 10.0.0.5'],
    ['192.168.7.3', 'via 10.0.1.9'],
    ['8.8.8.8', 'gateway'],
  ])('%s goes to %s (longest prefix; connected wins a tie)', (ip, target) => {
    expect(lookupRoute(table, ip)?.target).toBe(target);
  });
  it('no match without a default route', () => {
    expect(lookupRoute(table.filter((e) => e.origin !== 'default'), '8.8.8.8')).toBeUndefined();
  });
  it('a static default route beats the gateway default on a tie', () => {
    expect(lookupRoute([...table, { destination: '0.0.0.0/0', origin: 'static', target: 'static default' }], '8.8.8.8')?.target).toBe('static default');
  });
});

describe('normaliseRoutes', () => {
  it('collapses duplicates, keeping order', () => {
    expect(normaliseRoutes([{ destination: '10.9.0.0/16', nexthop: '10.0.0.5' }, { destination: '10.8.0.0/16', nexthop: '10.0.0.5' }, { destination: '10.9.0.0/16', nexthop: '10.0.0.5' }])).toEqual([
      { destination: '10.9.0.0/16', nexthop: '10.0.0.5' },
      { destination: '10.8.0.0/16', nexthop: '10.0.0.5' },
    ]);
  });
  it.each([
    [{ destination: '10.9.0.1/16', nexthop: '10.0.0.5' }],
    [{ destination: 'nope', nexthop: '10.0.0.5' }],
    [{ destination: '10.9.0.0/16', nexthop: '10.0.0' }],
    [{ destination: '10.9.0.0/16', nexthop: '' }],
  ])('refuses %j naming routes', (r) => {
    expect(() => normaliseRoutes([r])).toThrow(expect.objectContaining({ field: 'routes' }) as InvalidArgumentError);
  });
});

describe('validateRoutes', () => {
  const connected = { cidrs: ['10.0.0.0/24', '172.24.4.0/24'], ownIps: ['10.0.0.1', '172.24.4.10'] };
  it('accepts nexthops on connected subnets, the external one too', () => {
    expect(() => validateRoutes([{ destination: '10.9.0.0/16', nexthop: '10.0.0.5' }, { destination: '10.8.0.0/16', nexthop: '172.24.4.1' }], connected)).not.toThrow();
  });
  it('refuses a nexthop off the router', () => {
    expect(() => validateRoutes([{ destination: '10.9.0.0/16', nexthop: '10.5.0.5' }], connected)).toThrow(/not connected with router/);
  });
  it("refuses the router's own address", () => {
    expect(() => validateRoutes([{ destination: '10.9.0.0/16', nexthop: '10.0.0.1' }], connected)).toThrow(/used by router/);
  });
  it('refuses more than max_routes', () => {
    const routes = Array.from({ length: MAX_ROUTES + 1 }, (_, i) => ({ destination: `10.${100 + i}.0.0/16`, nexthop: '10.0.0.5' }));
    expect(() => validateRoutes(routes.slice(0, MAX_ROUTES), connected)).not.toThrow();
    expect(() => validateRoutes(routes, connected)).toThrow(/exhausted/);
  });
});

describe('routesVia', () => {
  it('finds the routes whose nexthop is on a subnet', () => {
    const routes = [{ destination: '10.9.0.0/16', nexthop: '10.0.0.5' }, { destination: '10.8.0.0/16', nexthop: '10.0.1.5' }];
    expect(routesVia(routes, '10.0.1.0/24')).toEqual([routes[1]]);
    expect(routesVia(routes, '10.0.2.0/24')).toEqual([]);
  });
});
