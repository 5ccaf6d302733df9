import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withCacert } from './main';
import type { CliIo } from './io';

describe('--cacert / MINICLOUD_CACERT', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-cacert-'));
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const io = (env: Record<string, string> = {}): CliIo => ({ stdout: { write: () => true }, stderr: { write: () => true }, env });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('takes --cacert out of the arguments (either form, anywhere) and connects over TLS', () => {
    const a = withCacert(['server', '--cacert', ca, 'list'], io());
    expect(a.argv).toEqual(['server', 'list']);
    expect(a.io.connect).toBeDefined();
    const b = withCacert([`--cacert=${ca}`, 'host', 'list'], io());
    expect(b.argv).toEqual(['host', 'list']);
    expect(b.io.connect).toBeDefined();
  });

  it('reads MINICLOUD_CACERT when no --cacert is given, and leaves plaintext to the environment without either', () => {
    expect(withCacert(['server', 'list'], io({ MINICLOUD_CACERT: ca })).io.connect).toBeDefined();
    expect(withCacert(['server', 'list'], io()).io.connect).toBeUndefined();
  });

  it('does not touch arguments after --', () => {
    expect(withCacert(['sim', '--', '--cacert', 'x'], io()).argv).toEqual(['sim', '--', '--cacert', 'x']);
  });

  it('refuses a missing value, an unreadable file and a file without a certificate, naming the file', () => {
    expect(() => withCacert(['server', 'list', '--cacert'], io())).toThrow(/--cacert needs a file/);
    expect(() => withCacert(['--cacert', path.join(dir, 'nope.pem')], io())).toThrow(/cannot read the CA file .*nope\.pem/);
    const junk = path.join(dir, 'junk.pem');
    fs.writeFileSync(junk, 'hello');
    expect(() => withCacert(['--cacert', junk], io())).toThrow(/junk\.pem holds no PEM certificate/);
  });
});
