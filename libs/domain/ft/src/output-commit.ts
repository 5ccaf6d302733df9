import { InvalidArgumentError } from '@minicloud/domain-errors';

/** An outgoing packet of the primary as the buffer holds it. */
export interface HeldPacket<P> {
  readonly packet: P;
  /** Checkpoint epoch during which the guest sent it (1, 2, ...). */
  readonly epoch: number;
  /** When the guest sent it, ms. */
  readonly sentAtMs: number;
}

/** A packet let out on the wire, with the latency the buffering added. */
export interface ReleasedPacket<P> extends HeldPacket<P> {
  readonly releasedAtMs: number;
  /** releasedAtMs - sentAtMs. */
  readonly delayMs: number;
}

/**
 * Remus's output commit (Cully et al., NSDI 2008, section 2.2): the primary runs ahead speculatively,
 * but every packet it sends is held until the checkpoint of the epoch that produced it has been
 * acknowledged by the secondary; so whatever the outside world saw survives a failover (the secondary
 * resumes from a state at least that recent). A primary that gets no acknowledgement (its secondary
 * gone, or promoted after a partition) releases nothing: a copy that lost the FT generation can never
 * show output. Pure: times are given by the caller.
 */
export class OutputCommitBuffer<P> {
  private readonly held: HeldPacket<P>[] = [];
  private acked = 0;
  private epoch = 1;

  /** The epoch now running (packets sent now belong to it). */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** Highest acknowledged epoch (0 = none). */
  get acknowledgedEpoch(): number {
    return this.acked;
  }

  /** Packets held now. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Sent at `nowMs` during the current epoch: held. */
  send(packet: P, nowMs: number): void {
    this.held.push({ packet, epoch: this.epoch, sentAtMs: nowMs });
  }

  /** Closes the current epoch (its checkpoint is taken); the next one starts. @returns the closed epoch */
  closeEpoch(): number {
    return this.epoch++;
  }

  /**
   * The secondary acknowledged the checkpoint of `epoch` (acknowledgements are cumulative: the stream
   * is ordered). Releases, in send order, every held packet of an epoch <= `epoch`.
   * @throws InvalidArgumentError (`epoch`) for an epoch not yet closed
   */
  acknowledge(epoch: number, nowMs: number): ReleasedPacket<P>[] {
    if (!(Number.isInteger(epoch) && epoch >= 0 && epoch < this.epoch)) throw new InvalidArgumentError('epoch', `must be a closed epoch (< ${this.epoch}), got ${epoch}`);
    if (epoch <= this.acked) return [];
    this.acked = epoch;
    let n = 0;
    while (n < this.held.length && this.held[n].epoch <= epoch) n++;
    return this.held.splice(0, n).map((h) => ({ ...h, releasedAtMs: nowMs, delayMs: nowMs - h.sentAtMs }));
  }

  /**
   * FT turned off, or the controller made this copy the only live one (its secondary's host failed
   * and this primary won the generation): nothing waits for an acknowledgement any more.
   */
  releaseAll(nowMs: number): ReleasedPacket<P>[] {
    this.acked = this.epoch - 1;
    return this.held.splice(0).map((h) => ({ ...h, releasedAtMs: nowMs, delayMs: nowMs - h.sentAtMs }));
  }
}
