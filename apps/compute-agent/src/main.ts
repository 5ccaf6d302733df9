import { loadConfig } from '@minicloud/platform-config';
import { runService, runWhenEntryPoint } from '@minicloud/platform-service';
import { agentConfigSchema } from './config';
import { wireComputeAgent } from './wire';

/**
 * compute-agent (nova-compute + libvirt/QEMU role): AGENT_HOSTS simulated hypervisor hosts in one
 * process (a rack). On SIGTERM heartbeats and lease renewal stop and pending reports are flushed; the
 * VMs stay in memory until exit and die with the process (the process is the host).
 */
export async function main(): Promise<void> {
  const config = loadConfig(agentConfigSchema, process.env);
  await runService({ name: 'compute-agent', config, wire: (deps) => wireComputeAgent(deps, config) });
}

runWhenEntryPoint(module, main);
