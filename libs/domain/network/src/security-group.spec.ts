import { InvalidArgumentError } from '@minicloud/domain-errors';
import { evaluate, validateSecurityGroupRule, type Packet, type SecurityGroupRule } from './security-group';
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

  it('has the two IPv4 rules Neutron creates, with injected ids', () => {
    expect(rules).toEqual([
      expect.objectContaining({ id: 'r1', direction: 'egress', ethertype: 'IPv4', protocol: null, remoteGroupId: null, remoteIpPrefix: null }),
      expect.objectContaining({ id: 'r2', direction: 'ingress', ethertype: 'IPv4', protocol: null, remoteGroupId: 'sg-default' }),
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
    [{ protocol: 'sctp' as never }, 'protocol', /not tcp, udp, icmp/],
    [{ portRangeMin: 22, portRangeMax: 22 }, 'port_range_min', /needs protocol/],
    [{ protocol: 'tcp', portRangeMin: 100, portRangeMax: 90 }, 'port_range_min', /100 is greater than port_range_max 90/],
    [{ protocol: 'tcp', portRangeMin: 1, portRangeMax: 65536 }, 'port_range_max', /outside 0..65535/],
    [{ protocol: 'tcp', portRangeMax: 80 }, 'port_range_min', /required/],
    [{ protocol: 'icmp', portRangeMin: 256 }, 'port_range_min', /outside 0..255/],
    [{ remoteIpPrefix: '10.0.0.1/24' }, 'remote_ip_prefix', /host bits set/],
    [{ remoteIpPrefix: '10.0.0.0/24', remoteGroupId: 'sg' }, 'remote_group_id', /mutually exclusive/],
    [{ ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' }, 'remote_ip_prefix', /not supported/],
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

  it('accepts an ICMP rule with type only and a tcp range', () => {
    expect(() => validateSecurityGroupRule(rule({ id: 'r', protocol: 'icmp', portRangeMin: 8 }))).not.toThrow();
    expect(() => validateSecurityGroupRule(rule({ id: 'r', protocol: 'tcp', portRangeMin: 1000, portRangeMax: 2000 }))).not.toThrow();
  });
});
