import { callerOf, paginate, toRule, toSubnet } from './mapping';

describe('paginate', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  it('returns everything for page_size 0', () => {
    expect(paginate(items, { pageSize: 0, pageToken: '' })).toEqual({ items, nextPageToken: '' });
  });
  it('walks pages with the returned token and ends with an empty token', () => {
    const p1 = paginate(items, { pageSize: 2, pageToken: '' });
    const p2 = paginate(items, { pageSize: 2, pageToken: p1.nextPageToken });
    const p3 = paginate(items, { pageSize: 2, pageToken: p2.nextPageToken });
    expect([p1.items, p2.items, p3.items]).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(p3.nextPageToken).toBe('');
  });
  it('rejects a token it did not issue, naming the field', () => {
    expect(() => paginate(items, { pageSize: 2, pageToken: 'xyz' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'page.page_token' }));
    expect(() => paginate(items, { pageSize: -1, pageToken: '' })).toThrow(expect.objectContaining({ field: 'page.page_size' }));
  });
});

describe('mapping', () => {
  it('maps null ("any") rule fields to the wire defaults, and keeps a port 0 (ICMP echo reply) apart from no port', () => {
    const any = toRule({ id: 'r', securityGroupId: 'g', direction: 'egress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null, remoteIpPrefix: null, remoteGroupId: null, description: '' });
    expect(any).toMatchObject({ protocol: '', portRangeMin: undefined, portRangeMax: undefined, remoteIpPrefix: '', remoteGroupId: '' });
    const echoReply = toRule({ id: 'r', securityGroupId: 'g', direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 0, portRangeMax: 0, remoteIpPrefix: null, remoteGroupId: null, description: '' });
    expect(echoReply).toMatchObject({ portRangeMin: 0, portRangeMax: 0 });
  });
  it('maps a subnet without gateway to an empty gateway_ip', () => {
    const s = toSubnet({ id: 's', networkId: 'n', projectId: 'p', name: '', cidr: '10.0.0.0/24', ipVersion: 4, gatewayIp: null, allocationPools: [], dnsNameservers: [], hostRoutes: [], enableDhcp: false, createdAtMs: 0 });
    expect(s.gatewayIp).toBe('');
  });
  it('derives the caller from the token context and refuses a call without one', () => {
    const auth = { tokenId: 't', userId: 'u', userName: 'u', projectId: 'p', projectName: 'p', domainId: 'd', roles: ['admin', 'member', 'reader'], issuedAtMs: 0, expiresAtMs: 1 };
    expect(callerOf({ auth: { ...auth, isAdminProject: true }, requestId: 'r' })).toEqual({ projectId: 'p', isAdmin: true, requestId: 'r' });
    // role admin on a project other than the admin project is no cloud admin
    expect(callerOf({ auth, requestId: 'r' })).toEqual({ projectId: 'p', isAdmin: false, requestId: 'r' });
    expect(() => callerOf({ requestId: 'r' })).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
  });
});
