/**
 * What tempest needs to know about a running minicloud, and the tempest.conf written from it.
 *
 * The option names and groups are tempest 33.0.0's (Debian 12's `tempest` package,
 * tempest/config.py). The feature flags say what minicloud really does, so a test of a feature it
 * does not claim is skipped by tempest itself rather than failing.
 */
export interface CloudFacts {
  /** The OpenStack REST front, e.g. `http://127.0.0.1:5080` (Keystone at `<url>/identity/v3`). */
  apiUrl: string;
  /** The CA file an HTTPS front's certificate is verified with (the bring-up's `<state-dir>/tls/ca.pem`); absent: plain HTTP. */
  caFile?: string;
  region: string;
  admin: { user: string; password: string; project: string; domain: string };
  /** Two active public images (Nova's image_ref and image_ref_alt). */
  imageRef: string;
  imageRefAlt: string;
  /** Two flavors (ids), the second larger (resize tests go from the first to the second). */
  flavorRef: string;
  flavorRefAlt: string;
  /** The external network (router:external) for routers' gateways and floating IPs, if the cloud has one. */
  publicNetworkId?: string;
  publicNetworkName?: string;
  /** Neutron extensions the front lists (GET /v2.0/extensions aliases). */
  networkExtensions: string[];
  /** Cinder and Nova microversion ranges the front advertises. */
  volumeMaxMicroversion: string;
  computeMaxMicroversion: string;
  /** Compute hosts up (live-migration tests need two). */
  computeNodes: number;
  /** Does the guest model keep a console log (os-getConsoleOutput)? */
  consoleOutput: boolean;
  /**
   * The guests' login user when their floating IPs are reachable from here and they answer SSH
   * (the external network's subnet is on this machine); absent: no SSH validation.
   */
  guestSshUser?: string;
}

/** Where tempest keeps its own files for one run. */
export interface WorkspaceDirs {
  logDir: string;
  lockDir: string;
}

/**
 * The tempest.conf text for `facts`: admin credentials with dynamic credentials (tempest makes a
 * project, user and, when the cloud has an external network, a network, subnet and router per test
 * class), SSH validation of guests through floating IPs with a key pair when they are reachable
 * (tempest's defaults otherwise: connect_method floating, ECDSA keys it makes and imports), swift and
 * the other services absent.
 */
export function tempestConf(facts: CloudFacts, dirs: WorkspaceDirs): string {
  const hasPublic = facts.publicNetworkId !== undefined;
  const ini: Record<string, Record<string, string | number | boolean>> = {
    DEFAULT: { log_dir: dirs.logDir, log_file: 'tempest.log', debug: false, use_stderr: false },
    oslo_concurrency: { lock_path: dirs.lockDir },
    auth: {
      admin_username: facts.admin.user,
      admin_password: facts.admin.password,
      admin_project_name: facts.admin.project,
      admin_domain_name: facts.admin.domain,
      use_dynamic_credentials: true,
      // Without an external network a per-class router has no gateway to set, so the classes share
      // what the project can reach instead.
      create_isolated_networks: hasPublic,
      tempest_roles: 'member',
    },
    identity: {
      uri_v3: `${facts.apiUrl}/identity/v3`,
      auth_version: 'v3',
      region: facts.region,
      v3_endpoint_type: 'public',
      // tempest verifies the front's certificate against the cloud's CA (its HTTP client's ca_certs).
      disable_ssl_certificate_validation: false,
      ...(facts.caFile ? { ca_certificates_file: facts.caFile } : {}),
    },
    'identity-feature-enabled': { api_v2: false, api_v3: true, api_v2_admin: false },
    compute: {
      image_ref: facts.imageRef,
      image_ref_alt: facts.imageRefAlt,
      flavor_ref: facts.flavorRef,
      flavor_ref_alt: facts.flavorRefAlt,
      region: facts.region,
      build_timeout: 120,
      min_compute_nodes: facts.computeNodes,
      max_microversion: facts.computeMaxMicroversion,
    },
    'compute-feature-enabled': {
      // Nova's default: create/rebuild/rescue/evacuate answer adminPass, and the guest gets it; changePassword sets it.
      enable_instance_password: true,
      change_password: true,
      console_output: facts.consoleOutput,
      resize: true,
      pause: true,
      suspend: true,
      shelve: true,
      rescue: true,
      snapshot: true,
      cold_migration: true,
      live_migration: facts.computeNodes >= 2,
      block_migration_for_live_migration: false,
      interface_attach: true,
      config_drive: false,
      metadata_service: false,
      vnc_console: false,
      spice_console: false,
      serial_console: false,
      personality: false,
      attach_encrypted_volume: false,
      // tempest gates the server metadata API (PUT/POST/DELETE /servers/{id}/metadata) behind this flag; minicloud serves it.
      xenapi_apis: true,
    },
    image: {
      region: facts.region,
      build_timeout: 120,
      container_formats: 'bare,ami,ari,aki,ovf,ova',
      disk_formats: 'qcow2,raw,ami,ari,aki,vhd,vmdk,vdi,iso',
    },
    'image-feature-enabled': { api_v2: true, api_v1: false, import_image: false },
    network: {
      region: facts.region,
      build_timeout: 120,
      project_network_cidr: '10.100.0.0/16',
      project_network_mask_bits: 28,
      project_networks_reachable: false,
      ...(hasPublic ? { public_network_id: facts.publicNetworkId!, floating_network_name: facts.publicNetworkName ?? 'public' } : {}),
    },
    'network-feature-enabled': {
      api_extensions: facts.networkExtensions.join(',') || 'None',
      ipv6: false,
      ipv6_subnet_attributes: false,
      port_security: facts.networkExtensions.includes('port-security'),
    },
    volume: {
      region: facts.region,
      catalog_type: 'volumev3',
      build_timeout: 120,
      max_microversion: facts.volumeMaxMicroversion,
      storage_protocol: 'iSCSI',
      vendor_name: 'Open Source',
    },
    'volume-feature-enabled': { api_v2: false, api_v3: true, backup: true, snapshot: true, clone: true, manage_volume: false, manage_snapshot: false, extend_attached_volume: false },
    validation:
      hasPublic && facts.guestSshUser
        ? {
            run_validation: true,
            connect_method: 'floating',
            auth_method: 'keypair',
            ip_version_for_ssh: 4,
            image_ssh_user: facts.guestSshUser,
            image_alt_ssh_user: facts.guestSshUser,
            security_group: true,
            security_group_rules: true,
            connect_timeout: 30,
            ssh_timeout: 120,
          }
        : { run_validation: false },
    service_available: { nova: true, neutron: true, cinder: true, glance: true, swift: false, heat: false, horizon: false },
  };
  const lines: string[] = [];
  for (const [group, opts] of Object.entries(ini)) {
    lines.push(`[${group}]`);
    for (const [k, v] of Object.entries(opts)) lines.push(`${k} = ${v}`);
    lines.push('');
  }
  return lines.join('\n');
}
