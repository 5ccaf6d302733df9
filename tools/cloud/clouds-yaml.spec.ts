import { cloudsYaml } from './clouds-yaml';

describe('cloudsYaml', () => {
  const clouds = [{ name: 'minicloud', user: 'admin', password: 'pw', project: 'admin' }];

  it('points openstacksdk at the CA of an HTTPS front (cacert, verify)', () => {
    const text = cloudsYaml('https://127.0.0.1:5080', 'RegionOne', clouds, '/state/tls/ca.pem');
    expect(text).toContain('      auth_url: "https://127.0.0.1:5080/identity"');
    expect(text).toContain('    cacert: "/state/tls/ca.pem"');
    expect(text).toContain('    verify: true');
  });

  it('names no CA for a plain HTTP front', () => {
    expect(cloudsYaml('http://127.0.0.1:5080', 'RegionOne', clouds)).not.toMatch(/cacert|verify/);
  });
});
