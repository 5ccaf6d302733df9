import fs from 'node:fs';
import { ChannelCredentials, ServerCredentials, credentials } from '@grpc/grpc-js';

/**
 * TLS material of one process, PEM-encoded. A client verifies the server's certificate against `ca`
 * (and its name against the address dialled); a server presents `cert` with `key`. With `cert`/`key`
 * a client also presents them (harmless when the server does not ask for one).
 */
export interface GrpcTls {
  /** The CA certificate(s) that sign the cloud's service certificates. */
  ca: Buffer;
  /** This process's certificate chain (leaf first). */
  cert?: Buffer;
  /** The private key of `cert` (PKCS#8 PEM). */
  key?: Buffer;
  /** Server side only: refuse clients that present no certificate signed by `ca` (mutual TLS). */
  requireClientCert?: boolean;
}

/** The environment variables {@link grpcTlsFromEnv} reads. */
export const TLS_ENV = {
  /** Path of the CA certificate (PEM). Set: clients use TLS and verify servers against it. */
  ca: 'TLS_CA_FILE',
  /** Path of the process's certificate (PEM). Set with TLS_KEY_FILE: servers serve TLS. */
  cert: 'TLS_CERT_FILE',
  /** Path of the certificate's private key (PEM). */
  key: 'TLS_KEY_FILE',
  /** "true": servers require a client certificate signed by the CA (mutual TLS). */
  requireClientCert: 'TLS_REQUIRE_CLIENT_CERT',
} as const;

const cache = new Map<string, Buffer>();

function readPem(file: string, variable: string): Buffer {
  const hit = cache.get(file);
  if (hit) return hit;
  let pem: Buffer;
  try {
    pem = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${variable}: cannot read ${file}: ${(e as Error).message}`);
  }
  if (!pem.includes('-----BEGIN ')) throw new Error(`${variable}: ${file} is not a PEM file`);
  cache.set(file, pem);
  return pem;
}

/**
 * The process's TLS material from the environment ({@link TLS_ENV}: TLS_CA_FILE, TLS_CERT_FILE,
 * TLS_KEY_FILE, TLS_REQUIRE_CLIENT_CERT), or undefined (plaintext) when TLS_CA_FILE is unset or
 * empty. Files are read once per path. This is the default of every server and client of this
 * library, as gRPC's own `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` is a process default.
 * @throws Error naming the variable when a file cannot be read or is not PEM, when only one of
 *   TLS_CERT_FILE/TLS_KEY_FILE is set, or when TLS_CERT_FILE is set without TLS_CA_FILE
 */
export function grpcTlsFromEnv(env: NodeJS.ProcessEnv = process.env): GrpcTls | undefined {
  const caFile = env[TLS_ENV.ca] || undefined;
  const certFile = env[TLS_ENV.cert] || undefined;
  const keyFile = env[TLS_ENV.key] || undefined;
  if (!caFile) {
    if (certFile || keyFile) throw new Error(`${TLS_ENV.cert}/${TLS_ENV.key} are set but ${TLS_ENV.ca} is not: set all three for TLS, or none for plaintext`);
    return undefined;
  }
  if (!certFile !== !keyFile) throw new Error(`${TLS_ENV.cert} and ${TLS_ENV.key} must be set together (one is missing)`);
  return {
    ca: readPem(caFile, TLS_ENV.ca),
    ...(certFile && keyFile ? { cert: readPem(certFile, TLS_ENV.cert), key: readPem(keyFile, TLS_ENV.key) } : {}),
    requireClientCert: env[TLS_ENV.requireClientCert] === 'true',
  };
}

let ipServernameWarningMuted = false;

/**
 * grpc-js passes the dialled host as the TLS ServerName (SNI) even when it is an IP address, and
 * Node then prints its DEP0123 deprecation warning ("Setting the TLS ServerName to an IP address is
 * not permitted by RFC 6066") once per process, onto the stderr of every CLI run and tool. Our
 * servers do not use SNI, and the certificate is still checked against the address (an IP SAN) by
 * Node's checkServerIdentity, so only that one warning code is dropped; every other warning passes.
 */
function muteIpServernameWarning(): void {
  if (ipServernameWarningMuted) return;
  ipServernameWarningMuted = true;
  const emit = process.emitWarning.bind(process) as (...a: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
    if (code === 'DEP0123') return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

/**
 * Channel credentials for a client: TLS verifying the server against `tls.ca` (presenting
 * `tls.cert` when given), or plaintext when `tls` is undefined.
 */
export function clientCredentialsOf(tls: GrpcTls | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  muteIpServernameWarning();
  return credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
}

/**
 * Server credentials: TLS with `tls.cert`/`tls.key` (asking for and, with `requireClientCert`,
 * requiring a client certificate signed by `tls.ca`), or plaintext when `tls` is undefined.
 * @throws Error when `tls` has no certificate or key (a server cannot serve TLS without them)
 */
export function serverCredentialsOf(tls: GrpcTls | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  if (!tls.cert || !tls.key) throw new Error(`a TLS server needs ${TLS_ENV.cert} and ${TLS_ENV.key} (only ${TLS_ENV.ca} is set)`);
  return ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], tls.requireClientCert === true);
}
