export { OverlayAgent, type OverlayAgentDeps, type OverlayVtepClient } from './overlay-agent';
export { VirtualSwitch } from './virtual-switch';
