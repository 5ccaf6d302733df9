/**
 * In-memory fakes for the controller's unit tests of orchestration (conductor, relocation): an
 * instance store, a network service, an agent transport that records commands, and an instance
 * builder. Test code only (under testing/, which production code never imports).
 */
import { NotFoundError } from '@minicloud/domain-errors';
import type { InstanceActionRecord } from '../store/instance-store';
import type { InstanceRecord } from '@minicloud/domain-compute';
import { agent, compute, network } from '@minicloud/proto';
import type { DeepPartial } from '@minicloud/platform-grpc';
import type { AgentTransport } from '../agent/agent-client';

/** A building instance on host `h1` in zone `az-1`, one network requested; `over` replaces fields. */
export function makeInstance(over: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id: 'i-1',
    name: 'vm',
    projectId: 'p',
    userId: 'u',
    flavor: { id: 'f', name: 'm1.small', vcpus: 1, ramMb: 512, diskGb: 1, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: {} },
    image: { id: 'img', diskFormat: 'raw', sizeBytes: 1, virtualSizeBytes: 1, sha256: '', properties: {} },
    requestedNetworks: [{ networkId: 'net-1', networkName: 'private', segmentationId: 1001, mtu: 1450 }],
    ports: [],
    vmState: 'building',
    taskState: 'networking',
    powerState: 'nostate',
    hostId: 'h1',
    availabilityZone: 'az-1',
    metadata: {},
    tags: [],
    haEnabled: true,
    restartPriority: 'medium',
    reservationId: 'r-1',
    keyName: '',
    userData: '',
    createdAtMs: 0,
    updatedAtMs: 0,
    taskStartedAtMs: 0,
    actionRequestId: 'req-1',
    ...over,
  };
}

/** The InstanceStore calls the conductor makes, over a Map; actions are kept per instance. */
export function memoryInstances(records: InstanceRecord[]) {
  const byId = new Map(records.map((r) => [r.id, structuredClone(r)]));
  const actions = new Map<string, InstanceActionRecord>();
  return {
    byId,
    actions,
    async find(id: string) {
      const r = byId.get(id);
      return r && structuredClone(r);
    },
    async get(id: string) {
      const r = byId.get(id);
      if (!r) throw new NotFoundError('server', id);
      return structuredClone(r);
    },
    async getMany(ids: string[]) {
      return ids.flatMap((id) => (byId.has(id) ? [structuredClone(byId.get(id)!)] : []));
    },
    async update(id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined, nowMs = 0) {
      const cur = byId.get(id);
      if (!cur) return undefined;
      const next = mutate(structuredClone(cur));
      if (!next) return structuredClone(cur);
      byId.set(id, { ...next, updatedAtMs: nowMs });
      return structuredClone(byId.get(id)!);
    },
    async startAction(_id: string, a: InstanceActionRecord) {
      actions.set(a.requestId, a);
    },
    async finishAction(_id: string, requestId: string, result: 'Success' | 'Error', message: string) {
      const a = actions.get(requestId);
      if (a && !a.result) actions.set(requestId, { ...a, result, message });
    },
    async remove(r: InstanceRecord) {
      byId.delete(r.id);
    },
    async updateVolumeEntry() {
      return { record: undefined, changed: false };
    },
  };
}

/** A NetworkService fake: ports in memory (port-N, 10.0.0.N), every bind recorded. */
export function memoryNetwork() {
  const ports = new Map<string, network.Port>();
  const bindings: { portId: string; hostId: string }[] = [];
  let seq = 0;
  return {
    ports,
    bindings,
    async listPorts(req: DeepPartial<network.ListPortsRequest>) {
      return { ports: [...ports.values()].filter((p) => p.deviceId === req.deviceId) };
    },
    async createPort(req: DeepPartial<network.CreatePortRequest>) {
      const n = ++seq;
      const port = network.Port.fromPartial({ id: `port-${n}`, networkId: req.networkId, deviceId: req.deviceId, macAddress: `fa:16:3e:00:00:0${n}`, fixedIps: [{ ipAddress: `10.0.0.${n}` }] });
      ports.set(port.id, port);
      return { port };
    },
    async bindPort(req: DeepPartial<network.BindPortRequest>) {
      const p = ports.get(req.portId!);
      if (!p) throw new NotFoundError('port', req.portId!);
      bindings.push({ portId: p.id, hostId: req.hostId! });
      return { port: { ...p, bindingHostId: req.hostId! } };
    },
    async deletePort(req: DeepPartial<network.DeletePortRequest>) {
      if (!ports.delete(req.portId!)) throw new NotFoundError('port', req.portId!);
      return {};
    },
  };
}

/**
 * An agent transport that records every ExecuteCommand and answers with `answer(req)` (an Error is
 * thrown); by default a running runtime for power-on-like commands and nostate for a spawn.
 */
export function recordingAgents(answer?: (req: DeepPartial<agent.ExecuteCommandRequest>) => unknown) {
  const commands: DeepPartial<agent.ExecuteCommandRequest>[] = [];
  /** Console output per instance id, answered by getConsoleOutput. */
  const consoles = new Map<string, string>();
  const transport = (): AgentTransport => ({
    async executeCommand(req) {
      commands.push(req);
      const a = answer?.(req) ?? { instance: { instanceId: req.instanceId, powerState: compute.PowerState.POWER_STATE_NOSTATE } };
      if (a instanceof Error) throw a;
      return agent.ExecuteCommandResponse.fromPartial(a as DeepPartial<agent.ExecuteCommandResponse>);
    },
    async listInstances() {
      return { instances: [], epoch: 0 };
    },
    async setHostPower() {
      return { usage: undefined };
    },
    async getConsoleOutput(req) {
      return { output: consoles.get(req.instanceId ?? '') ?? '' };
    },
  });
  return { commands, consoles, transport };
}
