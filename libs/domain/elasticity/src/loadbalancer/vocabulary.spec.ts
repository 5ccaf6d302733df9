import { InvalidArgumentError } from '@minicloud/domain-errors';
import { isIpv4, parseLbAlgorithm, parseListenerProtocol, validateHealthMonitor, validateListenerPort, validateMember } from './vocabulary';

const hm = { type: 'HTTP' as const, delaySeconds: 5, timeoutSeconds: 3, maxRetries: 3, maxRetriesDown: 3 };

describe('validateHealthMonitor', () => {
  it('accepts Octavia defaults', () => expect(() => validateHealthMonitor(hm)).not.toThrow());
  it.each([
    [{ delaySeconds: 0 }, 'delay'],
    [{ timeoutSeconds: 6 }, 'timeout'],
    [{ maxRetries: 0 }, 'max_retries'],
    [{ maxRetriesDown: 11 }, 'max_retries_down'],
    [{ type: 'FTP' }, 'type'],
  ])('%o -> InvalidArgument on %s', (patch, field) => {
    try {
      validateHealthMonitor({ ...hm, ...(patch as object) });
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).message).toContain(field);
    }
  });
});

describe('validateMember', () => {
  it.each([
    [{ address: '10.0.0.5', protocolPort: 80, weight: 1 }, null],
    [{ address: '10.0.0.256', protocolPort: 80, weight: 1 }, 'address'],
    [{ address: '10.0.0.5', protocolPort: 0, weight: 1 }, 'protocol_port'],
    [{ address: '10.0.0.5', protocolPort: 80, weight: 257 }, 'weight'],
    [{ address: '10.0.0.5', protocolPort: 80, weight: 1.5 }, 'weight'],
  ])('%o -> %s', (m, field) => {
    if (field === null) expect(() => validateMember(m)).not.toThrow();
    else expect(() => validateMember(m)).toThrow(field);
  });
});

describe('parsers', () => {
  it('knows the three algorithms and refuses others', () => {
    expect(parseLbAlgorithm('LEAST_CONNECTIONS')).toBe('LEAST_CONNECTIONS');
    expect(() => parseLbAlgorithm('RANDOM')).toThrow('lb_algorithm');
  });
  it('knows the listener protocols', () => {
    expect(parseListenerProtocol('TCP')).toBe('TCP');
    expect(() => parseListenerProtocol('SCTP')).toThrow('protocol');
  });
  it('checks listener ports and IPv4 addresses', () => {
    expect(() => validateListenerPort(65536)).toThrow('protocol_port');
    expect(isIpv4('192.168.1.1')).toBe(true);
    expect(isIpv4('192.168.1')).toBe(false);
  });
});
