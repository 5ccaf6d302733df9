/**
 * What `<state-dir>/cloud.json` holds: how to reach (and kill) every part of a cloud the bring-up
 * (tools/cloud/main.ts) started. Read by the e2e harness and the CLI's chaos commands.
 */
export interface CloudManifest {
  /** Redis and NATS as the `operator` user (full rights; the URLs carry its password). */
  redis_url: string;
  nats_url: string;
  identity_url: string;
  admin: { user: string; password: string; project: string };
  /** The demo project's user (set when the demo was seeded; its password is generated like the admin's). */
  demo?: { user: string; password: string; project: string };
  /** Where the bring-up generated this cloud's secrets (secrets.json, Redis ACL file, NATS config). */
  secrets_dir?: string;
  /** The bearer token every process's /metrics asks for (METRICS_BEARER_TOKEN); absent: /metrics is open. */
  metrics_bearer_token?: string;
  /**
   * TLS of gRPC and of the OpenStack REST front (absent with --insecure: plaintext): clients verify
   * every service with `ca_file`, the bring-up's CA (`<state-dir>/tls/ca.pem`).
   */
  tls?: { ca_file: string };
  /** `http_url` is set for the OpenStack REST front, which serves HTTP(S) only (grpc_address empty). */
  processes: { name: string; kind: string; pid: number; grpc_address: string; http_url?: string; metrics_url: string; log: string; host_ids?: string[]; /** Keystone region id (RegionOne unless --regions 2 started it in RegionTwo). */ region?: string }[];
  /**
   * Set with --regions 2: each region's own Redis and NATS (operator user). Identity (and its Redis:
   * `redis_url`) is the first region's; the other processes say their region in `region`.
   */
  regions?: { id: string; redis_url: string; nats_url: string }[];
  ready_seconds: number;
  /** The OpenStack REST front (Keystone at `<url>/identity`) and the clouds.yaml that points at it. */
  openstack_api_url?: string;
  /**
   * Set with --api-replicas above 1: each replica of the REST front (its own HTTP and metrics URL);
   * `openstack_api_url` is then the bring-up's TCP balancer over them.
   */
  openstack_api_replicas?: { http_url: string; metrics_url: string }[];
  clouds_yaml?: string;
  /** The first controller's metadata API (Nova's; only signed requests of the agents are answered). */
  metadata_url?: string;
  /** Set with --with-prometheus: the local Prometheus scraping every process above. */
  prometheus_url?: string;
  prometheus_pid?: number;
}
