/**
 * Guests that boot like guests, on a real cloud with Debian's unchanged `openstack` CLI: a server
 * created with a user-data script boots a guest whose cloud-init reads the metadata API (the agent
 * signing as Neutron's metadata proxy), runs the script's echo and logs its finished line, which
 * `openstack console log show` returns; a reboot appends a boot; `--password` (or Nova's generated
 * adminPass) reaches the guest's cloud-init, which logs that it set root's password; the metadata API refuses callers
 * without the proxy's signature.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCloud, type RunningCloud } from './cloud-harness';
import { openstack, openstackJson } from './openstack-cli';

jest.setTimeout(240_000);

describe('guest boot, console log and metadata API', () => {
  let cloud: RunningCloud;
  let yaml = '';
  const demo = (args: string[]) => openstack(yaml, 'minicloud-demo', args);
  const demoJson = <T = Record<string, unknown>>(args: string[]) => openstackJson<T>(yaml, 'minicloud-demo', args);

  beforeAll(async () => {
    cloud = await startCloud({ agents: 2, demo: true, extraArgs: ['--demo-servers', '0'] });
    yaml = cloud.manifest.clouds_yaml!;
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it("server create --user-data: the console log shows the kernel, the script's echo and cloud-init's finished line from the metadata API", async () => {
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mc-guest-')), 'script.sh');
    fs.writeFileSync(script, '#!/bin/sh\necho "hello from user data"\nsystemctl restart nginx\n');
    const created = await demoJson<{ id: string; status: string }>(['server', 'create', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'demo-net', '--user-data', script, '--wait', 'guest-1']);
    expect(created.status).toBe('ACTIVE');

    const log = await demo(['console', 'log', 'show', created.id]);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/^\[ {4}0\.000000\] Linux version /);
    expect(log.stdout).toMatch(/smpboot: Allowing 1 CPUs/);
    expect(log.stdout).toMatch(/cloud-init\[\d+\]: hello from user data\n/);
    expect(log.stdout).toMatch(/ci-info: \| +ens3 +\| True \| 10\.\d+\.\d+\.\d+ +\|/);
    expect(log.stdout).toMatch(/guest-1 login: /);
    expect(log.stdout).toMatch(/Cloud-init v\. 22\.4\.2\S* finished at .*\. Datasource DataSourceOpenStack \[net,ver=2\]\.  Up \d+\.\d\d seconds\n$/);
    expect(log.stdout).not.toMatch(/url_helper\.py\[WARNING\]/);

    const tail = await demo(['console', 'log', 'show', '--lines', '2', created.id]);
    expect(tail.stdout.trim().split('\n')).toHaveLength(1);
    expect(tail.stdout).toMatch(/ finished at /);

    expect((await demo(['server', 'reboot', '--wait', created.id])).code).toBe(0);
    const after = (await demo(['console', 'log', 'show', created.id])).stdout;
    expect(after.match(/Linux version/g)).toHaveLength(2);
    expect(after.match(/ finished at /g)).toHaveLength(2);
    expect(after.match(/hello from user data/g)).toHaveLength(1);

    // an administrator reads any project's console
    const byAdmin = await openstack(yaml, 'minicloud', ['console', 'log', 'show', created.id]);
    expect(byAdmin.code).toBe(0);
    expect(byAdmin.stdout).toMatch(/hello from user data/);
  });

  it("server create --password: adminPass answered, cloud-init sets root's password (logged without it); without --password a generated one", async () => {
    const given = await demoJson<{ id: string; status: string; adminPass: string }>(['server', 'create', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'demo-net', '--password', 'S3cret-Pass-e2e', '--wait', 'guest-pw']);
    expect([given.status, given.adminPass]).toEqual(['ACTIVE', 'S3cret-Pass-e2e']);
    const log = (await demo(['console', 'log', 'show', given.id])).stdout;
    expect(log).toMatch(/cloud-init\[\d+\]: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - cc_set_passwords\.py\[DEBUG\]: Changing password for \['root'\]:\n/);
    expect(log).not.toContain('S3cret-Pass-e2e');
    // the password is in no view of the server
    expect(JSON.stringify(await demoJson(['server', 'show', given.id]))).not.toContain('S3cret-Pass-e2e');

    const generated = await demoJson<{ id: string; adminPass: string }>(['server', 'create', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'demo-net', '--wait', 'guest-pw2']);
    expect(generated.adminPass).toMatch(/^[2-9A-HJ-NP-Za-km-z]{12}$/);
    expect((await demo(['console', 'log', 'show', generated.id])).stdout).toContain("Changing password for ['root']:");
  });

  it('the metadata API refuses requests without the proxy signature (400), with a wrong one (403)', async () => {
    const url = cloud.manifest.metadata_url!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/openstack/latest/meta_data.json`)).status).toBe(400);
    const forged = await fetch(`${url}/openstack/latest/meta_data.json`, { headers: { 'X-Instance-ID': 'any', 'X-Tenant-ID': 'any', 'X-Instance-ID-Signature': '0'.repeat(64) } });
    expect([forged.status, await forged.text()]).toEqual([403, 'Invalid proxy request signature.']);
  });
});
