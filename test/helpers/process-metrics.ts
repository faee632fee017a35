import { readdirSync, readFileSync } from 'node:fs';

/** Memory and file figures of a running process, read from Linux's /proc, in the units users see in `ps`. */
export interface ProcessMetrics {
  /** Resident set size now, in MiB. */
  readonly rssMiB: number;
  /** Peak resident set size so far (VmHWM), in MiB: what an out-of-memory limit compares with. */
  readonly peakRssMiB: number;
  /** Open file descriptors: files, sockets, pipes. */
  readonly openFiles: number;
}

export function processMetrics(pid: number): ProcessMetrics {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field} line`);
    return Number(match[1]);
  };
  return {
    rssMiB: kib('VmRSS') / 1024,
    peakRssMiB: kib('VmHWM') / 1024,
    openFiles: readdirSync(`/proc/${pid}/fd`).length,
  };
}

/** How many times each id was answered, listing the ids not answered exactly once: `[]` when all were. */
export function idsNotAnsweredOnce(expectedIds: readonly string[], answeredIds: readonly string[]): string[] {
  const counts = new Map<string, number>(expectedIds.map((id) => [id, 0]));
  for (const id of answeredIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].filter(([, count]) => count !== 1).map(([id, count]) => `${id} (${count}x)`);
}
