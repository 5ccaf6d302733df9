import fc from 'fast-check';
import { OutputCommitBuffer } from './output-commit';

describe('OutputCommitBuffer (Remus output commit)', () => {
  it('holds packets until their epoch is acknowledged and reports the added latency', () => {
    const b = new OutputCommitBuffer<string>();
    b.send('a', 0);
    b.send('b', 10);
    expect(b.closeEpoch()).toBe(1);
    b.send('c', 30);
    expect(b.closeEpoch()).toBe(2);
    expect(b.heldCount).toBe(3);
    const r1 = b.acknowledge(1, 40);
    expect(r1.map((p) => [p.packet, p.delayMs])).toEqual([['a', 40], ['b', 30]]);
    expect(b.acknowledge(1, 45)).toEqual([]);
    expect(b.acknowledge(2, 60).map((p) => [p.packet, p.delayMs])).toEqual([['c', 30]]);
    expect(b.acknowledgedEpoch).toBe(2);
  });

  it('a primary that gets no acknowledgement (partitioned, or its secondary promoted) releases nothing', () => {
    const b = new OutputCommitBuffer<number>();
    for (let e = 0; e < 10; e++) {
      b.send(e, e * 25);
      b.closeEpoch();
    }
    expect(b.heldCount).toBe(10);
    expect(b.acknowledgedEpoch).toBe(0);
  });

  it('refuses to acknowledge an epoch still running', () => {
    const b = new OutputCommitBuffer<number>();
    expect(() => b.acknowledge(1, 0)).toThrow(/epoch/);
  });

  it('releaseAll lets everything out (FT off, or the primary won the generation alone)', () => {
    const b = new OutputCommitBuffer<number>();
    b.send(1, 0);
    b.closeEpoch();
    b.send(2, 5);
    expect(b.releaseAll(10).map((p) => p.packet)).toEqual([1, 2]);
    expect(b.heldCount).toBe(0);
  });

  it('property: a packet is released only after its epoch is acknowledged, in send order, never lost', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant('send' as const), fc.constant('close' as const), fc.constant('ack' as const)), { maxLength: 200 }), (ops) => {
        const b = new OutputCommitBuffer<number>();
        let sent = 0;
        let t = 0;
        const released: number[] = [];
        for (const op of ops) {
          t += 1;
          if (op === 'send') b.send(sent++, t);
          else if (op === 'close') b.closeEpoch();
          else if (b.currentEpoch > 1) {
            const upTo = b.currentEpoch - 1;
            for (const p of b.acknowledge(upTo, t)) {
              expect(p.epoch).toBeLessThanOrEqual(upTo);
              expect(p.delayMs).toBeGreaterThanOrEqual(0);
              released.push(p.packet);
            }
          }
        }
        expect(released).toEqual([...Array(released.length).keys()]);
        expect(released.length + b.heldCount).toBe(sent);
      }),
    );
  });
});
