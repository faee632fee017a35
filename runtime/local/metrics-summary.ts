import { MetricDimension } from '../contract';
import type { ReceivedDatum } from './cloudwatch-protocol';
import type { AcceptedMetricData } from './cloudwatch-service';

/**
 * What the local mode prints for a PutMetricData call: a line per stream and period, each metric with its sum (a
 * counter) or its average and maximum (a gauge's samples). The per-device copies are left out: they repeat the
 * per-stream points.
 *
 * @example
 * 'metrics 12:04:10 local-stream: MessagesReceived 3, MessagesDelivered 3, FirehoseCalls 1, QueueDepth 0 (max 2), OldestRecordAge 0 s (max 1.2 s)'
 */
export function summarizeMetricData(call: AcceptedMetricData): string[] {
  const periods = new Map<string, string[]>();
  for (const datum of call.data) {
    if (MetricDimension.coreDevice in datum.dimensions) continue;
    const stream = datum.dimensions[MetricDimension.deliveryStream] ?? '(no stream)';
    const key = `${datum.timestamp.toISOString().slice(11, 19)} ${stream}`;
    const parts = periods.get(key) ?? [];
    parts.push(describeDatum(datum));
    periods.set(key, parts);
  }
  return [...periods].map(([key, parts]) => `metrics ${key}: ${parts.join(', ')}`);
}

function describeDatum(datum: ReceivedDatum): string {
  const reason = datum.dimensions[MetricDimension.reason];
  const name = reason === undefined ? datum.metricName : `${datum.metricName} ${reason}`;
  const unit = datum.unit === 'Seconds' ? ' s' : '';
  if (datum.value !== undefined) return `${name} ${round(datum.value)}${unit}`;
  const statistics = datum.statisticValues;
  if (statistics) {
    const average = statistics.Sum / statistics.SampleCount;
    return `${name} ${round(average)}${unit} (max ${round(statistics.Maximum)}${unit})`;
  }
  return `${name} ${datum.values?.length ?? 0} values`;
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}
