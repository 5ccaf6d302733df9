import { consoleText, runCloudInit, type CloudInitInput } from './cloud-init';
import { ConsoleLog, tailLines } from './console-log';
import { kernelBootLines, kernelStamp } from './kernel-log';
import { sanitizeHostname } from './hostname';
import { simulateShell } from './shell';
import { parseUserData } from './user-data';
import { instanceIdSignature, verifyInstanceIdSignature } from './signature';

const enc = (s: string) => new TextEncoder().encode(s);
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyBody alice@laptop';
const T0 = Date.UTC(2026, 11, 7, 3, 45, 2);

function boot(userData: string | undefined, over: Partial<CloudInitInput> = {}) {
  return runCloudInit({
    source: 'openstack',
    data: { instanceId: 'i1', hostname: 'web-1.novalocal', publicKeys: [{ name: 'alice', key: KEY }], userData: userData === undefined ? undefined : enc(userData) },
    nics: [{ macAddress: 'fa:16:3e:00:00:01', ipv4: '10.0.0.5', prefixLength: 24 }],
    bootStartedAtMs: T0,
    startUpSeconds: 4,
    firstBoot: true,
    previousHostname: 'ubuntu',
    ...over,
  });
}
const text = (r: ReturnType<typeof boot>) => consoleText(r.lines).join('\n');

describe('parseUserData', () => {
  it.each([
    [undefined, 'none'],
    ['#cloud-config\nhostname: a\n', 'cloud-config'],
    ['#cloud-config\nhostname: [a\n', 'invalid-cloud-config'],
    ['#cloud-config\n- a\n', 'invalid-cloud-config'],
    ['#!/bin/sh\necho hi\n', 'script'],
    ['Content-Type: multipart/mixed; boundary="==x=="\nMIME-Version: 1.0\n', 'unsupported'],
    ['#include\nhttp://example.invalid/x\n', 'unsupported'],
    ['hello world', 'unknown'],
  ])('%j is %s', (ud, kind) => {
    expect(parseUserData(ud === undefined ? undefined : enc(ud)).kind).toBe(kind);
  });

  it('reads the cloud-config keys it models and lists the others', () => {
    const u = parseUserData(enc('#cloud-config\nhostname: db\nssh_authorized_keys: [ssh-rsa AAA bob]\nusers: [default, {name: carol, ssh_authorized_keys: [ssh-rsa BBB carol]}]\nwrite_files:\n  - path: /etc/motd\n    content: hi\npackages: [nginx, [curl, 7.8]]\nruncmd:\n  - echo one\n  - [echo, "two words"]\ntimezone: UTC\n'));
    expect(u).toEqual({
      kind: 'cloud-config',
      config: {
        hostname: 'db', fqdn: undefined, preserveHostname: false, sshAuthorizedKeys: ['ssh-rsa AAA bob'],
        users: ['default', { name: 'carol', sshAuthorizedKeys: ['ssh-rsa BBB carol'] }],
        writeFiles: [{ path: '/etc/motd', content: 'hi', permissions: '0644', owner: 'root:root' }],
        runcmd: ['echo one', "echo 'two words'"], packages: ['nginx', 'curl=7.8'], ignoredKeys: ['timezone'],
      },
    });
  });

  it('treats gzip data as unsupported', () => {
    expect(parseUserData(Uint8Array.from([0x1f, 0x8b, 8, 0]))).toEqual({ kind: 'unsupported', contentType: 'application/x-gzip' });
  });
});

describe('simulateShell', () => {
  it.each([
    ['echo hello', [{ executed: true, output: ['hello'] }]],
    ['echo "a  b" \'c\'', [{ executed: true, output: ['a  b c'] }]],
    ['echo -n x', [{ executed: true, output: ['x'] }]],
    ['echo hi > /tmp/f', [{ executed: false, output: [] }]],
    ['echo $(hostname)', [{ executed: false, output: [] }]],
    ['apt-get install -y nginx', [{ executed: false, output: [] }]],
    ['# a comment\n\ntrue', [{ executed: true, output: [] }]],
  ])('%j', (script, want) => {
    expect(simulateShell(script).map(({ executed, output }) => ({ executed, output }))).toEqual(want);
  });
});

describe('runCloudInit', () => {
  it('logs the stages, the network table, the script output and the finished line in cloud-init formats', () => {
    const r = boot('#!/bin/bash\necho "hello from user data"\ntouch /tmp/x\n');
    const t = text(r);
    expect(t).toContain("cloud-init[587]: Cloud-init v. 22.4.2-0ubuntu0~22.04.1 running 'init' at Mon, 07 Dec 2026 03:45:06 +0000. Up 4.84 seconds.");
    expect(t).toMatch(/ci-info: \| +ens3 +\| True \| 10\.0\.0\.5 +\| 255\.255\.255\.0 \| global \| fa:16:3e:00:00:01 \|/);
    expect(t).toContain('cloud-init[744]: hello from user data');
    expect(t.split('\n').pop()).toBe('[    7.680000] cloud-init[744]: Cloud-init v. 22.4.2-0ubuntu0~22.04.1 finished at Mon, 07 Dec 2026 03:45:09 +0000. Datasource DataSourceOpenStack [net,ver=2].  Up 7.68 seconds');
    expect(r.commands).toEqual([
      { command: 'echo "hello from user data"', executed: true, output: ['hello from user data'] },
      { command: 'touch /tmp/x', executed: false, output: [] },
    ]);
    expect(r.hostname).toBe('web-1');
    expect(r.authorizedKeys).toEqual({ ubuntu: [KEY] });
    expect(t).toContain('web-1 login: ');
  });

  it.each([
    ['#cloud-config\nhostname: db\n', 'db', 'db.novalocal'],
    ['#cloud-config\nfqdn: db.example.org\n', 'db', 'db.example.org'],
    ['#cloud-config\nhostname: db.example.org\n', 'db', 'db.example.org'],
    ['#cloud-config\npreserve_hostname: true\n', 'ubuntu', 'ubuntu'],
    [undefined, 'web-1', 'web-1.novalocal'],
  ])('%j sets hostname %s (fqdn %s)', (ud, hostname, fqdn) => {
    expect(boot(ud)).toMatchObject({ hostname, fqdn });
  });

  it('installs the key pair and cloud-config keys per user', () => {
    const r = boot('#cloud-config\nssh_authorized_keys: [ssh-rsa AAA bob]\nusers: [default, {name: carol, ssh_authorized_keys: [ssh-rsa BBB carol]}]\n');
    expect(r.authorizedKeys).toEqual({ ubuntu: [KEY, 'ssh-rsa AAA bob'], carol: ['ssh-rsa BBB carol'] });
    expect(boot('#cloud-config\nusers: [{name: carol}]\n').authorizedKeys).toEqual({ carol: [] });
  });

  it('prints the authorized keys table when a fingerprint function is given', () => {
    const t = text(boot(undefined, { fingerprint: () => 'aa:bb' }));
    expect(t).toContain('ci-info: ++');
    expect(t).toContain('Authorized keys from /home/ubuntu/.ssh/authorized_keys for user ubuntu');
    expect(t).toMatch(/\| ssh-ed25519 \| +aa:bb +\| +- +\| alice@laptop \|/);
  });

  it('runs runcmd echo lines and records the rest; write_files and packages are recorded', () => {
    const r = boot('#cloud-config\nruncmd:\n  - [echo, hi there]\n  - systemctl restart nginx\nwrite_files: [{path: /etc/x, content: y}]\npackages: [nginx]\n');
    expect(text(r)).toContain('cloud-init[744]: hi there');
    expect(r.commands.map((c) => c.executed)).toEqual([true, false]);
    expect(r.files.map((f) => f.path)).toEqual(['/etc/x']);
    expect(r.packages).toEqual(['nginx']);
  });

  it('does not rerun per-instance modules on a later boot', () => {
    const r = boot('#!/bin/sh\necho once\n', { firstBoot: false });
    expect(text(r)).not.toContain('once');
    expect(r.authorizedKeys).toEqual({});
    expect(text(r)).toContain('finished at');
  });

  it('sets root\'s password from the datasource\'s admin_pass on the first boot, logging the user and never the password', () => {
    const data = { instanceId: 'i1', hostname: 'web-1.novalocal', publicKeys: [], adminPass: 'Zq7vX2mPk9Ta' };
    const first = boot(undefined, { data });
    expect(first.rootPasswordSet).toBe(true);
    expect(text(first)).toMatch(/\] cloud-init\[701\]: 2026-12-07 03:45:\d\d,\d{3} - cc_set_passwords\.py\[DEBUG\]: Changing password for \['root'\]:\n/);
    expect(text(first)).not.toContain('Zq7vX2mPk9Ta');
    const later = boot(undefined, { data, firstBoot: false });
    expect(later.rootPasswordSet).toBe(false);
    expect(text(later)).not.toContain('Changing password');
    const none = boot(undefined);
    expect(none.rootPasswordSet).toBe(false);
    expect(text(none)).not.toContain('cc_set_passwords');
  });

  it('logs a metadata failure as url_helper does and names the config drive', () => {
    const t = text(boot(undefined, { source: 'config-drive', metadataFailure: { url: 'http://169.254.169.254/openstack', error: 'connection refused' } }));
    expect(t).toContain("url_helper.py[WARNING]: Calling 'http://169.254.169.254/openstack' failed [0/-1s]: request error [connection refused]");
    expect(t).toContain('Datasource DataSourceConfigDrive [net,ver=2][source=/dev/sr0].');
  });

  it.each([
    ['#cloud-config\n: [\n', 'Failed loading yaml blob'],
    ['Content-Type: multipart/mixed; boundary="x"\n', 'Unhandled non-multipart (multipart/mixed) userdata'],
  ])('logs user data it cannot use (%j) and still finishes', (ud, warning) => {
    const t = text(boot(ud));
    expect(t).toContain(warning);
    expect(t).toContain('finished at');
  });
});

describe('kernelBootLines', () => {
  it('names memory, CPUs, virtio disks and NICs from the machine', () => {
    const t = kernelBootLines({ vcpus: 2, ramMb: 2048, disks: [{ device: 'vda', sizeGb: 20 }, { device: 'vdb', sizeGb: 1 }], nics: [{ macAddress: 'fa:16:3e:00:00:01' }] }).map((l) => l.text);
    expect(t[0]).toMatch(/^Linux version 5\.15\.0-91-generic/);
    expect(t).toContain('Command line: BOOT_IMAGE=/boot/vmlinuz-5.15.0-91-generic root=LABEL=cloudimg-rootfs ro console=tty1 console=ttyS0');
    expect(t).toContain('smpboot: Allowing 2 CPUs, 0 hotplug CPUs');
    expect(t.find((l) => l.startsWith('Memory:'))).toMatch(/^Memory: \d+K\/2096764K available/);
    expect(t).toContain('virtio_blk virtio2: [vda] 41943040 512-byte logical blocks (21.5 GB/20.0 GiB)');
    expect(t).toContain('virtio_blk virtio3: [vdb] 2097152 512-byte logical blocks (1.1 GB/1.0 GiB)');
    expect(t).toContain('virtio_net virtio0 ens3: renamed from eth0');
  });

  it('stamps lines as printk does', () => {
    expect(kernelStamp(0)).toBe('[    0.000000]');
    expect(kernelStamp(12.3456789)).toBe('[   12.345679]');
  });
});

describe('ConsoleLog', () => {
  it('keeps the last maxBytes at a line start and appends across boots', () => {
    const log = new ConsoleLog(32);
    log.appendLines(['boot 1 line a', 'boot 1 line b']);
    log.appendLines(['boot 2 line a']);
    expect(log.sizeBytes).toBeLessThanOrEqual(32);
    expect(log.contents()).toBe('boot 1 line b\nboot 2 line a\n');
  });

  it.each([
    [undefined, 'a\nb\nc\n'],
    [-1, 'a\nb\nc\n'],
    [0, ''],
    [2, 'c\n'],
    [3, 'b\nc\n'],
  ])('tails %s lines as Nova does', (n, want) => {
    expect(tailLines('a\nb\nc\n', n)).toBe(want);
  });
});

describe('sanitizeHostname', () => {
  it.each([
    ['Web Server_1', 'web-server-1'],
    ['..a!b..', 'a-b'.replace('-', '')],
    ['***', 'server-abc'],
  ])('%s -> %s', (name, want) => {
    expect(sanitizeHostname(name, 'Server-ABC')).toBe(want);
  });
});

describe('instanceIdSignature', () => {
  it('is HMAC-SHA256 hex and verifies only with the same secret and id', () => {
    const sig = instanceIdSignature('s3cret', 'abc');
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyInstanceIdSignature('s3cret', 'abc', sig)).toBe(true);
    expect(verifyInstanceIdSignature('other', 'abc', sig)).toBe(false);
    expect(verifyInstanceIdSignature('s3cret', 'abd', sig)).toBe(false);
    expect(verifyInstanceIdSignature('s3cret', 'abc', 'short')).toBe(false);
  });
});
