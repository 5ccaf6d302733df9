/**
 * Placement throughput: `npx tsx libs/domain/scheduler/bench/scheduler.bench.ts [hosts] [decisions]`.
 * Prints decisions/s (one decision = one selectDestinations call for one instance) with the default
 * filters and weighers over a varied fleet (default 1,000 hosts). Deterministic (seeded RNG).
 */
import { seededRng } from '@minicloud/domain-clock';
import { defaultScheduler, HostState, RequestSpec } from '../src';
import { makeHost } from '../src/testing';

const hostCount = Number(process.argv[2] ?? 1000);
const decisions = Number(process.argv[3] ?? 2000);
const rng = seededRng(42);

const hosts: HostState[] = Array.from({ length: hostCount }, (_, i) =>
  makeHost({
    hostId: `host-${i}`,
    availabilityZone: `az${i % 3}`,
    up: i % 50 !== 0,
    vcpusTotal: 32,
    vcpusUsed: Math.floor(rng() * 200),
    cpuAllocationRatio: 8,
    ramMbTotal: 262144,
    ramMbUsed: Math.floor(rng() * 200000),
    ramMbReserved: 4096,
    diskGbTotal: 2000,
    diskGbUsed: Math.floor(rng() * 1500),
    numInstances: Math.floor(rng() * 40),
    numIoOps: Math.floor(rng() * 4),
    aggregates: i % 4 === 0 ? [{ id: 'ssd', metadata: { ssd: 'true', cpu_allocation_ratio: '4' } }] : [],
  }),
);

const spec: RequestSpec = {
  numInstances: 1,
  flavor: { vcpus: 2, ramMb: 4096, diskGb: 40, extraSpecs: {} },
  image: { properties: { hw_architecture: 'x86_64' } },
  schedulerHints: {},
};

const scheduler = defaultScheduler({ rng: seededRng(7), hostSubsetSize: 3 });
for (let i = 0; i < 50; i++) scheduler.selectDestinations(hosts, spec); // warm-up

const start = process.hrtime.bigint();
for (let i = 0; i < decisions; i++) scheduler.selectDestinations(hosts, spec);
const elapsedSeconds = Number(process.hrtime.bigint() - start) / 1e9;

const batch = { ...spec, numInstances: 10 };
const batchStart = process.hrtime.bigint();
for (let i = 0; i < 100; i++) scheduler.selectDestinations(hosts, batch);
const batchSeconds = Number(process.hrtime.bigint() - batchStart) / 1e9;

console.log(`hosts=${hostCount} decisions=${decisions} elapsed_seconds=${elapsedSeconds.toFixed(3)}`);
console.log(`single-instance: ${Math.round(decisions / elapsedSeconds)} decisions/s (${((elapsedSeconds / decisions) * 1000).toFixed(3)} ms each)`);
console.log(`10-instance requests: ${Math.round(1000 / batchSeconds)} instance placements/s`);
