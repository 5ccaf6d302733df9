import { z } from 'zod';
import { ConfigError, loadConfig } from './load-config';
import { commonConfigShape, portSchema } from './common-schema';

describe('loadConfig', () => {
  const schema = z.object({ ...commonConfigShape, AGENT_HOSTS: z.coerce.number().int().min(1) });

  it('applies defaults and coerces numbers', () => {
    const cfg = loadConfig(schema, { AGENT_HOSTS: '3', GRPC_PORT: '7001' });
    expect(cfg.AGENT_HOSTS).toBe(3);
    expect(cfg.GRPC_PORT).toBe(7001);
    expect(cfg.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('reports every problem at once', () => {
    try {
      loadConfig(schema, { AGENT_HOSTS: '0', GRPC_PORT: '70000', LOG_LEVEL: 'loud' });
      throw new Error('expected ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/AGENT_HOSTS/);
      expect(problems).toMatch(/GRPC_PORT/);
      expect(problems).toMatch(/LOG_LEVEL/);
    }
  });

  it('rejects a negative port', () => {
    expect(portSchema.safeParse('-1').success).toBe(false);
  });
});
