import { z } from 'zod';
import { commonConfigShape, portSchema } from '@minicloud/platform-config';
import { DEFAULT_BASE_MAC } from '@minicloud/domain-network';

/**
 * Environment of the network service: the common settings plus Neutron's ML2/VXLAN options.
 * - VNI_RANGES: comma-separated inclusive "min:max" ranges tenant VNIs come from (ml2_type_vxlan vni_ranges).
 * - UNDERLAY_MTU: MTU of the physical network in bytes (global_physnet_mtu); tenant vxlan MTU = it - 50.
 * - BASE_MAC: Neutron's base_mac for generated port MACs.
 */
export const networkConfigSchema = z.object({
  ...commonConfigShape,
  GRPC_PORT: portSchema.default(5003),
  VNI_RANGES: z.string().default('1000:1999999'),
  UNDERLAY_MTU: z.coerce.number().int().min(118).max(65535).default(1500),
  BASE_MAC: z.string().default(DEFAULT_BASE_MAC),
});

export type NetworkConfig = z.infer<typeof networkConfigSchema>;
