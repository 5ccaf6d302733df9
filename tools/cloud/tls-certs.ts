/**
 * The local cloud's certificate authority and one server certificate per process, for TLS on gRPC
 * and on the OpenStack REST front. Keys are made by node:crypto (ECDSA P-256); the X.509 encoding
 * and signing is @peculiar/x509 (it needs the reflect-metadata polyfill loaded first).
 */
import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;

/** ECDSA P-256 with SHA-256: the key type of the CA/Browser Forum's baseline, fast to make and to verify. */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** The CA's lifetime: it is reused with --keep-state, so it outlives many runs. */
export const CA_VALIDITY_DAYS = 3650;
/** A server certificate's lifetime: 397 days, the CA/Browser Forum's maximum for TLS server certificates. */
export const LEAF_VALIDITY_DAYS = 397;
/** A kept CA closer than this to its expiry is replaced by a new one. */
const CA_RENEW_BEFORE_DAYS = 30;

/** Paths of the CA and of one process's certificate (PEM). */
export interface TlsFiles {
  dir: string;
  caCert: string;
  /** The CA's private key (0600); only the bring-up reads it, to sign server certificates. */
  caKey: string;
}

/** One process's certificate and key files. */
export interface LeafFiles {
  cert: string;
  key: string;
}

type KeyPair = webcrypto.CryptoKeyPair;

async function newKeys(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

function serial(): string {
  // A positive 128-bit serial (RFC 5280 4.1.2.2: at most 20 octets, positive).
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

function writeSecretFile(file: string, text: string, mode: number): void {
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
}

/** A loaded CA: its certificate and signing key. */
export interface LocalCa {
  files: TlsFiles;
  cert: x509.X509Certificate;
  keys: KeyPair;
  /** True when a CA of a previous run was reused (--keep-state). */
  reused: boolean;
}

/**
 * The cloud's CA in `<stateDir>/tls` (directory 0700; key 0600, certificate 0644): with `keep` the one
 * a previous run made, when it is there and valid for 30 more days; else a new self-signed CA
 * (basicConstraints CA:true pathlen 0, keyCertSign/cRLSign) valid {@link CA_VALIDITY_DAYS} days.
 */
export async function ensureLocalCa(stateDir: string, opts: { keep: boolean; name?: string }): Promise<LocalCa> {
  const dir = path.join(stateDir, 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const files: TlsFiles = { dir, caCert: path.join(dir, 'ca.pem'), caKey: path.join(dir, 'ca-key.pem') };
  if (opts.keep && fs.existsSync(files.caCert) && fs.existsSync(files.caKey)) {
    const cert = new x509.X509Certificate(fs.readFileSync(files.caCert, 'utf8'));
    if (cert.notAfter.getTime() - Date.now() > CA_RENEW_BEFORE_DAYS * DAY_MS) {
      const der = createPrivateKey(fs.readFileSync(files.caKey)).export({ format: 'der', type: 'pkcs8' });
      const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign']);
      const publicKey = await cert.publicKey.export(ALGORITHM, ['verify']);
      return { files, cert, keys: { privateKey, publicKey }, reused: true };
    }
  }
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.name ?? 'minicloud local CA'}, O=minicloud`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writeSecretFile(files.caKey, await pkcs8Pem(keys.privateKey), 0o600);
  writeSecretFile(files.caCert, cert.toString('pem') + '\n', 0o644);
  return { files, cert, keys, reused: false };
}

/** Whether `s` is an IPv4 or IPv6 literal (goes into an iPAddress SAN rather than a dNSName). */
function isIp(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(':');
}

/**
 * Issues a TLS server (and client) certificate for process `name`, valid {@link LEAF_VALIDITY_DAYS}
 * days, with subjectAltNames 127.0.0.1, ::1, localhost, `name` and every entry of `names` (DNS
 * names or IP literals: the addresses the process is reached by), extendedKeyUsage serverAuth and
 * clientAuth. Writes `<dir>/<name>.pem` (0644) and `<name>-key.pem` (0600).
 * @throws Error when `name` is not a plain file-safe name
 */
export async function issueCertificate(ca: LocalCa, name: string, names: readonly string[] = []): Promise<LeafFiles> {
  if (!/^[a-z0-9][a-z0-9.-]*$/i.test(name)) throw new Error(`certificate name '${name}' must be letters, digits, dots and dashes`);
  const keys = await newKeys();
  const now = Date.now();
  const sans = [...new Set(['127.0.0.1', '::1', 'localhost', name, ...names])];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${name}, O=minicloud`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(Math.min(now + LEAF_VALIDITY_DAYS * DAY_MS, ca.cert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(sans.map((v) => ({ type: isIp(v) ? 'ip' : 'dns', value: v }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const files: LeafFiles = { cert: path.join(ca.files.dir, `${name}.pem`), key: path.join(ca.files.dir, `${name}-key.pem`) };
  writeSecretFile(files.key, await pkcs8Pem(keys.privateKey), 0o600);
  writeSecretFile(files.cert, cert.toString('pem') + '\n', 0o644);
  return files;
}
