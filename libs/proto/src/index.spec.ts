import { messageTypesByPath, compute } from './index';

describe('messageTypesByPath', () => {
  it('maps every RPC path to its request and response types', () => {
    const t = messageTypesByPath.get('/minicloud.compute.v1.ComputeService/CreateServer');
    expect(t?.request).toBe(compute.CreateServerRequest);
    expect(t?.response).toBe(compute.CreateServerResponse);
    for (const def of [compute.ComputeServiceService]) {
      for (const m of Object.values(def)) expect(messageTypesByPath.has(m.path)).toBe(true);
    }
  });
});
