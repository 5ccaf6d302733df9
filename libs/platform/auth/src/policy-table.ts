import type { PolicyRule } from './policy';

/**
 * THE authorisation policy of minicloud, written once as data (OpenStack's policy.yaml files of
 * Keystone, Glance, Cinder, Neutron and Nova, reduced to roles): full gRPC method path
 * ("/minicloud.<svc>.v1.<Service>/<Method>") -> the rule a caller's token must satisfy. Every
 * service's gRPC server looks its methods up here (libs/platform/grpc `startGrpcServer`); a method
 * missing from this table is refused to everyone but admins (fail closed), and
 * `policy-table.spec.ts` fails until every RPC of every generated service is listed.
 *
 * Rules: `public` (no token), `authenticated` (any valid token), `reader` / `member` / `admin`
 * (expanded roles include it; admin implies member implies reader). The usual shape: reads need
 * reader, writes member, operator and service-to-service calls admin (service users hold admin in
 * the `service` project). What compute agents call is `agent` (admin, or a compute agent's own
 * user): host registration, VTEP/FDB, the migration stream, revocations; the agents' own
 * HypervisorService stays admin (only the controller commands agents). Project scoping (another project's resource -> NOT_FOUND) is the
 * handlers' job: the policy only checks roles.
 */
export const POLICY_TABLE: Readonly<Record<string, PolicyRule>> = {
  // ---- minicloud.agent.v1.HostRegistryService ----
  '/minicloud.agent.v1.HostRegistryService/RegisterHost': 'agent',
  // ---- minicloud.agent.v1.HypervisorService ----
  '/minicloud.agent.v1.HypervisorService/ExecuteCommand': 'admin',
  '/minicloud.agent.v1.HypervisorService/GetHostStatus': 'admin',
  '/minicloud.agent.v1.HypervisorService/ListInstances': 'admin',
  '/minicloud.agent.v1.HypervisorService/SetHostPower': 'admin',
  '/minicloud.agent.v1.HypervisorService/GetConsoleOutput': 'admin',
  // ---- minicloud.agent.v1.MigrationService ----
  '/minicloud.agent.v1.MigrationService/Migrate': 'agent',
  // ---- minicloud.compute.v1.ComputeService ----
  '/minicloud.compute.v1.ComputeService/CreateFlavor': 'admin',
  '/minicloud.compute.v1.ComputeService/GetFlavor': 'reader',
  '/minicloud.compute.v1.ComputeService/ListFlavors': 'reader',
  '/minicloud.compute.v1.ComputeService/DeleteFlavor': 'admin',
  '/minicloud.compute.v1.ComputeService/SetFlavorExtraSpecs': 'admin',
  // Nova's os_compute_api:os-flavor-access (list) and its add/remove actions: admin.
  '/minicloud.compute.v1.ComputeService/ListFlavorAccess': 'admin',
  '/minicloud.compute.v1.ComputeService/AddFlavorAccess': 'admin',
  '/minicloud.compute.v1.ComputeService/RemoveFlavorAccess': 'admin',
  '/minicloud.compute.v1.ComputeService/CreateServer': 'member',
  '/minicloud.compute.v1.ComputeService/GetServer': 'reader',
  '/minicloud.compute.v1.ComputeService/ListServers': 'reader',
  '/minicloud.compute.v1.ComputeService/DeleteServer': 'member',
  '/minicloud.compute.v1.ComputeService/ServerAction': 'member',
  '/minicloud.compute.v1.ComputeService/UpdateServer': 'member',
  // vSphere's Turn On/Off Fault Tolerance: an operator action (it places a second copy on another host).
  '/minicloud.compute.v1.ComputeService/SetServerFaultTolerance': 'admin',
  '/minicloud.compute.v1.ComputeService/ListInstanceActions': 'reader',
  // Nova's os_compute_api:os-attach-interfaces:list (project reader); attach/detach are ServerAction (member).
  '/minicloud.compute.v1.ComputeService/ListInterfaces': 'reader',
  // Nova's os_compute_api:os-console-output: project member or admin (scoped to the server's project).
  '/minicloud.compute.v1.ComputeService/GetConsoleOutput': 'member',
  '/minicloud.compute.v1.ComputeService/ListMigrations': 'admin',
  // Nova's os_compute_api:servers:migrations:delete and :force_complete (admin).
  '/minicloud.compute.v1.ComputeService/AbortServerMigration': 'admin',
  '/minicloud.compute.v1.ComputeService/ForceCompleteServerMigration': 'admin',
  '/minicloud.compute.v1.ComputeService/CreateServerGroup': 'member',
  '/minicloud.compute.v1.ComputeService/GetServerGroup': 'reader',
  '/minicloud.compute.v1.ComputeService/ListServerGroups': 'reader',
  '/minicloud.compute.v1.ComputeService/DeleteServerGroup': 'member',
  '/minicloud.compute.v1.ComputeService/CreateAggregate': 'admin',
  '/minicloud.compute.v1.ComputeService/ListAggregates': 'reader',
  '/minicloud.compute.v1.ComputeService/DeleteAggregate': 'admin',
  '/minicloud.compute.v1.ComputeService/UpdateAggregate': 'admin',
  '/minicloud.compute.v1.ComputeService/AddAggregateHost': 'admin',
  '/minicloud.compute.v1.ComputeService/RemoveAggregateHost': 'admin',
  '/minicloud.compute.v1.ComputeService/SetAggregateMetadata': 'admin',
  '/minicloud.compute.v1.ComputeService/ListAvailabilityZones': 'reader',
  '/minicloud.compute.v1.ComputeService/ListHosts': 'admin',
  '/minicloud.compute.v1.ComputeService/GetHost': 'admin',
  '/minicloud.compute.v1.ComputeService/UpdateHost': 'admin',
  // Key pairs are per user (Nova's admin_or_owner); another user's pairs are the handlers' check (admin only).
  '/minicloud.compute.v1.ComputeService/CreateKeypair': 'member',
  '/minicloud.compute.v1.ComputeService/GetKeypair': 'reader',
  '/minicloud.compute.v1.ComputeService/ListKeypairs': 'reader',
  '/minicloud.compute.v1.ComputeService/DeleteKeypair': 'member',
  // ---- minicloud.identity.v1.IdentityService ----
  '/minicloud.identity.v1.IdentityService/Authenticate': 'public',
  '/minicloud.identity.v1.IdentityService/ValidateToken': 'authenticated',
  '/minicloud.identity.v1.IdentityService/RevokeToken': 'authenticated',
  '/minicloud.identity.v1.IdentityService/GetPublicKeys': 'public',
  '/minicloud.identity.v1.IdentityService/RotateSigningKey': 'admin',
  '/minicloud.identity.v1.IdentityService/GetCatalog': 'public',
  '/minicloud.identity.v1.IdentityService/RegisterEndpoint': 'admin',
  '/minicloud.identity.v1.IdentityService/ListServiceCatalog': 'authenticated',
  '/minicloud.identity.v1.IdentityService/SeedServiceCatalog': 'admin',
  '/minicloud.identity.v1.IdentityService/CreateRegion': 'admin',
  '/minicloud.identity.v1.IdentityService/UpdateRegion': 'admin',
  '/minicloud.identity.v1.IdentityService/DeleteRegion': 'admin',
  '/minicloud.identity.v1.IdentityService/CreateCatalogService': 'admin',
  '/minicloud.identity.v1.IdentityService/UpdateCatalogService': 'admin',
  '/minicloud.identity.v1.IdentityService/DeleteCatalogService': 'admin',
  '/minicloud.identity.v1.IdentityService/CreateCatalogEndpoint': 'admin',
  '/minicloud.identity.v1.IdentityService/UpdateCatalogEndpoint': 'admin',
  '/minicloud.identity.v1.IdentityService/DeleteCatalogEndpoint': 'admin',
  '/minicloud.identity.v1.IdentityService/CreateDomain': 'admin',
  '/minicloud.identity.v1.IdentityService/ListDomains': 'reader',
  '/minicloud.identity.v1.IdentityService/UpdateDomain': 'admin',
  '/minicloud.identity.v1.IdentityService/DeleteDomain': 'admin',
  '/minicloud.identity.v1.IdentityService/CreateProject': 'admin',
  '/minicloud.identity.v1.IdentityService/GetProject': 'authenticated',
  '/minicloud.identity.v1.IdentityService/ListProjects': 'authenticated',
  '/minicloud.identity.v1.IdentityService/UpdateProject': 'admin',
  '/minicloud.identity.v1.IdentityService/DeleteProject': 'admin',
  '/minicloud.identity.v1.IdentityService/CreateUser': 'admin',
  '/minicloud.identity.v1.IdentityService/GetUser': 'authenticated',
  '/minicloud.identity.v1.IdentityService/ListUsers': 'authenticated',
  '/minicloud.identity.v1.IdentityService/UpdateUser': 'admin',
  '/minicloud.identity.v1.IdentityService/DeleteUser': 'admin',
  // Keystone's self-service change needs no token (an expired password cannot get one): the
  // original password is the proof, checked under the login lockout
  '/minicloud.identity.v1.IdentityService/ChangePassword': 'public',
  '/minicloud.identity.v1.IdentityService/CreateGroup': 'admin',
  '/minicloud.identity.v1.IdentityService/AddUserToGroup': 'admin',
  '/minicloud.identity.v1.IdentityService/GetGroup': 'admin',
  '/minicloud.identity.v1.IdentityService/ListGroups': 'authenticated',
  '/minicloud.identity.v1.IdentityService/UpdateGroup': 'admin',
  '/minicloud.identity.v1.IdentityService/DeleteGroup': 'admin',
  '/minicloud.identity.v1.IdentityService/RemoveUserFromGroup': 'admin',
  '/minicloud.identity.v1.IdentityService/ListGroupUsers': 'admin',
  '/minicloud.identity.v1.IdentityService/CreateRole': 'admin',
  '/minicloud.identity.v1.IdentityService/ListRoles': 'reader',
  '/minicloud.identity.v1.IdentityService/UpdateRole': 'admin',
  '/minicloud.identity.v1.IdentityService/DeleteRole': 'admin',
  '/minicloud.identity.v1.IdentityService/AssignRole': 'admin',
  '/minicloud.identity.v1.IdentityService/UnassignRole': 'admin',
  '/minicloud.identity.v1.IdentityService/ListRoleAssignments': 'authenticated',
  '/minicloud.identity.v1.IdentityService/CreateApplicationCredential': 'member',
  '/minicloud.identity.v1.IdentityService/ListApplicationCredentials': 'authenticated',
  '/minicloud.identity.v1.IdentityService/DeleteApplicationCredential': 'authenticated',
  '/minicloud.identity.v1.IdentityService/GetQuota': 'reader',
  '/minicloud.identity.v1.IdentityService/SetQuota': 'admin',
  // Quota accounting is service-to-service (the controller reserves when it admits a build and
  // releases when it deletes, with its service credentials): a member who could call these would
  // release its project's usage and then create without limit.
  '/minicloud.identity.v1.IdentityService/ReserveQuota': 'admin',
  '/minicloud.identity.v1.IdentityService/CommitQuotaReservation': 'admin',
  '/minicloud.identity.v1.IdentityService/RollbackQuotaReservation': 'admin',
  '/minicloud.identity.v1.IdentityService/ReleaseQuota': 'admin',
  '/minicloud.identity.v1.IdentityService/IssueInstanceCredential': 'admin',
  '/minicloud.identity.v1.IdentityService/ListRevocations': 'agent',
  // ---- minicloud.image.v1.ImageService ----
  '/minicloud.image.v1.ImageService/CreateImage': 'member',
  '/minicloud.image.v1.ImageService/UploadImage': 'member',
  '/minicloud.image.v1.ImageService/DownloadImage': 'reader',
  '/minicloud.image.v1.ImageService/GetImage': 'reader',
  '/minicloud.image.v1.ImageService/ListImages': 'reader',
  '/minicloud.image.v1.ImageService/UpdateImage': 'member',
  '/minicloud.image.v1.ImageService/DeleteImage': 'member',
  '/minicloud.image.v1.ImageService/DeactivateImage': 'admin',
  '/minicloud.image.v1.ImageService/ReactivateImage': 'admin',
  '/minicloud.image.v1.ImageService/AddImageMember': 'member',
  '/minicloud.image.v1.ImageService/UpdateImageMember': 'member',
  '/minicloud.image.v1.ImageService/RemoveImageMember': 'member',
  '/minicloud.image.v1.ImageService/ListImageMembers': 'reader',
  // ---- minicloud.network.v1.NetworkService ----
  '/minicloud.network.v1.NetworkService/CreateNetwork': 'member',
  '/minicloud.network.v1.NetworkService/GetNetwork': 'reader',
  '/minicloud.network.v1.NetworkService/ListNetworks': 'reader',
  '/minicloud.network.v1.NetworkService/UpdateNetwork': 'member',
  '/minicloud.network.v1.NetworkService/DeleteNetwork': 'member',
  '/minicloud.network.v1.NetworkService/CreateSubnet': 'member',
  '/minicloud.network.v1.NetworkService/GetSubnet': 'reader',
  '/minicloud.network.v1.NetworkService/ListSubnets': 'reader',
  '/minicloud.network.v1.NetworkService/UpdateSubnet': 'member',
  '/minicloud.network.v1.NetworkService/DeleteSubnet': 'member',
  '/minicloud.network.v1.NetworkService/CreateSubnetPool': 'member',
  '/minicloud.network.v1.NetworkService/GetSubnetPool': 'reader',
  '/minicloud.network.v1.NetworkService/ListSubnetPools': 'reader',
  '/minicloud.network.v1.NetworkService/UpdateSubnetPool': 'member',
  '/minicloud.network.v1.NetworkService/DeleteSubnetPool': 'member',
  '/minicloud.network.v1.NetworkService/CreatePort': 'member',
  '/minicloud.network.v1.NetworkService/GetPort': 'reader',
  '/minicloud.network.v1.NetworkService/ListPorts': 'reader',
  '/minicloud.network.v1.NetworkService/UpdatePort': 'member',
  '/minicloud.network.v1.NetworkService/DeletePort': 'member',
  '/minicloud.network.v1.NetworkService/BindPort': 'admin',
  '/minicloud.network.v1.NetworkService/UnbindPort': 'admin',
  '/minicloud.network.v1.NetworkService/CreateSecurityGroup': 'member',
  '/minicloud.network.v1.NetworkService/GetSecurityGroup': 'reader',
  '/minicloud.network.v1.NetworkService/ListSecurityGroups': 'reader',
  '/minicloud.network.v1.NetworkService/UpdateSecurityGroup': 'member',
  '/minicloud.network.v1.NetworkService/DeleteSecurityGroup': 'member',
  '/minicloud.network.v1.NetworkService/CreateSecurityGroupRule': 'member',
  '/minicloud.network.v1.NetworkService/DeleteSecurityGroupRule': 'member',
  '/minicloud.network.v1.NetworkService/CreateRouter': 'member',
  '/minicloud.network.v1.NetworkService/GetRouter': 'reader',
  '/minicloud.network.v1.NetworkService/ListRouters': 'reader',
  '/minicloud.network.v1.NetworkService/DeleteRouter': 'member',
  '/minicloud.network.v1.NetworkService/AddRouterInterface': 'member',
  '/minicloud.network.v1.NetworkService/RemoveRouterInterface': 'member',
  '/minicloud.network.v1.NetworkService/SetRouterGateway': 'member',
  '/minicloud.network.v1.NetworkService/UpdateRouter': 'member',
  '/minicloud.network.v1.NetworkService/CreateFloatingIp': 'member',
  '/minicloud.network.v1.NetworkService/GetFloatingIp': 'reader',
  '/minicloud.network.v1.NetworkService/ListFloatingIps': 'reader',
  '/minicloud.network.v1.NetworkService/UpdateFloatingIp': 'member',
  '/minicloud.network.v1.NetworkService/DeleteFloatingIp': 'member',
  '/minicloud.network.v1.NetworkService/RegisterVtep': 'agent',
  '/minicloud.network.v1.NetworkService/GetHostFdb': 'agent',
  // Compute agents ask whether a port's security groups let a connection to a guest in.
  '/minicloud.network.v1.NetworkService/CheckPortIngress': 'agent',
  '/minicloud.network.v1.NetworkService/TracePacket': 'member',
  '/minicloud.network.v1.NetworkService/GetQuotaUsage': 'reader',
  // ---- minicloud.volume.v1.VolumeService ----
  '/minicloud.volume.v1.VolumeService/CreateVolume': 'member',
  '/minicloud.volume.v1.VolumeService/GetVolume': 'reader',
  '/minicloud.volume.v1.VolumeService/ListVolumes': 'reader',
  '/minicloud.volume.v1.VolumeService/DeleteVolume': 'member',
  '/minicloud.volume.v1.VolumeService/ExtendVolume': 'member',
  '/minicloud.volume.v1.VolumeService/UpdateVolume': 'member',
  '/minicloud.volume.v1.VolumeService/RetypeVolume': 'member',
  '/minicloud.volume.v1.VolumeService/CreateAttachment': 'member',
  '/minicloud.volume.v1.VolumeService/CompleteAttachment': 'member',
  '/minicloud.volume.v1.VolumeService/DeleteAttachment': 'member',
  '/minicloud.volume.v1.VolumeService/ListAttachments': 'reader',
  '/minicloud.volume.v1.VolumeService/CreateSnapshot': 'member',
  '/minicloud.volume.v1.VolumeService/GetSnapshot': 'reader',
  '/minicloud.volume.v1.VolumeService/ListSnapshots': 'reader',
  '/minicloud.volume.v1.VolumeService/DeleteSnapshot': 'member',
  '/minicloud.volume.v1.VolumeService/UpdateSnapshot': 'member',
  '/minicloud.volume.v1.VolumeService/UploadVolumeToImage': 'member',
  '/minicloud.volume.v1.VolumeService/ResetVolumeStatus': 'admin',
  '/minicloud.volume.v1.VolumeService/CreateVolumeType': 'admin',
  '/minicloud.volume.v1.VolumeService/ListVolumeTypes': 'reader',
  '/minicloud.volume.v1.VolumeService/UpdateVolumeType': 'admin',
  '/minicloud.volume.v1.VolumeService/DeleteVolumeType': 'admin',
  '/minicloud.volume.v1.VolumeService/CreateQosSpecs': 'admin',
  '/minicloud.volume.v1.VolumeService/GetQosSpecs': 'admin',
  '/minicloud.volume.v1.VolumeService/ListQosSpecs': 'admin',
  '/minicloud.volume.v1.VolumeService/UpdateQosSpecs': 'admin',
  '/minicloud.volume.v1.VolumeService/DeleteQosSpecs': 'admin',
  '/minicloud.volume.v1.VolumeService/AssociateQosSpecs': 'admin',
  '/minicloud.volume.v1.VolumeService/DisassociateQosSpecs': 'admin',
  '/minicloud.volume.v1.VolumeService/ListQosSpecsAssociations': 'admin',
  '/minicloud.volume.v1.VolumeService/ListPools': 'admin',
  '/minicloud.volume.v1.VolumeService/CreateBackup': 'member',
  '/minicloud.volume.v1.VolumeService/ListBackups': 'reader',
  '/minicloud.volume.v1.VolumeService/RestoreBackup': 'member',
  '/minicloud.volume.v1.VolumeService/DeleteBackup': 'member',
  '/minicloud.volume.v1.VolumeService/SetPoolState': 'admin',
  '/minicloud.volume.v1.VolumeService/ForceDetach': 'admin',
  // Simulated guest I/O; the handler scopes to the caller's project.
  '/minicloud.volume.v1.VolumeService/WriteVolume': 'member',
  '/minicloud.volume.v1.VolumeService/ReadVolume': 'reader',
  '/minicloud.volume.v1.VolumeService/ListChangedBlocks': 'reader',
};

/** Rule for methods absent from {@link POLICY_TABLE}: fail closed. */
export const UNLISTED_METHOD_RULE: PolicyRule = 'admin';

/**
 * The rule of one method by its full gRPC path, e.g. `/minicloud.image.v1.ImageService/GetImage`.
 * @returns the table's rule, or {@link UNLISTED_METHOD_RULE} for an unlisted method
 */
export function ruleForMethod(path: string): PolicyRule {
  return Object.prototype.hasOwnProperty.call(POLICY_TABLE, path) ? POLICY_TABLE[path] : UNLISTED_METHOD_RULE;
}
