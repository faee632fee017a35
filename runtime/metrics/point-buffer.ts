import type { MetricPoint } from './metric-point';

/**
 * Points waiting to be sent, oldest first, at most `capacity` of them: while CloudWatch cannot be reached the
 * oldest are dropped first, so that what is sent once it answers again is the most recent.
 */
export class PointBuffer {
  private points: MetricPoint[] = [];

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.points.length;
  }

  /** Adds points at the end; returns how many of the oldest were dropped to stay within `capacity`. */
  push(points: readonly MetricPoint[]): number {
    for (const point of points) this.points.push(point);
    return this.trim();
  }

  /** Takes up to `max` of the oldest points out, for a call. */
  take(max: number): MetricPoint[] {
    return this.points.splice(0, max);
  }

  /** Puts points taken for a call that failed back in front; returns how many were dropped to stay within `capacity`. */
  restore(points: readonly MetricPoint[]): number {
    this.points = [...points, ...this.points];
    return this.trim();
  }

  /** Drops the points stamped before `cutoff` (epoch ms); returns how many. */
  dropBefore(cutoff: number): number {
    const kept = this.points.filter((point) => point.timestamp >= cutoff);
    const dropped = this.points.length - kept.length;
    this.points = kept;
    return dropped;
  }

  private trim(): number {
    const excess = this.points.length - this.capacity;
    if (excess <= 0) return 0;
    this.points.splice(0, excess);
    return excess;
  }
}
