import { InvalidArgumentError } from '@minicloud/domain-errors';
import { evaluate, normaliseRemoteIpPrefix, ruleIdentity, validateSecurityGroupRule, type Packet, type SecurityGroupRule } from './security-group';
import { defaultSecurityGroupRules } from './default-security-group';

const rule = (over: Partial<SecurityGroupRule> & Pick<SecurityGroupRule, 'id'>): SecurityGroupRule => ({
  direction: 'ingress',
  ethertype: 'IPv4',
  protocol: null,
  portRangeMin: null,
  portRangeMax: null,
  remoteIpPrefix: null,
  remoteGroupId: null,
  ...over,
});
const packet = (over: Partial<Packet>): Packet => ({
  direction: 'ingress',
  ethertype: 'IPv4',
  protocol: 'tcp',
  remoteIp: '203.0.113.7',
  dstPort: 22,
  isReply: false,
  ...over,
});

describe('evaluate', () => {
  const ssh = rule({ id: 'ssh', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '203.0.113.0/24' });
  const web = rule({ id: 'web', protocol: 'tcp', portRangeMin: 80, portRangeMax: 443 });
  const dns = rule({ id: 'dns', protocol: 'udp', portRangeMin: 53, portRangeMax: 53 });
  const ping = rule({ id: 'ping', protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 });
  const fromWeb = rule({ id: 'from-web', remoteGroupId: 'sg-web' });
  const rules = [ssh, web, dns, ping, fromWeb];
  const members = new Map([['sg-web', new Set(['10.0.0.5'])]]);

  it.each<[string, Partial<Packet>, boolean, string | undefined]>([
    ['ssh from the allowed prefix', {}, true, 'ssh'],
    ['ssh from outside the prefix', { remoteIp: '198.51.100.1' }, false, undefined],
    ['tcp 80, bottom of the range', { dstPort: 80 }, true, 'web'],
    ['tcp 443, top of the range', { dstPort: 443 }, true, 'web'],
    ['tcp 444, just outside', { dstPort: 444 }, false, undefined],
    ['udp 22 (rule is tcp)', { protocol: 'udp' }, false, undefined],
    ['udp 53', { protocol: 'udp', dstPort: 53 }, true, 'dns'],
    ['icmp echo request (type 8 code 0)', { protocol: 'icmp', dstPort: undefined, icmpType: 8, icmpCode: 0 }, true, 'ping'],
    ['icmp dest unreachable (type 3)', { protocol: 'icmp', dstPort: undefined, icmpType: 3, icmpCode: 0 }, false, undefined],
    ['anything from a member of the remote group', { protocol: 'gre', remoteIp: '10.0.0.5', dstPort: undefined }, true, 'from-web'],
    ['anything from a non-member', { protocol: 'gre', remoteIp: '10.0.0.6', dstPort: undefined }, false, undefined],
    ['egress with only ingress rules', { direction: 'egress' }, false, undefined],
    ['IPv6 with only IPv4 rules', { ethertype: 'IPv6', remoteIp: '2001:db8::1' }, false, undefined],
    ['a reply of an allowed flow, no rule needed', { direction: 'egress', dstPort: 51000, isReply: true }, true, undefined],
  ])('%s', (_name, over, allowed, matchedRuleId) => {
    expect(evaluate(packet(over), rules, members)).toEqual(matchedRuleId ? { allowed, matchedRuleId } : { allowed });
  });

  it('no rules drops everything that is not a reply', () => {
    expect(evaluate(packet({}), [], new Map())).toEqual({ allowed: false });
  });

  it('an unknown remote group matches nothing', () => {
    expect(evaluate(packet({}), [rule({ id: 'x', remoteGroupId: 'sg-gone' })], new Map())).toEqual({ allowed: false });
  });
});

describe('default security group', () => {
  let n = 0;
  const rules = defaultSecurityGroupRules('sg-default', () => `r${++n}`);
  const members = new Map([['sg-default', new Set(['10.0.0.2', '10.0.0.3'])]]);

  it('has the IPv4 and IPv6 rule pairs Neutron creates, with injected ids', () => {
    expect(rules).toEqual([
      expect.objectContaining({ id: 'r1', direction: 'egress', ethertype: 'IPv4', protocol: null, remoteGroupId: null, remoteIpPrefix: null }),
      expect.objectContaining({ id: 'r2', direction: 'ingress', ethertype: 'IPv4', protocol: null, remoteGroupId: 'sg-default' }),
      expect.objectContaining({ id: 'r3', direction: 'egress', ethertype: 'IPv6', protocol: null, remoteGroupId: null, remoteIpPrefix: null }),
      expect.objectContaining({ id: 'r4', direction: 'ingress', ethertype: 'IPv6', protocol: null, remoteGroupId: 'sg-default' }),
    ]);
    rules.forEach((r) => expect(() => validateSecurityGroupRule(r)).not.toThrow());
  });

  it.each<[string, Partial<Packet>, boolean]>([
    ['egress anywhere', { direction: 'egress', remoteIp: '8.8.8.8', dstPort: 53, protocol: 'udp' }, true],
    ['ingress from a group member', { remoteIp: '10.0.0.3' }, true],
    ['ingress from outside the group', { remoteIp: '10.0.0.9' }, false],
    ['ingress reply to an egress flow', { remoteIp: '8.8.8.8', isReply: true }, true],
  ])('%s', (_name, over, allowed) => {
    expect(evaluate(packet(over), rules, members).allowed).toBe(allowed);
  });
});

describe('validateSecurityGroupRule', () => {
  it.each<[Partial<SecurityGroupRule>, string, RegExp]>([
    [{ direction: 'inbound' as never }, 'direction', /not ingress or egress/],
    [{ ethertype: 'IPX' as never }, 'ethertype', /not IPv4 or IPv6/],
    [{ protocol: 'bogus' }, 'protocol', /not a protocol name/],
    [{ protocol: '256' }, 'protocol', /or a number 0..255/],
    [{ protocol: 'ipv6-icmp' }, 'protocol', /conflicts with ethertype IPv4/],
    [{ portRangeMin: 22, portRangeMax: 22 }, 'port_range_min', /needs protocol/],
    [{ protocol: 'gre', portRangeMin: 22, portRangeMax: 22 }, 'port_range_min', /not gre/],
    [{ protocol: 'tcp', portRangeMin: 100, portRangeMax: 90 }, 'port_range_min', /port_range_min must be <= port_range_max/],
    [{ protocol: 'tcp', portRangeMin: 1, portRangeMax: 65536 }, 'port_range_max', /Invalid value for port 65536/],
    [{ protocol: 'tcp', portRangeMin: 0, portRangeMax: 10 }, 'port_range_min', /Invalid value for port 0/],
    [{ protocol: 'tcp', portRangeMin: -16, portRangeMax: 80 }, 'port_range_min', /Invalid value for port -16/],
    [{ protocol: 'tcp', portRangeMax: 80 }, 'port_range_min', /port_range_min must be <= port_range_max/],
    [{ protocol: 'icmp', portRangeMin: 256 }, 'port_range_min', /Invalid value for ICMP type \(port-range-min\): 256/],
    [{ protocol: 'icmp', portRangeMin: 1, portRangeMax: 256 }, 'port_range_max', /Invalid value for ICMP code \(port-range-max\): 256/],
    [{ protocol: 'icmp', portRangeMax: 0 }, 'port_range_min', /ICMP type \(port-range-min\) is missing/],
    [{ remoteIpPrefix: '10.0.0.0/33' }, 'remote_ip_prefix', /not an IPv4 prefix/],
    [{ remoteIpPrefix: '2001:db8::/32' }, 'remote_ip_prefix', /conflicts with ethertype IPv4/],
    [{ remoteIpPrefix: '10.0.0.0/24', remoteGroupId: 'sg' }, 'remote_group_id', /mutually exclusive/],
    [{ ethertype: 'IPv6', remoteIpPrefix: '2001:db8::g/32' }, 'remote_ip_prefix', /not an IPv6 prefix/],
  ])('rejects %j on %s', (over, field, problem) => {
    let error: unknown;
    try {
      validateSecurityGroupRule(rule({ id: 'r', ...over }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
    expect((error as Error).message).toMatch(problem);
  });

  it('normalises remote prefixes as Neutron stores them', () => {
    expect(normaliseRemoteIpPrefix('10.0.0.5/24', 'IPv4')).toBe('10.0.0.0/24');
    expect(normaliseRemoteIpPrefix('10.0.0.5', 'IPv4')).toBe('10.0.0.5/32');
    expect(normaliseRemoteIpPrefix('2001:DB8:0:0:1::/32', 'IPv6')).toBe('2001:db8::/32');
    expect(normaliseRemoteIpPrefix('::/0', 'IPv6')).toBe('::/0');
  });

  it('treats a protocol name and its number, and an all-covering prefix and none, as the same rule', () => {
    expect(ruleIdentity(rule({ id: 'a', protocol: 'tcp' }))).toBe(ruleIdentity(rule({ id: 'b', protocol: '6' })));
    expect(ruleIdentity(rule({ id: 'a', remoteIpPrefix: '0.0.0.0/0' }))).toBe(ruleIdentity(rule({ id: 'b' })));
    expect(ruleIdentity(rule({ id: 'a', protocol: 'udp' }))).not.toBe(ruleIdentity(rule({ id: 'b', protocol: 'tcp' })));
  });

  it('matches a rule naming its protocol by number, and ICMP type 0 (echo reply)', () => {
    const members = new Map<string, Set<string>>();
    expect(evaluate(packet({ protocol: 'tcp', dstPort: 22 }), [rule({ id: 'n', protocol: '6', portRangeMin: 22, portRangeMax: 22 })], members).allowed).toBe(true);
    const echoReply = rule({ id: 'e', protocol: 'icmp', portRangeMin: 0, portRangeMax: 0 });
    expect(evaluate(packet({ protocol: 'icmp', dstPort: undefined, icmpType: 0, icmpCode: 0 }), [echoReply], members).allowed).toBe(true);
    expect(evaluate(packet({ protocol: 'icmp', dstPort: undefined, icmpType: 8, icmpCode: 0 }), [echoReply], members).allowed).toBe(false);
  });

  it('accepts an ICMP rule with type only, a tcp range, numbered and named protocols, and IPv6 prefixes', () => {
    for (const p of ['sctp', 'gre', '132', '0', 'UDP']) expect(() => validateSecurityGroupRule(rule({ id: 'r', protocol: p }))).not.toThrow();
    expect(() => validateSecurityGroupRule(rule({ id: 'r', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' }))).not.toThrow();
    expect(() => validateSecurityGroupRule(rule({ id: 'r', protocol: 'icmp', portRangeMin: 0, portRangeMax: 0 }))).not.toThrow();
    expect(() => validateSecurityGroupRule(rule({ id: 'r', protocol: 'icmp', portRangeMin: 8 }))).not.toThrow();
    expect(() => validateSecurityGroupRule(rule({ id: 'r', protocol: 'tcp', portRangeMin: 1000, portRangeMax: 2000 }))).not.toThrow();
  });
});
