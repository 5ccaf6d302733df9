import { Counter, Gauge, Histogram, type Registry } from '@minicloud/platform-metrics';

/** What the FT checkpoint loops record (times in simulated seconds). */
export interface FtMetrics {
  /** One checkpoint sent by a primary. */
  checkpoint(bytes: number): void;
  /** Added latency of one released packet (output commit), ms. */
  outputCommitDelay(ms: number): void;
  /** Per FT primary on this agent: stream backlog (ms), vCPU slowdown (percent), packets held, stream bandwidth (bytes/s). */
  primary(instanceId: string, s: { lagMs: number; throttlePct: number; heldPackets: number; bandwidthBytesPerSecond: number }): void;
  /** The primary of `instanceId` stopped checkpointing here. */
  forget(instanceId: string): void;
}

/**
 * FT metrics of an agent: minicloud_ft_checkpoints_total, minicloud_ft_checkpoint_bytes_total,
 * minicloud_ft_output_commit_delay_seconds (Remus's output-commit latency), and per primary
 * minicloud_ft_lag_seconds, minicloud_ft_primary_throttle_ratio (VMware FT's slowdown of a primary
 * whose secondary falls behind), minicloud_ft_output_held_packets and
 * minicloud_ft_checkpoint_bandwidth_bytes_per_second (its share of the NICs).
 */
export function registerFtMetrics(registry: Registry): FtMetrics {
  const r = [registry];
  const checkpoints = new Counter({ name: 'minicloud_ft_checkpoints_total', help: 'FT checkpoints sent by primaries on this agent.', registers: r });
  const bytes = new Counter({ name: 'minicloud_ft_checkpoint_bytes_total', help: 'Dirty-page bytes sent in FT checkpoints by primaries on this agent.', registers: r });
  const delay = new Histogram({
    name: 'minicloud_ft_output_commit_delay_seconds',
    help: 'Latency output commit adds to a primary packet: from its send to the acknowledgement of its epoch (simulated seconds).',
    buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1],
    registers: r,
  });
  const lag = new Gauge({ name: 'minicloud_ft_lag_seconds', help: 'Checkpoint data of an FT primary not yet sent to its secondary, in seconds of transfer.', labelNames: ['instance_id'], registers: r });
  const throttle = new Gauge({ name: 'minicloud_ft_primary_throttle_ratio', help: 'vCPU slowdown of an FT primary whose secondary falls behind (0 = full speed).', labelNames: ['instance_id'], registers: r });
  const held = new Gauge({ name: 'minicloud_ft_output_held_packets', help: 'Outgoing packets of an FT primary held until their epoch is acknowledged.', labelNames: ['instance_id'], registers: r });
  const bw = new Gauge({ name: 'minicloud_ft_checkpoint_bandwidth_bytes_per_second', help: 'NIC bandwidth an FT primary\'s checkpoint stream may use.', labelNames: ['instance_id'], registers: r });
  return {
    checkpoint(b) {
      checkpoints.inc();
      bytes.inc(b);
    },
    outputCommitDelay: (ms) => delay.observe(ms / 1000),
    primary(id, s) {
      lag.set({ instance_id: id }, s.lagMs / 1000);
      throttle.set({ instance_id: id }, s.throttlePct / 100);
      held.set({ instance_id: id }, s.heldPackets);
      bw.set({ instance_id: id }, s.bandwidthBytesPerSecond);
    },
    forget(id) {
      for (const g of [lag, throttle, held, bw]) g.remove({ instance_id: id });
    },
  };
}
