import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** One JSON log line of the connector (or of the baseline, which logs the same way). */
export interface ChildLog {
  readonly time?: string;
  readonly level?: string;
  readonly message?: string;
  readonly [field: string]: unknown;
}

const REPOSITORY_ROOT = resolve(__dirname, '..');
const STOP_TIMEOUT_MS = 20_000;
/** USER_HZ, which Linux fixes at 100 for /proc on every architecture Node.js runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * A process under measurement: the connector bundle or the baseline. Its stdout is read as JSON lines (buffered
 * across chunks, so a line split between two reads is not lost), and its memory is read from /proc.
 */
export class BenchChild {
  readonly logs: ChildLog[] = [];
  private stdoutRest = '';
  private stderrTail = '';
  private readonly exited: Promise<void>;
  private readonly listeners = new Set<(line: ChildLog) => void>();
  private readonly killOnExit = (): void => {
    this.child.kill('SIGKILL');
  };

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    process.once('exit', this.killOnExit);
  }

  static spawn(name: string, args: readonly string[], env: NodeJS.ProcessEnv): BenchChild {
    const child = spawn(process.execPath, args, {
      env,
      cwd: REPOSITORY_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new BenchChild(name, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves when the process has exited. */
  whenExited(): Promise<void> {
    return this.exited;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Calls `listener` for every log line from now on. */
  onLog(listener: (line: ChildLog) => void): void {
    this.listeners.add(listener);
  }

  /** Resolves with the first log line, past or future, that matches; rejects on exit or timeout. */
  async waitForLog(match: (line: ChildLog) => boolean, what: string, timeoutMs = 15_000): Promise<ChildLog> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find(match);
      if (line) return line;
      if (!this.running) throw new Error(`${this.name} exited before logging ${what}. ${this.describe()}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not log ${what} within ${timeoutMs} ms. ${this.describe()}`);
      await new Promise((tick) => setTimeout(tick, 10));
    }
  }

  /** VmHWM (peak resident set) and VmRSS in KiB, from /proc/<pid>/status; undefined once the process is gone. */
  memory(): { peakRssKb: number; rssKb: number } | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const field = (name: string): number =>
        Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
      return { peakRssKb: field('VmHWM'), rssKb: field('VmRSS') };
    } catch {
      return undefined;
    }
  }

  /** User plus system CPU seconds used so far, from /proc/<pid>/stat; undefined once the process is gone. */
  cpuSeconds(): number | undefined {
    return cpuSecondsOf(this.pid);
  }

  describe(): string {
    return `Exit: ${this.child.exitCode ?? this.child.signalCode ?? 'running'}. stderr: ${this.stderrTail.trim() || '(empty)'}`;
  }

  /** SIGTERM (the connector flushes and exits), then SIGKILL if it is still there after `timeoutMs`. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    process.off('exit', this.killOnExit);
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onStdout(chunk: string): void {
    const lines = (this.stdoutRest + chunk).split('\n');
    this.stdoutRest = lines.pop() ?? '';
    for (const text of lines) {
      if (!text.startsWith('{')) continue;
      let line: ChildLog;
      try {
        line = JSON.parse(text) as ChildLog;
      } catch {
        continue;
      }
      this.logs.push(line);
      for (const listener of this.listeners) listener(line);
    }
  }
}

/** User plus system CPU seconds of process `pid` so far, from /proc/<pid>/stat; undefined when it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
