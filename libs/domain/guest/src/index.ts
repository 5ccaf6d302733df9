export { parseUserData, type CloudConfig, type CloudConfigUser, type UserData, type WriteFile } from './user-data';
export { simulateShell, type SimulatedCommand } from './shell';
export { sanitizeHostname, DHCP_DOMAIN } from './hostname';
export { ConsoleLog, CONSOLE_LOG_MAX_BYTES, tailLines } from './console-log';
export { instanceIdSignature, verifyInstanceIdSignature } from './signature';
export { ciInfoTable, netmaskOf } from './ci-info';
export { kernelBootLines, kernelStamp, formatLine, GUEST_KERNEL, GUEST_SSHD_START_UPTIME_MS, type GuestDisk, type GuestMachine, type TimedLine } from './kernel-log';
export {
  runCloudInit,
  consoleText,
  rfc2822,
  CLOUD_INIT_VERSION,
  DEFAULT_USER,
  METADATA_URL,
  type CloudInitInput,
  type CloudInitResult,
  type DatasourceData,
  type GuestNic,
  type PublicKey,
} from './cloud-init';
export {
  metadataLookup,
  metaDataJson,
  networkDataJson,
  ec2MetaData,
  OPENSTACK_VERSIONS,
  EC2_VERSIONS,
  IDENTITY_VENDOR_DATA_TARGET,
  type InstanceMetadataSource,
  type MetadataAnswer,
} from './metadata';
export { runGuestCommand, MAX_COMMAND_BYTES, MAX_OUTPUT_BYTES, type GuestSystem, type ShellNic, type ShellResult } from './guest-shell';
