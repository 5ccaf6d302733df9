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

  it('writes a system-scoped entry with system_scope and no project', () => {
    const text = cloudsYaml('http://127.0.0.1:5080', 'RegionOne', [{ name: 'minicloud-system', user: 'admin', password: 'pw', system: 'all' }]);
    expect(text).toContain('      system_scope: "all"');
    expect(text).not.toMatch(/project_name|project_domain_id/);
    expect(text).toContain('      user_domain_id: "default"');
  });
});
