import type { Backends } from './backends';

/** What every API's routes need: the gRPC clients and how this front names itself. */
export interface ApiDeps {
  backends: Backends;
  /** Keystone region of every catalog endpoint (RegionOne). */
  region: string;
  /** Fixed public base URL (scheme://host:port); empty: taken from each request's Host header. */
  publicUrl?: string;
}
