import type { PolicyRule } from './policy';

/**
 * THE authorisation policy of minicloud, written once as data (OpenStack's policy.yaml files of
 * Keystone, Glance, Cinder, Neutron and Nova, reduced to roles): full gRPC method path
 * ("/minicloud.<svc>.v1.<Service>/<Method>") -> the rule a caller's token must satisfy. Every
 * service's gRPC server looks its methods up here (libs/platform/grpc `startGrpcServer`); a method
 * missing from this table is refused to everyone but cloud admins (fail closed), and
 * `policy-table.spec.ts` fails until every RPC of every generated service is listed.
 *
 * Rules (policy.ts): `public` (no token), `authenticated` (any valid token), `project_reader` /
 * `project_member` (role reader / member, which admin implies, on the token's project; or a cloud
 * admin), `admin_api` (a cloud admin: role admin on the system scope or on the cloud's admin
 * project, `isCloudAdmin`; role admin on any other project is NOT enough), `project_reader_or_instance`
 * (project_reader, or an instance credential on its own instance only). The usual shape: reads
 * need project_reader, writes project_member, operator and service-to-service calls admin_api
 * (service users hold admin on the system). What compute agents call is `agent` (a cloud admin, or a
 * compute agent's own user): host registration, VTEP/FDB, the migration stream, revocations; the
 * agents' own HypervisorService stays admin_api (only the controller commands agents). Project
 * scoping (another project's resource -> NOT_FOUND) is the handlers' job: the policy only checks
 * roles and scope.
 */
export const POLICY_TABLE: Readonly<Record<string, PolicyRule>> = {
  // ---- minicloud.agent.v1.HostRegistryService ----
  '/minicloud.agent.v1.HostRegistryService/RegisterHost': 'agent',
  // ---- minicloud.agent.v1.HypervisorService ----
  '/minicloud.agent.v1.HypervisorService/ExecuteCommand': 'admin_api',
  '/minicloud.agent.v1.HypervisorService/GetHostStatus': 'admin_api',
  '/minicloud.agent.v1.HypervisorService/ListInstances': 'admin_api',
  '/minicloud.agent.v1.HypervisorService/SetHostPower': 'admin_api',
  '/minicloud.agent.v1.HypervisorService/GetConsoleOutput': 'admin_api',
  // ---- minicloud.agent.v1.MigrationService ----
  '/minicloud.agent.v1.MigrationService/Migrate': 'agent',
  // ---- minicloud.compute.v1.ComputeService ----
  '/minicloud.compute.v1.ComputeService/CreateFlavor': 'admin_api',
  '/minicloud.compute.v1.ComputeService/GetFlavor': 'project_reader',
  '/minicloud.compute.v1.ComputeService/ListFlavors': 'project_reader',
  '/minicloud.compute.v1.ComputeService/DeleteFlavor': 'admin_api',
  '/minicloud.compute.v1.ComputeService/SetFlavorExtraSpecs': 'admin_api',
  // Nova's os_compute_api:os-flavor-access (list) and its add/remove actions: admin.
  '/minicloud.compute.v1.ComputeService/ListFlavorAccess': 'admin_api',
  '/minicloud.compute.v1.ComputeService/AddFlavorAccess': 'admin_api',
  '/minicloud.compute.v1.ComputeService/RemoveFlavorAccess': 'admin_api',
  '/minicloud.compute.v1.ComputeService/CreateServer': 'project_member',
  // An instance credential reads its own server (the handler scopes it to its instance id).
  '/minicloud.compute.v1.ComputeService/GetServer': 'project_reader_or_instance',
  '/minicloud.compute.v1.ComputeService/ListServers': 'project_reader',
  '/minicloud.compute.v1.ComputeService/DeleteServer': 'project_member',
  '/minicloud.compute.v1.ComputeService/ServerAction': 'project_member',
  '/minicloud.compute.v1.ComputeService/UpdateServer': 'project_member',
  // vSphere's Turn On/Off Fault Tolerance: an operator action (it places a second copy on another host).
  '/minicloud.compute.v1.ComputeService/SetServerFaultTolerance': 'admin_api',
  '/minicloud.compute.v1.ComputeService/ListInstanceActions': 'project_reader',
  // Nova's os_compute_api:os-attach-interfaces:list (project reader); attach/detach are ServerAction (member).
  // An instance credential reads its own server (the handler scopes it to its instance id).
  '/minicloud.compute.v1.ComputeService/ListInterfaces': 'project_reader_or_instance',
  // Nova's os_compute_api:os-console-output: project member or admin (scoped to the server's project).
  '/minicloud.compute.v1.ComputeService/GetConsoleOutput': 'project_member',
  '/minicloud.compute.v1.ComputeService/ListMigrations': 'admin_api',
  // Nova's os_compute_api:servers:migrations:delete and :force_complete (admin).
  '/minicloud.compute.v1.ComputeService/AbortServerMigration': 'admin_api',
  '/minicloud.compute.v1.ComputeService/ForceCompleteServerMigration': 'admin_api',
  '/minicloud.compute.v1.ComputeService/CreateServerGroup': 'project_member',
  '/minicloud.compute.v1.ComputeService/GetServerGroup': 'project_reader',
  '/minicloud.compute.v1.ComputeService/ListServerGroups': 'project_reader',
  '/minicloud.compute.v1.ComputeService/DeleteServerGroup': 'project_member',
  '/minicloud.compute.v1.ComputeService/CreateAggregate': 'admin_api',
  '/minicloud.compute.v1.ComputeService/ListAggregates': 'project_reader',
  '/minicloud.compute.v1.ComputeService/DeleteAggregate': 'admin_api',
  '/minicloud.compute.v1.ComputeService/UpdateAggregate': 'admin_api',
  '/minicloud.compute.v1.ComputeService/AddAggregateHost': 'admin_api',
  '/minicloud.compute.v1.ComputeService/RemoveAggregateHost': 'admin_api',
  '/minicloud.compute.v1.ComputeService/SetAggregateMetadata': 'admin_api',
  '/minicloud.compute.v1.ComputeService/ListAvailabilityZones': 'project_reader',
  '/minicloud.compute.v1.ComputeService/ListHosts': 'admin_api',
  '/minicloud.compute.v1.ComputeService/GetHost': 'admin_api',
  '/minicloud.compute.v1.ComputeService/UpdateHost': 'admin_api',
  // Key pairs are per user (Nova's admin_or_owner); another user's pairs are the handlers' check (admin only).
  '/minicloud.compute.v1.ComputeService/CreateKeypair': 'project_member',
  '/minicloud.compute.v1.ComputeService/GetKeypair': 'project_reader',
  '/minicloud.compute.v1.ComputeService/ListKeypairs': 'project_reader',
  '/minicloud.compute.v1.ComputeService/DeleteKeypair': 'project_member',
  // ---- minicloud.elasticity.v1.ElasticityService ----
  // Octavia's and Senlin's default policies: project readers read, project members write.
  '/minicloud.elasticity.v1.ElasticityService/CreateLoadBalancer': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/GetLoadBalancer': 'project_reader',
  '/minicloud.elasticity.v1.ElasticityService/ListLoadBalancers': 'project_reader',
  '/minicloud.elasticity.v1.ElasticityService/DeleteLoadBalancer': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/CreateListener': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/ListListeners': 'project_reader',
  '/minicloud.elasticity.v1.ElasticityService/DeleteListener': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/SetTrafficSource': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/CreatePool': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/GetPool': 'project_reader',
  '/minicloud.elasticity.v1.ElasticityService/ListPools': 'project_reader',
  '/minicloud.elasticity.v1.ElasticityService/DeletePool': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/CreateMember': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/ListMembers': 'project_reader',
  '/minicloud.elasticity.v1.ElasticityService/DeleteMember': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/CreateHealthMonitor': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/DeleteHealthMonitor': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/CreateScalingGroup': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/GetScalingGroup': 'project_reader',
  '/minicloud.elasticity.v1.ElasticityService/ListScalingGroups': 'project_reader',
  '/minicloud.elasticity.v1.ElasticityService/UpdateScalingGroup': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/DeleteScalingGroup': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/CreateScalingPolicy': 'project_member',
  '/minicloud.elasticity.v1.ElasticityService/ListScalingPolicies': 'project_reader',
  '/minicloud.elasticity.v1.ElasticityService/DeleteScalingPolicy': 'project_member',
  // ---- minicloud.identity.v1.IdentityService ----
  '/minicloud.identity.v1.IdentityService/Authenticate': 'public',
  '/minicloud.identity.v1.IdentityService/ValidateToken': 'authenticated',
  '/minicloud.identity.v1.IdentityService/RevokeToken': 'authenticated',
  '/minicloud.identity.v1.IdentityService/GetPublicKeys': 'public',
  '/minicloud.identity.v1.IdentityService/RotateSigningKey': 'admin_api',
  '/minicloud.identity.v1.IdentityService/GetCatalog': 'public',
  '/minicloud.identity.v1.IdentityService/RegisterEndpoint': 'admin_api',
  '/minicloud.identity.v1.IdentityService/ListServiceCatalog': 'authenticated',
  '/minicloud.identity.v1.IdentityService/SeedServiceCatalog': 'admin_api',
  '/minicloud.identity.v1.IdentityService/CreateRegion': 'admin_api',
  '/minicloud.identity.v1.IdentityService/UpdateRegion': 'admin_api',
  '/minicloud.identity.v1.IdentityService/DeleteRegion': 'admin_api',
  '/minicloud.identity.v1.IdentityService/CreateCatalogService': 'admin_api',
  '/minicloud.identity.v1.IdentityService/UpdateCatalogService': 'admin_api',
  '/minicloud.identity.v1.IdentityService/DeleteCatalogService': 'admin_api',
  '/minicloud.identity.v1.IdentityService/CreateCatalogEndpoint': 'admin_api',
  '/minicloud.identity.v1.IdentityService/UpdateCatalogEndpoint': 'admin_api',
  '/minicloud.identity.v1.IdentityService/DeleteCatalogEndpoint': 'admin_api',
  '/minicloud.identity.v1.IdentityService/CreateDomain': 'admin_api',
  '/minicloud.identity.v1.IdentityService/ListDomains': 'project_reader',
  '/minicloud.identity.v1.IdentityService/UpdateDomain': 'admin_api',
  '/minicloud.identity.v1.IdentityService/DeleteDomain': 'admin_api',
  '/minicloud.identity.v1.IdentityService/CreateProject': 'admin_api',
  '/minicloud.identity.v1.IdentityService/GetProject': 'authenticated',
  '/minicloud.identity.v1.IdentityService/ListProjects': 'authenticated',
  '/minicloud.identity.v1.IdentityService/UpdateProject': 'admin_api',
  '/minicloud.identity.v1.IdentityService/DeleteProject': 'admin_api',
  '/minicloud.identity.v1.IdentityService/CreateUser': 'admin_api',
  '/minicloud.identity.v1.IdentityService/GetUser': 'authenticated',
  '/minicloud.identity.v1.IdentityService/ListUsers': 'authenticated',
  '/minicloud.identity.v1.IdentityService/UpdateUser': 'admin_api',
  '/minicloud.identity.v1.IdentityService/DeleteUser': 'admin_api',
  // Keystone's self-service change needs no token (an expired password cannot get one): the
  // original password is the proof, checked under the login lockout
  '/minicloud.identity.v1.IdentityService/ChangePassword': 'public',
  '/minicloud.identity.v1.IdentityService/CreateGroup': 'admin_api',
  '/minicloud.identity.v1.IdentityService/AddUserToGroup': 'admin_api',
  '/minicloud.identity.v1.IdentityService/GetGroup': 'admin_api',
  '/minicloud.identity.v1.IdentityService/ListGroups': 'authenticated',
  '/minicloud.identity.v1.IdentityService/UpdateGroup': 'admin_api',
  '/minicloud.identity.v1.IdentityService/DeleteGroup': 'admin_api',
  '/minicloud.identity.v1.IdentityService/RemoveUserFromGroup': 'admin_api',
  '/minicloud.identity.v1.IdentityService/ListGroupUsers': 'admin_api',
  '/minicloud.identity.v1.IdentityService/CreateRole': 'admin_api',
  '/minicloud.identity.v1.IdentityService/ListRoles': 'project_reader',
  '/minicloud.identity.v1.IdentityService/UpdateRole': 'admin_api',
  '/minicloud.identity.v1.IdentityService/DeleteRole': 'admin_api',
  '/minicloud.identity.v1.IdentityService/AssignRole': 'admin_api',
  '/minicloud.identity.v1.IdentityService/UnassignRole': 'admin_api',
  '/minicloud.identity.v1.IdentityService/ListRoleAssignments': 'authenticated',
  '/minicloud.identity.v1.IdentityService/CreateApplicationCredential': 'project_member',
  '/minicloud.identity.v1.IdentityService/ListApplicationCredentials': 'authenticated',
  '/minicloud.identity.v1.IdentityService/DeleteApplicationCredential': 'authenticated',
  '/minicloud.identity.v1.IdentityService/GetQuota': 'project_reader',
  '/minicloud.identity.v1.IdentityService/SetQuota': 'admin_api',
  // Quota accounting is service-to-service (the controller reserves when it admits a build and
  // releases when it deletes, with its service credentials): a member who could call these would
  // release its project's usage and then create without limit.
  '/minicloud.identity.v1.IdentityService/ReserveQuota': 'admin_api',
  '/minicloud.identity.v1.IdentityService/CommitQuotaReservation': 'admin_api',
  '/minicloud.identity.v1.IdentityService/RollbackQuotaReservation': 'admin_api',
  '/minicloud.identity.v1.IdentityService/ReleaseQuota': 'admin_api',
  '/minicloud.identity.v1.IdentityService/IssueInstanceCredential': 'admin_api',
  '/minicloud.identity.v1.IdentityService/ListRevocations': 'agent',
  // ---- minicloud.image.v1.ImageService ----
  '/minicloud.image.v1.ImageService/CreateImage': 'project_member',
  '/minicloud.image.v1.ImageService/UploadImage': 'project_member',
  '/minicloud.image.v1.ImageService/DownloadImage': 'project_reader',
  '/minicloud.image.v1.ImageService/GetImage': 'project_reader',
  '/minicloud.image.v1.ImageService/ListImages': 'project_reader',
  '/minicloud.image.v1.ImageService/UpdateImage': 'project_member',
  '/minicloud.image.v1.ImageService/DeleteImage': 'project_member',
  '/minicloud.image.v1.ImageService/DeactivateImage': 'admin_api',
  '/minicloud.image.v1.ImageService/ReactivateImage': 'admin_api',
  '/minicloud.image.v1.ImageService/AddImageMember': 'project_member',
  '/minicloud.image.v1.ImageService/UpdateImageMember': 'project_member',
  '/minicloud.image.v1.ImageService/RemoveImageMember': 'project_member',
  '/minicloud.image.v1.ImageService/ListImageMembers': 'project_reader',
  // ---- minicloud.network.v1.NetworkService ----
  '/minicloud.network.v1.NetworkService/CreateNetwork': 'project_member',
  '/minicloud.network.v1.NetworkService/GetNetwork': 'project_reader',
  '/minicloud.network.v1.NetworkService/ListNetworks': 'project_reader',
  '/minicloud.network.v1.NetworkService/UpdateNetwork': 'project_member',
  '/minicloud.network.v1.NetworkService/DeleteNetwork': 'project_member',
  '/minicloud.network.v1.NetworkService/CreateSubnet': 'project_member',
  '/minicloud.network.v1.NetworkService/GetSubnet': 'project_reader',
  '/minicloud.network.v1.NetworkService/ListSubnets': 'project_reader',
  '/minicloud.network.v1.NetworkService/UpdateSubnet': 'project_member',
  '/minicloud.network.v1.NetworkService/DeleteSubnet': 'project_member',
  '/minicloud.network.v1.NetworkService/CreateSubnetPool': 'project_member',
  '/minicloud.network.v1.NetworkService/GetSubnetPool': 'project_reader',
  '/minicloud.network.v1.NetworkService/ListSubnetPools': 'project_reader',
  '/minicloud.network.v1.NetworkService/UpdateSubnetPool': 'project_member',
  '/minicloud.network.v1.NetworkService/DeleteSubnetPool': 'project_member',
  '/minicloud.network.v1.NetworkService/CreatePort': 'project_member',
  '/minicloud.network.v1.NetworkService/GetPort': 'project_reader',
  '/minicloud.network.v1.NetworkService/ListPorts': 'project_reader',
  '/minicloud.network.v1.NetworkService/UpdatePort': 'project_member',
  '/minicloud.network.v1.NetworkService/DeletePort': 'project_member',
  '/minicloud.network.v1.NetworkService/BindPort': 'admin_api',
  '/minicloud.network.v1.NetworkService/UnbindPort': 'admin_api',
  '/minicloud.network.v1.NetworkService/CreateSecurityGroup': 'project_member',
  '/minicloud.network.v1.NetworkService/GetSecurityGroup': 'project_reader',
  '/minicloud.network.v1.NetworkService/ListSecurityGroups': 'project_reader',
  '/minicloud.network.v1.NetworkService/UpdateSecurityGroup': 'project_member',
  '/minicloud.network.v1.NetworkService/DeleteSecurityGroup': 'project_member',
  '/minicloud.network.v1.NetworkService/CreateSecurityGroupRule': 'project_member',
  '/minicloud.network.v1.NetworkService/DeleteSecurityGroupRule': 'project_member',
  '/minicloud.network.v1.NetworkService/CreateRouter': 'project_member',
  '/minicloud.network.v1.NetworkService/GetRouter': 'project_reader',
  '/minicloud.network.v1.NetworkService/ListRouters': 'project_reader',
  '/minicloud.network.v1.NetworkService/DeleteRouter': 'project_member',
  '/minicloud.network.v1.NetworkService/AddRouterInterface': 'project_member',
  '/minicloud.network.v1.NetworkService/RemoveRouterInterface': 'project_member',
  '/minicloud.network.v1.NetworkService/SetRouterGateway': 'project_member',
  '/minicloud.network.v1.NetworkService/UpdateRouter': 'project_member',
  '/minicloud.network.v1.NetworkService/CreateFloatingIp': 'project_member',
  '/minicloud.network.v1.NetworkService/GetFloatingIp': 'project_reader',
  '/minicloud.network.v1.NetworkService/ListFloatingIps': 'project_reader',
  '/minicloud.network.v1.NetworkService/UpdateFloatingIp': 'project_member',
  '/minicloud.network.v1.NetworkService/DeleteFloatingIp': 'project_member',
  '/minicloud.network.v1.NetworkService/RegisterVtep': 'agent',
  '/minicloud.network.v1.NetworkService/GetHostFdb': 'agent',
  // Compute agents ask whether a port's security groups let a connection to a guest in.
  '/minicloud.network.v1.NetworkService/CheckPortIngress': 'agent',
  '/minicloud.network.v1.NetworkService/TracePacket': 'project_member',
  '/minicloud.network.v1.NetworkService/GetQuotaUsage': 'project_reader',
  // ---- minicloud.volume.v1.VolumeService ----
  '/minicloud.volume.v1.VolumeService/CreateVolume': 'project_member',
  '/minicloud.volume.v1.VolumeService/GetVolume': 'project_reader',
  '/minicloud.volume.v1.VolumeService/ListVolumes': 'project_reader',
  '/minicloud.volume.v1.VolumeService/DeleteVolume': 'project_member',
  '/minicloud.volume.v1.VolumeService/ExtendVolume': 'project_member',
  '/minicloud.volume.v1.VolumeService/UpdateVolume': 'project_member',
  '/minicloud.volume.v1.VolumeService/RetypeVolume': 'project_member',
  '/minicloud.volume.v1.VolumeService/CreateAttachment': 'project_member',
  '/minicloud.volume.v1.VolumeService/CompleteAttachment': 'project_member',
  '/minicloud.volume.v1.VolumeService/DeleteAttachment': 'project_member',
  '/minicloud.volume.v1.VolumeService/ListAttachments': 'project_reader',
  '/minicloud.volume.v1.VolumeService/CreateSnapshot': 'project_member',
  '/minicloud.volume.v1.VolumeService/GetSnapshot': 'project_reader',
  '/minicloud.volume.v1.VolumeService/ListSnapshots': 'project_reader',
  '/minicloud.volume.v1.VolumeService/DeleteSnapshot': 'project_member',
  '/minicloud.volume.v1.VolumeService/UpdateSnapshot': 'project_member',
  '/minicloud.volume.v1.VolumeService/UploadVolumeToImage': 'project_member',
  '/minicloud.volume.v1.VolumeService/ResetVolumeStatus': 'admin_api',
  '/minicloud.volume.v1.VolumeService/CreateVolumeType': 'admin_api',
  '/minicloud.volume.v1.VolumeService/ListVolumeTypes': 'project_reader',
  '/minicloud.volume.v1.VolumeService/UpdateVolumeType': 'admin_api',
  '/minicloud.volume.v1.VolumeService/DeleteVolumeType': 'admin_api',
  '/minicloud.volume.v1.VolumeService/CreateQosSpecs': 'admin_api',
  '/minicloud.volume.v1.VolumeService/GetQosSpecs': 'admin_api',
  '/minicloud.volume.v1.VolumeService/ListQosSpecs': 'admin_api',
  '/minicloud.volume.v1.VolumeService/UpdateQosSpecs': 'admin_api',
  '/minicloud.volume.v1.VolumeService/DeleteQosSpecs': 'admin_api',
  '/minicloud.volume.v1.VolumeService/AssociateQosSpecs': 'admin_api',
  '/minicloud.volume.v1.VolumeService/DisassociateQosSpecs': 'admin_api',
  '/minicloud.volume.v1.VolumeService/ListQosSpecsAssociations': 'admin_api',
  '/minicloud.volume.v1.VolumeService/ListPools': 'admin_api',
  '/minicloud.volume.v1.VolumeService/CreateBackup': 'project_member',
  '/minicloud.volume.v1.VolumeService/ListBackups': 'project_reader',
  '/minicloud.volume.v1.VolumeService/RestoreBackup': 'project_member',
  '/minicloud.volume.v1.VolumeService/DeleteBackup': 'project_member',
  '/minicloud.volume.v1.VolumeService/SetPoolState': 'admin_api',
  '/minicloud.volume.v1.VolumeService/ForceDetach': 'admin_api',
  // Simulated guest I/O; the handler scopes to the caller's project.
  '/minicloud.volume.v1.VolumeService/WriteVolume': 'project_member',
  '/minicloud.volume.v1.VolumeService/ReadVolume': 'project_reader',
  '/minicloud.volume.v1.VolumeService/ListChangedBlocks': 'project_reader',
};

/** Rule for methods absent from {@link POLICY_TABLE}: fail closed. */
export const UNLISTED_METHOD_RULE: PolicyRule = 'admin_api';

/**
 * The rule of one method by its full gRPC path, e.g. `/minicloud.image.v1.ImageService/GetImage`.
 * @returns the table's rule, or {@link UNLISTED_METHOD_RULE} for an unlisted method
 */
export function ruleForMethod(path: string): PolicyRule {
  return Object.prototype.hasOwnProperty.call(POLICY_TABLE, path) ? POLICY_TABLE[path] : UNLISTED_METHOD_RULE;
}
