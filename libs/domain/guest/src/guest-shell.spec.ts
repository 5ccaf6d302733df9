import { MAX_COMMAND_BYTES, runGuestCommand, type GuestSystem } from './guest-shell';

const sys: GuestSystem = {
  hostname: 'web-1',
  fqdn: 'web-1.novalocal',
  vcpus: 3,
  ramMb: 2048,
  cpuMhz: 2300,
  nics: [
    { macAddress: 'fa:16:3e:12:34:56', ipv4: '10.0.0.5', prefixLength: 24, mtu: 1450 },
    { macAddress: 'fa:16:3e:ab:cd:ef', ipv4: '10.1.0.9', prefixLength: 28 },
  ],
  disks: [
    { device: 'vda', sizeGb: 10 },
    { device: 'vdb', sizeGb: 1 },
  ],
  uptimeSeconds: 3725.5,
  nowMs: Date.UTC(2026, 11, 7, 14, 5, 1),
  loadAverage: [0.5, 0.25, 0.1],
  user: 'ubuntu',
  authorizedKeys: ['ssh-ed25519 AAAAC3Nz key-1'],
};
/** What tempest prefixes to every command (tempest.conf [validation] ssh_shell_prologue, its default). */
const PROLOGUE = 'set -eu -o pipefail; PATH=$PATH:/sbin:/usr/sbin; ';
const run = (cmd: string, stdin = '') => runGuestCommand(cmd, sys, stdin);

describe('the guest shell', () => {
  it('answers hostname with the name cloud-init set, -f with the fqdn', () => {
    expect(run(`${PROLOGUE}hostname`)).toEqual({ stdout: 'web-1\n', stderr: '', exitCode: 0 });
    expect(run('hostname -f').stdout).toBe('web-1.novalocal\n');
    expect(run('hostname -I').stdout).toBe('10.0.0.5 10.1.0.9 \n');
    expect(run('cat /etc/hostname').stdout).toBe('web-1\n');
  });

  it("counts the flavor's vCPUs in /proc/cpuinfo however it is asked", () => {
    expect(run(`${PROLOGUE}grep -c ^processor /proc/cpuinfo`)).toEqual({ stdout: '3\n', stderr: '', exitCode: 0 });
    expect(run(`${PROLOGUE}cat /proc/cpuinfo | grep processor | wc -l`).stdout).toBe('3\n');
    expect(run('nproc').stdout).toBe('3\n');
    expect(run("grep 'cpu MHz' /proc/cpuinfo | head -1").stdout).toBe('cpu MHz\t\t: 2300.000\n');
  });

  it("shows /proc/meminfo and free from the flavor's RAM", () => {
    const total = Number(/MemTotal:\s+(\d+) kB/.exec(run('cat /proc/meminfo').stdout)![1]);
    expect(total).toBeGreaterThan(2048 * 1024 * 0.9);
    expect(total).toBeLessThan(2048 * 1024);
    expect(run("grep MemTotal /proc/meminfo | awk '{print $2}'").stdout).toBe(`${total}\n`);
    expect(run('free -m').stdout).toMatch(/^ +total +used +free +shared +buff\/cache +available\nMem: +\d+/);
  });

  it("lists the ports' MACs and addresses in ip addr / ip link, as tempest's helpers parse them", () => {
    const addr = run('ip addr').stdout;
    expect(addr).toContain('2: ens3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc fq_codel state UP group default qlen 1000\n    link/ether fa:16:3e:12:34:56 brd ff:ff:ff:ff:ff:ff\n');
    expect(addr).toContain('    inet 10.0.0.5/24 metric 100 brd 10.0.0.255 scope global dynamic ens3\n');
    expect(addr).toContain('    inet 10.1.0.9/28 metric 100 brd 10.1.0.15 scope global dynamic ens4\n');
    expect(addr).toContain('inet6 fe80::f816:3eff:fe12:3456/64 scope link');
    // tempest get_mac_address / get_nic_name_by_ip / get_nic_name_by_mac
    expect(run(`${PROLOGUE}ip addr show ens4 | awk '/ether/ {print $2}'`).stdout).toBe('fa:16:3e:ab:cd:ef\n');
    expect(run(`${PROLOGUE}ip -o addr | awk '/10.0.0.5/ {print $2}'`).stdout).toBe('ens3\n');
    expect(run(`${PROLOGUE}ip -o link | awk '/fa:16:3e:ab:cd:ef/ {print $2}'`).stdout).toBe('ens4:\n');
    expect(run('ip link show ens9')).toEqual({ stdout: '', stderr: 'Device "ens9" does not exist.\n', exitCode: 1 });
    expect(run('ip route').stdout).toContain('default via 10.0.0.1 dev ens3 proto dhcp src 10.0.0.5 metric 100');
  });

  it('lists the disks with lsblk as tempest reads them (TYPE column aligned), partitions of the root disk without --nodeps', () => {
    const out = run('set -eu -o pipefail; PATH=$PATH:/sbin:/usr/sbin; lsblk -lb --nodeps').stdout;
    expect(out).toBe('NAME MAJ:MIN RM        SIZE RO TYPE MOUNTPOINTS\nvda  252:0    0 10737418240  0 disk\nvdb  252:16   0  1073741824  0 disk\n');
    // tempest's RemoteClient.get_disks: rows whose text under the header's TYPE is "disk"
    const lines = out.trimEnd().split('\n');
    const pos = lines[0].indexOf('TYPE');
    expect(lines.slice(1).filter((l) => l.slice(pos, pos + 4) === 'disk').map((l) => l.split(/\s+/)[0])).toEqual(['vda', 'vdb']);
    const tree = run('lsblk').stdout;
    expect(tree).toContain('vda     252:0    0  10G  0 disk\n');
    expect(tree).toMatch(/├─vda1 +252:1 +0 +9\.9G +0 part \/\n/);
    expect(run('lsblk --frobnicate').exitCode).toBe(1);
  });

  it('tells the uptime from the clock and the boot', () => {
    expect(run('uptime').stdout).toBe(' 14:05:01 up  1:02,  1 user,  load average: 0.50, 0.25, 0.10\n');
    expect(run('uptime -p').stdout).toBe('up 1 hour, 2 minutes\n');
    expect(run(`${PROLOGUE}cut -f1 -d. /proc/uptime`).stdout).toBe('3725\n');
    // tempest's reboot tests: sync, then the boot time from /proc/uptime
    expect(run(`${PROLOGUE}sync`)).toEqual({ stdout: '', stderr: '', exitCode: 0 });
  });

  it('echoes with quotes and variables, and knows who the user is', () => {
    expect(run('echo "hello   $USER" \'$HOME\' a\\ b').stdout).toBe("hello   ubuntu $HOME a b\n");
    expect(run('X=1; echo ${X}$?').stdout).toBe('10\n');
    expect(run('echo -n hi').stdout).toBe('hi');
    expect(run('echo "$(hostname)-x"').stdout).toBe('web-1-x\n');
    expect(run('whoami; sudo whoami; id -u').stdout).toBe('ubuntu\nroot\n1000\n');
    expect(run('cat ~/.ssh/authorized_keys').stdout).toBe('ssh-ed25519 AAAAC3Nz key-1\n');
  });

  it("answers an unknown command as bash does: 'command not found', status 127", () => {
    expect(run('frobnicate --now')).toEqual({ stdout: '', stderr: 'bash: line 1: frobnicate: command not found\n', exitCode: 127 });
    expect(run("sh -c 'frob'")).toEqual({ stdout: '', stderr: 'sh: 1: frob: not found\n', exitCode: 127 });
    expect(run('sudo frob').exitCode).toBe(1);
  });

  it('follows set -e, set -u, pipefail, && and ||', () => {
    expect(run('false; echo after')).toEqual({ stdout: 'after\n', stderr: '', exitCode: 0 });
    expect(run('set -e; false; echo after')).toEqual({ stdout: '', stderr: '', exitCode: 1 });
    expect(run('set -e; false || echo rescued').stdout).toBe('rescued\n');
    expect(run('false && echo no; echo $?').stdout).toBe('1\n');
    expect(run('nope | wc -l').exitCode).toBe(0);
    expect(run('set -o pipefail; nope | wc -l').exitCode).toBe(127);
    expect(run('set -u; echo $UNSET_THING')).toEqual({ stdout: '', stderr: 'bash: line 1: UNSET_THING: unbound variable\n', exitCode: 1 });
    expect(run('grep -q processor /proc/cpuinfo && echo yes').stdout).toBe('yes\n');
    expect(run('grep nothing-like-this /proc/cpuinfo').exitCode).toBe(1);
  });

  it('reports missing files, syntax errors and redirections as bash does', () => {
    expect(run('cat /nope')).toEqual({ stdout: '', stderr: 'cat: /nope: No such file or directory\n', exitCode: 1 });
    expect(run('cat /nope 2>/dev/null; echo $?').stdout).toBe('1\n');
    expect(run('cat /nope 2>&1').stdout).toBe('cat: /nope: No such file or directory\n');
    expect(run('echo "unterminated').exitCode).toBe(2);
    expect(run('echo hi > /etc/motd')).toEqual({ stdout: '', stderr: 'bash: /etc/motd: Permission denied\n', exitCode: 1 });
    // tempest's write_to_console: root may write to the console
    expect(run('sudo sh -c "echo \\"marker\\" >/dev/console"').exitCode).toBe(0);
  });

  it('refuses a command line over the limit', () => {
    expect(run(`echo ${'x'.repeat(MAX_COMMAND_BYTES)}`).exitCode).toBe(126);
  });

  it('bounds nesting', () => {
    let cmd = 'echo deep';
    for (let i = 0; i < 12; i++) cmd = `sh -c ${JSON.stringify(cmd)}`;
    expect(run(cmd).stderr).toContain('maximum nesting level exceeded');
  });
});
