import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { agent } from '@minicloud/proto';
import { createServiceClient, grpcTlsFromEnv, service, startGrpcServer, type GrpcTls, type RunningGrpcServer } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { ensureLocalCa, issueCertificate, type LocalCa } from './tls-certs';

/**
 * TLS between minicloud's gRPC servers and clients with the bring-up's CA and certificates: a client
 * that verifies with the CA is served; one without the CA, with another CA, or in plaintext is
 * refused; with mutual TLS required, a client without a certificate or with one of another CA is refused.
 */
describe('gRPC over TLS with the bring-up CA', () => {
  let dir: string;
  let ca: LocalCa;
  let otherCa: LocalCa;
  let tls: GrpcTls;
  let server: RunningGrpcServer;
  let mtlsServer: RunningGrpcServer;
  const closers: { close(): void }[] = [];
  const registration = service({
    definition: agent.HostRegistryServiceService,
    handlers: { registerHost: async (req) => ({ epoch: Number(req.tunnelIp.split('.').pop()) }) },
  });
  const registry = (address: string, t: GrpcTls | null) => {
    const c = createServiceClient(agent.HostRegistryServiceService, address, { tls: t, deadlineMs: 3_000, maxAttempts: 1 });
    closers.push(c);
    return c;
  };
  const pem = (file: string) => fs.readFileSync(file);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-tls-'));
    ca = await ensureLocalCa(path.join(dir, 'a'), { keep: false });
    otherCa = await ensureLocalCa(path.join(dir, 'b'), { keep: false, name: 'someone else' });
    const leaf = await issueCertificate(ca, 'controller');
    tls = { ca: pem(ca.files.caCert), cert: pem(leaf.cert), key: pem(leaf.key) };
    server = await startGrpcServer({ port: 0, logger: silentLogger(), services: [registration], tls });
    mtlsServer = await startGrpcServer({ port: 0, logger: silentLogger(), services: [registration], tls: { ...tls, requireClientCert: true } });
  });
  afterAll(async () => {
    for (const c of closers) c.close();
    await server?.shutdown(1000);
    await mtlsServer?.shutdown(1000);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the CA key owner-only and issues a certificate for the names the process is reached by', async () => {
    expect(fs.statSync(ca.files.caKey).mode & 0o777).toBe(0o600);
    expect(fs.statSync(ca.files.dir).mode & 0o777).toBe(0o700);
    const leaf = await issueCertificate(ca, 'agent-1', ['compute-agent']);
    expect(fs.statSync(leaf.key).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(pem(leaf.cert));
    expect(cert.verify(new X509Certificate(pem(ca.files.caCert)).publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('DNS:compute-agent');
    expect(cert.checkHost('agent-1')).toBe('agent-1');
  });

  it('reuses the CA with keep and makes a new one without', async () => {
    const kept = await ensureLocalCa(path.join(dir, 'a'), { keep: true });
    expect(kept.reused).toBe(true);
    expect(kept.cert.serialNumber).toBe(ca.cert.serialNumber);
    const fresh = await ensureLocalCa(path.join(dir, 'c'), { keep: true });
    expect(fresh.reused).toBe(false);
  });

  it('serves a client that verifies the server with the CA', async () => {
    expect(server.tls).toBe(true);
    const res = await registry(server.address, { ca: tls.ca }).registerHost({ tunnelIp: '127.0.1.1' });
    expect(res.epoch).toBe(1);
    // By name as well as by address: the certificate carries localhost.
    const byName = await registry(`localhost:${server.port}`, { ca: tls.ca }).registerHost({ tunnelIp: '127.0.1.2' });
    expect(byName.epoch).toBe(2);
    // A list of replicas (grpc-js "ipv4:a,b", as the controller-failover clients dial) verifies too.
    const replicas = await registry(`ipv4:127.0.0.1:1,${server.address}`, { ca: tls.ca }).registerHost({ tunnelIp: '127.0.1.4' });
    expect(replicas.epoch).toBe(4);
  });

  it('refuses a client without the CA, one trusting another CA, and a plaintext client', async () => {
    // Without a CA of its own the client falls back to the system's roots, which do not hold ours.
    await expect(registry(server.address, { ca: Buffer.from('') }).registerHost({ tunnelIp: '127.0.1.9' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(registry(server.address, { ca: pem(otherCa.files.caCert) }).registerHost({ tunnelIp: '127.0.1.9' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(registry(server.address, null).registerHost({ tunnelIp: '127.0.1.9' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('refuses a TLS client at a name the certificate does not carry', async () => {
    const leaf = await issueCertificate(ca, 'image');
    const narrow = await startGrpcServer({ port: 0, host: '127.0.0.2', logger: silentLogger(), services: [registration], tls: { ...tls, cert: pem(leaf.cert), key: pem(leaf.key) } });
    try {
      await expect(registry(`127.0.0.2:${narrow.port}`, { ca: tls.ca }).registerHost({ tunnelIp: '127.0.1.9' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      await narrow.shutdown(1000);
    }
  });

  it('with mutual TLS, refuses a client with no certificate or one of another CA, and serves one of ours', async () => {
    await expect(registry(mtlsServer.address, { ca: tls.ca }).registerHost({ tunnelIp: '127.0.1.9' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const foreign = await issueCertificate(otherCa, 'intruder');
    await expect(registry(mtlsServer.address, { ca: tls.ca, cert: pem(foreign.cert), key: pem(foreign.key) }).registerHost({ tunnelIp: '127.0.1.9' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    const ours = await issueCertificate(ca, 'agent-2');
    const res = await registry(mtlsServer.address, { ca: tls.ca, cert: pem(ours.cert), key: pem(ours.key) }).registerHost({ tunnelIp: '127.0.1.3' });
    expect(res.epoch).toBe(3);
  });

  it('reads TLS from the environment, and refuses a half-configured one', () => {
    expect(grpcTlsFromEnv({})).toBeUndefined();
    const leaf = { cert: path.join(ca.files.dir, 'controller.pem'), key: path.join(ca.files.dir, 'controller-key.pem') };
    const fromEnv = grpcTlsFromEnv({ TLS_CA_FILE: ca.files.caCert, TLS_CERT_FILE: leaf.cert, TLS_KEY_FILE: leaf.key });
    expect(fromEnv?.cert?.toString()).toContain('BEGIN CERTIFICATE');
    expect(fromEnv?.requireClientCert).toBe(false);
    expect(() => grpcTlsFromEnv({ TLS_CA_FILE: ca.files.caCert, TLS_CERT_FILE: leaf.cert })).toThrow(/TLS_CERT_FILE and TLS_KEY_FILE must be set together/);
    expect(() => grpcTlsFromEnv({ TLS_CERT_FILE: leaf.cert, TLS_KEY_FILE: leaf.key })).toThrow(/TLS_CA_FILE is not/);
    expect(() => grpcTlsFromEnv({ TLS_CA_FILE: path.join(dir, 'missing.pem') })).toThrow(/TLS_CA_FILE: cannot read/);
  });
});
