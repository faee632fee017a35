/**
 * Record packing (issue 18): the same messages through the connector with `RecordPacking` off and on, in the same
 * run. Drains of a broker backlog of 200 B, 1 KiB and 4 KiB JSON give what Firehose would bill per payload byte,
 * messages per record and per call, and CPU per message. Then 200 B messages offered at 4,000 msg/s to a stream of
 * 1 MiB/s, and a backlog of 20,000 queued in the connector during an outage, drained behind that stream and behind
 * none, for the time to deliver and the calls it takes.
 */
import { BYTES_QUOTA, measureQuotaDrain, type QuotaDrainOptions, type QuotaDrainResult } from './throttling';
import { connectorUnderTest, type DrainResult, measureDrain } from './throughput';

/** JSON payload sizes of the efficiency drains. */
export const PACKING_SIZES = [200, 1024, 4096] as const;
/** The offered rate of issue 18's target: 800 KB/s of 200 B messages, under a 1 MiB/s quota. */
export const PACKING_OFFERED_PER_SECOND = 4000;
/** Messages of the quota runs, offered and backlog. */
export const PACKING_QUOTA_MESSAGES = 20_000;

export type PackingMode = 'off' | 'on';

type QuotaScenario = Pick<QuotaDrainOptions, 'offeredPerSecond' | 'afterOutage' | 'unlimited'>;

/** The connector parameters of each mode: the bench stream is the default stream. */
const MODES: Readonly<Record<PackingMode, Record<string, string>>> = {
  off: { RecordPacking: 'off' },
  on: { RecordPacking: 'default-stream' },
};

export interface PackingEfficiency {
  readonly size: number;
  /** One drain per round, each mode. */
  readonly off: DrainResult[];
  readonly on: DrainResult[];
}

export interface PackingQuotaRun {
  readonly off: QuotaDrainResult;
  readonly on: QuotaDrainResult;
}

export interface PackingResults {
  readonly backlog: number;
  readonly rounds: number;
  readonly efficiency: PackingEfficiency[];
  readonly offered: PackingQuotaRun;
  /** A backlog queued during an outage, drained behind a 1 MiB/s stream. */
  readonly quotaBacklog: PackingQuotaRun;
  /** The same, behind a stream without a quota. */
  readonly freeBacklog: PackingQuotaRun;
}

export interface PackingOptions {
  readonly bundle: string;
  /** Messages of each efficiency drain. */
  readonly backlog: number;
  /** Rounds of the 200 B drain, each mode, for the CPU comparison; the other sizes run once. */
  readonly rounds: number;
  /** The backlog scenarios' parameters (PublishInterval 1, a queue that holds the whole backlog). */
  readonly parameters: Record<string, string | number>;
  readonly timeoutMs: number;
  readonly nodeArgs: readonly string[];
  readonly progress: (message: string) => void;
}

export async function measurePacking(options: PackingOptions): Promise<PackingResults> {
  const { progress } = options;
  const efficiency: PackingEfficiency[] = [];
  for (const size of PACKING_SIZES) {
    const runs: PackingEfficiency = { size, off: [], on: [] };
    const rounds = size === PACKING_SIZES[0] ? options.rounds : 1;
    for (let round = 1; round <= rounds; round++) {
      // Off and on alternate, so that other load on the machine falls on both alike.
      for (const mode of ['off', 'on'] as const) {
        const connector = connectorUnderTest(
          options.bundle,
          { ...options.parameters, ...MODES[mode] },
          options.nodeArgs,
        );
        const result = await measureDrain(connector, {
          backlog: options.backlog,
          size,
          kind: 'json',
          timeoutMs: options.timeoutMs,
        });
        runs[mode].push(result);
        progress(`packing ${mode}, JSON ${size} B, round ${round}/${rounds}: ${describe(result)}`);
      }
    }
    efficiency.push(runs);
  }
  const quota = async (label: string, scenario: QuotaScenario): Promise<PackingQuotaRun> => {
    const run = async (mode: PackingMode): Promise<QuotaDrainResult> => {
      const result = await measureQuotaDrain({
        bundle: options.bundle,
        quota: BYTES_QUOTA,
        messages: PACKING_QUOTA_MESSAGES,
        size: PACKING_SIZES[0],
        timeoutMs: options.timeoutMs,
        parameters: { ...options.parameters, ...MODES[mode] },
        nodeArgs: options.nodeArgs,
        ...scenario,
      });
      progress(
        `packing ${mode}, 200 B ${label}: ${result.drainSeconds.toFixed(2)} s, ${result.calls} calls, ` +
          `${result.cpuMicrosPerMessage.toFixed(1)} CPU us/msg`,
      );
      return result;
    };
    return { off: await run('off'), on: await run('on') };
  };
  const offered = await quota(`at ${PACKING_OFFERED_PER_SECOND} msg/s to 1 MiB/s`, {
    offeredPerSecond: PACKING_OFFERED_PER_SECOND,
  });
  const quotaBacklog = await quota('backlog after an outage, 1 MiB/s', { afterOutage: true });
  const freeBacklog = await quota('backlog after an outage, no quota', {
    afterOutage: true,
    unlimited: true,
  });
  return { backlog: options.backlog, rounds: options.rounds, efficiency, offered, quotaBacklog, freeBacklog };
}

function describe(result: DrainResult): string {
  const accepted = result.delivery?.accepted;
  const calls = result.delivery?.calls.total ?? NaN;
  return (
    `${Math.round(result.messagesPerSecond)} msg/s, ${accepted?.records} records, ${calls} calls, ` +
    `${((accepted?.billedBytes ?? NaN) / (accepted?.bytes ?? NaN)).toFixed(2)} billed per payload byte, ` +
    `${result.cpu.subjectMicrosPerMessage.toFixed(1)} CPU us/msg`
  );
}
