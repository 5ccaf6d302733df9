/**
 * `npm run bench:grpc-tls`: what TLS costs a gRPC call. One in-process server (the shared pipeline of
 * @minicloud/platform-grpc: request id, policy, metrics, one log line) answers a small unary call
 * (HostRegistryService/RegisterHost, no auth) first in plaintext, then over TLS with the bring-up's
 * kind of CA and certificate (ECDSA P-256). Prints, for each: the first call on a new connection
 * (TCP + TLS handshake + call), then p50/p95/p99 of sequential calls on the open connection, and
 * the throughput of 64 calls in flight.
 *
 * Options: --calls N (sequential calls measured, default 2000), --connections N (new connections
 * measured for the first-call figure, default 50).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agent } from '@minicloud/proto';
import { createServiceClient, service, startGrpcServer, type GrpcTls } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { ensureLocalCa, issueCertificate } from '../cloud/tls-certs';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function measure(label: string, serverTls: GrpcTls | null, clientTls: GrpcTls | null, calls: number, connections: number) {
  const server = await startGrpcServer({
    port: 0,
    logger: silentLogger(),
    tls: serverTls,
    services: [service({ definition: agent.HostRegistryServiceService, handlers: { registerHost: async () => ({ epoch: 1, heartbeatIntervalMs: 1000 }) } })],
  });
  const dial = () => createServiceClient(agent.HostRegistryServiceService, server.address, { tls: clientTls, maxAttempts: 1 });
  const req = { agentEndpoint: '127.0.0.1:1', tunnelIp: '127.0.1.1' };
  // First call on a fresh connection: connect, handshake (TLS: certificate verification), call.
  const firstMs: number[] = [];
  for (let i = 0; i < connections; i++) {
    const c = dial();
    const t = process.hrtime.bigint();
    await c.registerHost(req);
    firstMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    c.close();
  }
  const c = dial();
  for (let i = 0; i < 200; i++) await c.registerHost(req); // warm-up
  const lat: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = process.hrtime.bigint();
    await c.registerHost(req);
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const burst = 64 * 50;
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next++ < burst) await c.registerHost(req);
  }));
  const perSecond = burst / ((Date.now() - t0) / 1000);
  c.close();
  await server.shutdown(1000);
  console.log(
    `${label.padEnd(10)} first call on a new connection p50 ${pct(firstMs, 50).toFixed(2)} ms  p95 ${pct(firstMs, 95).toFixed(2)} ms | ` +
      `open connection p50 ${pct(lat, 50).toFixed(3)} ms  p95 ${pct(lat, 95).toFixed(3)} ms  p99 ${pct(lat, 99).toFixed(3)} ms | 64 in flight: ${Math.round(perSecond)} calls/s`,
  );
}

async function main() {
  const calls = arg('calls', 2000);
  const connections = arg('connections', 50);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-grpc-tls-bench-'));
  try {
    const ca = await ensureLocalCa(dir, { keep: false });
    const leaf = await issueCertificate(ca, 'controller');
    const caPem = fs.readFileSync(ca.files.caCert);
    const serverTls: GrpcTls = { ca: caPem, cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key) };
    console.log(`gRPC unary call, ${calls} sequential calls after 200 warm-up, ${connections} new connections (node ${process.version}, ${os.cpus().length} CPUs)`);
    await measure('plaintext', null, null, calls, connections);
    await measure('TLS', serverTls, { ca: caPem }, calls, connections);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
