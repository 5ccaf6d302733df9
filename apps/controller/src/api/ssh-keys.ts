import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { utils as sshUtils } from 'ssh2';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { INPUT_LIMITS } from '@minicloud/platform-grpc';

/** Longest public key accepted for import (the shared input limit; a bound keeps parsing cheap). */
export const MAX_PUBLIC_KEY_CHARS = INPUT_LIMITS.publicKeyChars;

/** Bits of a generated RSA key: Nova's generate_key_pair default (nova/crypto.py, 2048). */
export const GENERATED_RSA_BITS = 2048;

/** An SSH key pair as Nova's keypair API gives it. */
export interface SshKeyMaterial {
  /** OpenSSH one-line public key ("ssh-rsa AAAA... comment"). */
  publicKey: string;
  /** MD5 of the key blob, colon-separated lower-case hex (Nova 2.1's fingerprint; `ssh-keygen -E md5 -l`). */
  fingerprint: string;
}

/** MD5 fingerprint of an SSH public key blob (RFC 4716 section 4's form, as Nova gives it). */
function md5Fingerprint(blob: Buffer): string {
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

/**
 * Parses an imported OpenSSH public key line, as Nova's import does (it fingerprints the key and
 * refuses what does not parse).
 * @returns the key as given (trimmed) and its fingerprint
 * @throws InvalidArgumentError('public_key') when empty, too long, not a public key (a private key
 *   included), or not parseable
 */
export function parsePublicKey(text: string): SshKeyMaterial {
  const line = text.trim();
  if (!line) throw new InvalidArgumentError('public_key', 'Keypair data is invalid: the public key is empty');
  if (line.length > MAX_PUBLIC_KEY_CHARS) throw new InvalidArgumentError('public_key', `Keypair data is invalid: the public key is longer than ${MAX_PUBLIC_KEY_CHARS} characters`);
  if (/[\r\n]/.test(line)) throw new InvalidArgumentError('public_key', 'Keypair data is invalid: an OpenSSH public key is one line');
  const parsed = sshUtils.parseKey(line);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) throw new InvalidArgumentError('public_key', 'Keypair data is invalid: failed to generate fingerprint');
  if (key.isPrivateKey()) throw new InvalidArgumentError('public_key', 'Keypair data is invalid: a private key was given, not a public key');
  return { publicKey: line, fingerprint: md5Fingerprint(key.getPublicSSH()) };
}

/**
 * Generates an RSA key pair (ssh2's generator, OpenSSH formats).
 * @param comment the public key's comment (Nova writes "Generated-by-Nova"; we write the pair's name)
 * @returns the public key, its fingerprint, and the OpenSSH private key (returned once, never stored)
 */
export function generateKeyPair(comment: string): SshKeyMaterial & { privateKey: string } {
  const pair = sshUtils.generateKeyPairSync('rsa', { bits: GENERATED_RSA_BITS, comment });
  const parsed = parsePublicKey(pair.public);
  return { ...parsed, privateKey: pair.private };
}

/**
 * Validity of a generated X.509 certificate: ten years. The certificate stands for a user, as an SSH
 * key does, not for a session; Nova's API does not define the validity of the ones it makes.
 */
export const X509_VALIDITY_DAYS = 3650;

/** SHA-1 of a DER certificate, colon-separated lower-case hex (nova/crypto.py generate_x509_fingerprint). */
function sha1Fingerprint(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex').match(/../g)!.join(':');
}

/**
 * Parses an imported X.509 certificate (PEM), as Nova 2.2's x509 key pair import does.
 * @returns the certificate PEM as given (trimmed) and its SHA-1 fingerprint
 * @throws InvalidArgumentError('public_key') when empty, too long, or not a PEM certificate
 */
export function parseX509Certificate(text: string): SshKeyMaterial {
  const pem = text.trim();
  if (!pem) throw new InvalidArgumentError('public_key', 'Keypair data is invalid: the certificate is empty');
  if (pem.length > MAX_PUBLIC_KEY_CHARS) throw new InvalidArgumentError('public_key', `Keypair data is invalid: the certificate is longer than ${MAX_PUBLIC_KEY_CHARS} characters`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new InvalidArgumentError('public_key', 'Keypair data is invalid: failed to generate fingerprint (not a PEM X.509 certificate)');
  }
  return { publicKey: pem, fingerprint: sha1Fingerprint(cert.raw) };
}

/**
 * Generates an RSA 2048 key and a self-signed X.509 certificate for it (Nova 2.2's x509 key pair,
 * nova/crypto.py generate_x509_cert; subject `O=minicloud, OU=<project id>, CN=<user id>`), signed with SHA-256.
 * The key comes from node:crypto; node-forge builds and signs the certificate.
 * @returns the certificate PEM as the public key, its SHA-1 fingerprint, and the PKCS#8 private key PEM
 */
export function generateX509KeyPair(subject: { userId: string; projectId: string }, nowMs: number): SshKeyMaterial & { privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: GENERATED_RSA_BITS, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A positive serial of 16 random bytes (RFC 5280 4.1.2.2: at most 20 octets, non-negative).
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(nowMs);
  cert.validity.notAfter = new Date(nowMs + X509_VALIDITY_DAYS * 86_400_000);
  const attrs = [
    { name: 'organizationName', value: 'minicloud' },
    { shortName: 'OU', value: subject.projectId.slice(0, 64) || 'none' },
    { name: 'commonName', value: subject.userId.slice(0, 64) || 'none' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n').trim();
  return { ...parseX509Certificate(pem), privateKey };
}
