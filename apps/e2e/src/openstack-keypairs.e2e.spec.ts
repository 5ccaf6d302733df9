/**
 * Nova key pairs through the REST front on a real cloud, driven by Debian's unchanged `openstack`
 * CLI: generate (the private key written by the CLI, a key ssh-keygen reads, with the fingerprint
 * it computes), import, list, show, a duplicate refused, a server created with --key-name showing
 * its key_name and addresses, an unknown key name refused, delete. The server's guest answers
 * OpenSSH's `ssh` on its floating IP once a security group rule lets tcp/22 in, with that key only (not another key of the project, nor another
 * project's), and stops answering when the server stops.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '@minicloud/testing';
import { startCloud, type CliResult, type RunningCloud } from './cloud-harness';
import { openstack, openstackJson } from './openstack-cli';

jest.setTimeout(240_000);

describe('Nova key pairs with the openstack CLI', () => {
  let cloud: RunningCloud;
  let yaml = '';
  let dir = '';
  const demo = (args: string[]) => openstack(yaml, 'minicloud-demo', args);
  const demoJson = <T = Record<string, unknown>>(args: string[]) => openstackJson<T>(yaml, 'minicloud-demo', args);
  /** `ssh-keygen -l -E md5` of a key file: "MD5:aa:bb:..." -> "aa:bb:...". */
  /** OpenSSH's client, with only `key` (no agent, no config, no known_hosts). */
  const ssh = (key: string, target: string, command: string): Promise<CliResult> =>
    new Promise((resolve) => {
      const opts = ['-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR'];
      const child = spawn('ssh', [...opts, target, command], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  const md5Of = (file: string) => /MD5:(\S+)/.exec(execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', file]).toString())![1];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-keypairs-'));
    cloud = await startCloud({ agents: 2, demo: true, extraArgs: ['--demo-servers', '0'] });
    yaml = cloud.manifest.clouds_yaml!;
  });
  afterAll(async () => {
    await cloud?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('generates, imports, lists, shows and deletes key pairs; a server boots with --key-name', async () => {
    const privateFile = path.join(dir, 'gen.pem');
    const gen = await demo(['keypair', 'create', '--private-key', privateFile, 'gen-key']);
    expect(gen.code).toBe(0);
    fs.chmodSync(privateFile, 0o600);
    const publicFromPrivate = execFileSync('ssh-keygen', ['-y', '-f', privateFile]).toString().trim();
    expect(publicFromPrivate).toMatch(/^ssh-rsa /);
    const pubFile = path.join(dir, 'gen.pub');
    fs.writeFileSync(pubFile, `${publicFromPrivate}\n`);

    const shown = await demoJson<{ name: string; fingerprint: string; type: string; user_id: string }>(['keypair', 'show', 'gen-key']);
    expect(shown).toMatchObject({ name: 'gen-key', type: 'ssh', fingerprint: md5Of(pubFile) });
    const shownPublic = (await demo(['keypair', 'show', '--public-key', 'gen-key'])).stdout.trim();
    expect(shownPublic.split(' ').slice(0, 2)).toEqual(publicFromPrivate.split(' ').slice(0, 2));

    // import a key made by ssh-keygen
    const own = path.join(dir, 'own');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'me@laptop', '-f', own]);
    const imported = await demoJson<{ name: string; fingerprint: string }>(['keypair', 'create', '--public-key', `${own}.pub`, 'own-key']);
    expect(imported).toMatchObject({ name: 'own-key', fingerprint: md5Of(`${own}.pub`) });
    const list = await demoJson<{ Name: string; Fingerprint: string }[]>(['keypair', 'list']);
    expect(list.map((k) => k.Name).sort()).toEqual(['gen-key', 'own-key']);

    const dup = await demo(['keypair', 'create', '--public-key', `${own}.pub`, 'own-key']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/409/);
    const junk = path.join(dir, 'junk.pub');
    fs.writeFileSync(junk, 'ssh-rsa JUNK nova@ubuntu\n');
    const bad = await demo(['keypair', 'create', '--public-key', junk, 'junk-key']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/400/);

    const server = await demoJson<{ id: string; status: string; key_name: string }>(['server', 'create', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'demo-net', '--key-name', 'own-key', '--wait', 'with-key']);
    expect(server).toMatchObject({ status: 'ACTIVE', key_name: 'own-key' });

    // the guest answers ssh on its floating IP with the key pair's key, as the default user
    const fip = (await demoJson<{ floating_ip_address: string }>(['floating', 'ip', 'create', 'public'])).floating_ip_address;
    expect((await demo(['server', 'add', 'floating', 'ip', server.id, fip])).code).toBe(0);
    // the project's default security group lets nothing in from outside: the connection is cut before sshd's banner
    await waitFor(async () => /kex_exchange_identification|Connection closed|Connection reset/.test((await ssh(own, `ubuntu@${fip}`, 'hostname')).stderr), { timeoutMs: 20_000, intervalMs: 250 });
    expect((await demo(['security', 'group', 'rule', 'create', '--ingress', '--protocol', 'tcp', '--dst-port', '22', '--remote-ip', '0.0.0.0/0', 'default'])).code).toBe(0);
    let hostname: CliResult | undefined;
    await waitFor(async () => (hostname = await ssh(own, `ubuntu@${fip}`, 'hostname')).code === 0, { timeoutMs: 20_000, intervalMs: 250 });
    expect(hostname!.stdout).toBe('with-key\n');
    expect(await ssh(own, `ubuntu@${fip}`, 'set -eu -o pipefail; grep -c ^processor /proc/cpuinfo && whoami')).toMatchObject({ code: 0, stdout: '1\nubuntu\n' });
    expect(await ssh(own, `ubuntu@${fip}`, 'no-such-tool --now')).toMatchObject({ code: 127, stderr: expect.stringContaining('no-such-tool: command not found') });
    // root is refused as cloud-init's disable_root does; another key of the project, and another project's key, get nothing
    expect(await ssh(own, `root@${fip}`, 'hostname')).toMatchObject({ code: 142, stdout: 'Please login as the user "ubuntu" rather than the user "root".\n' });
    const wrong = await ssh(privateFile, `ubuntu@${fip}`, 'hostname');
    expect(wrong).toMatchObject({ code: 255, stdout: '' });
    expect(wrong.stderr).toContain('Permission denied (publickey)');
    const adminKey = path.join(dir, 'admin.pem');
    expect((await openstack(yaml, 'minicloud', ['keypair', 'create', '--private-key', adminKey, 'admin-key'])).code).toBe(0);
    fs.chmodSync(adminKey, 0o600);
    const foreign = await ssh(adminKey, `ubuntu@${fip}`, 'hostname');
    expect(foreign.code).toBe(255);
    expect(foreign.stderr).toContain('Permission denied (publickey)');
    // a stopped server's sshd answers no more
    expect((await demo(['server', 'stop', server.id])).code).toBe(0);
    await waitFor(async () => (await demoJson<{ status: string }>(['server', 'show', server.id])).status === 'SHUTOFF', { timeoutMs: 20_000, intervalMs: 250 });
    await waitFor(async () => (await ssh(own, `ubuntu@${fip}`, 'hostname')).stderr.includes('Connection refused'), { timeoutMs: 10_000, intervalMs: 250 });
    expect((await openstack(yaml, 'minicloud', ['keypair', 'delete', 'admin-key'])).code).toBe(0);

    const unknown = await demo(['server', 'create', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'demo-net', '--key-name', 'no-such-key', 'no-key']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/key_name/);
    expect((await demo(['server', 'delete', '--wait', server.id])).code).toBe(0);

    expect((await demo(['keypair', 'delete', 'gen-key', 'own-key'])).code).toBe(0);
    expect(await demoJson<unknown[]>(['keypair', 'list'])).toEqual([]);
    const gone = await demo(['keypair', 'show', 'gen-key']);
    expect(gone.code).not.toBe(0);
  });
});
