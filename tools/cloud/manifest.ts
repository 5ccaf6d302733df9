/**
 * What `<state-dir>/cloud.json` holds: how to reach (and kill) every part of a cloud the bring-up
 * (tools/cloud/main.ts) started. Read by the e2e harness and the CLI's chaos commands.
 */
export interface CloudManifest {
  redis_url: string;
  nats_url: string;
  identity_url: string;
  admin: { user: string; password: string; project: string };
  /** `http_url` is set for the OpenStack REST front, which serves HTTP only (grpc_address empty). */
  processes: { name: string; kind: string; pid: number; grpc_address: string; http_url?: string; metrics_url: string; log: string; host_ids?: string[] }[];
  ready_seconds: number;
  /** The OpenStack REST front (Keystone at `<url>/identity`) and the clouds.yaml that points at it. */
  openstack_api_url?: string;
  clouds_yaml?: string;
  /** Set with --with-prometheus: the local Prometheus scraping every process above. */
  prometheus_url?: string;
  prometheus_pid?: number;
}
