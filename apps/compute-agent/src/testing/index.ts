/**
 * Test-only entry of the compute agent (`@minicloud/compute-agent/testing`): the one agent double the
 * other services' tests use. Production code never imports it (tools/boundaries checks).
 */
export { FakeHypervisor, partial, type FakeHypervisorProfile, type FakeVm } from './fake-hypervisor';
