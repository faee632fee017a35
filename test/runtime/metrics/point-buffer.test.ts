import type { MetricPoint } from '../../../runtime/metrics/metric-point';
import { PointBuffer } from '../../../runtime/metrics/point-buffer';

function points(count: number, firstTimestamp = 0): MetricPoint[] {
  return Array.from({ length: count }, (_, index) => ({
    metric: 'MessagesReceived',
    stream: 'main',
    timestamp: firstTimestamp + index,
    value: index,
  }));
}

const timestamps = (list: readonly MetricPoint[]) => list.map((point) => point.timestamp);

describe('PointBuffer', () => {
  it('gives points out oldest first, at most as many as asked', () => {
    // Prepare
    const buffer = new PointBuffer(10);
    buffer.push(points(5));

    // Act
    const taken = buffer.take(3);

    // Assess
    expect(timestamps(taken)).toEqual([0, 1, 2]);
    expect(buffer.size).toBe(2);
  });

  it('drops the oldest points beyond its capacity and says how many', () => {
    // Prepare
    const buffer = new PointBuffer(4);
    buffer.push(points(3));

    // Act
    const dropped = buffer.push(points(3, 10));

    // Assess
    expect(dropped).toBe(2);
    expect(timestamps(buffer.take(10))).toEqual([2, 10, 11, 12]);
  });

  it('puts points taken for a failed call back in front, within its capacity', () => {
    // Prepare
    const buffer = new PointBuffer(4);
    buffer.push(points(3));
    const taken = buffer.take(3);
    buffer.push(points(2, 10));

    // Act
    const dropped = buffer.restore(taken);

    // Assess
    expect(dropped).toBe(1);
    expect(timestamps(buffer.take(10))).toEqual([1, 2, 10, 11]);
  });

  it('drops the points stamped before a time', () => {
    // Prepare
    const buffer = new PointBuffer(10);
    buffer.push(points(5));

    // Act
    const dropped = buffer.dropBefore(3);

    // Assess
    expect(dropped).toBe(3);
    expect(timestamps(buffer.take(10))).toEqual([3, 4]);
  });
});
