import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { findMosquitto } from '../test/helpers/broker';

export type Verdict = 'PASS' | 'FAIL' | '';

export interface Row {
  readonly figure: string;
  readonly value: string;
  readonly target?: string;
  readonly verdict?: Verdict;
}

export function verdict(ok: boolean): Verdict {
  return ok ? 'PASS' : 'FAIL';
}

export function rate(messagesPerSecond: number): string {
  return `${Math.round(messagesPerSecond).toLocaleString('en-US')} msg/s`;
}

export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

export function mib(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MiB`;
}

export function bytes(size: number): string {
  if (size >= 1024 && size % 1024 === 0) return `${size / 1024} KiB`;
  return `${size} B`;
}

export function markdownTable(rows: readonly Row[]): string {
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = ['| Figure | Value | Target | Result |', '| --- | --- | --- | --- |'];
  for (const row of rows) {
    lines.push(
      `| ${escape(row.figure)} | ${escape(row.value)} | ${escape(row.target ?? '')} | ${row.verdict ?? ''} |`,
    );
  }
  return lines.join('\n');
}

/** What the figures were measured on. */
export function describeMachine(loadAtStart: number): string[] {
  const cpuModel =
    /^model name\s*:\s*(.*)$/m.exec(safeRead('/proc/cpuinfo'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const mosquitto = findMosquitto();
  const mosquittoVersion = mosquitto
    ? (spawnSync(mosquitto, ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '').trim()
    : 'not installed';
  const git = (args: string[]): string => spawnSync('git', args, { encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const runtimeChanged = git(['status', '--porcelain', '--', 'runtime']) !== '';
  return [
    `CPU: ${cpuModel}, ${cpus().length} cores`,
    `Memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `Node.js ${process.version}, ${mosquittoVersion}`,
    `Commit ${commit || 'unknown'}${runtimeChanged ? ' (runtime/ has uncommitted changes)' : ''}`,
    `Date: ${new Date().toISOString()}`,
    `Load average (1 min) at start ${loadAtStart.toFixed(2)}, at end ${loadavg()[0].toFixed(2)}: other work on ` +
      'the machine lowers the figures, so compare runs taken on a quiet machine.',
  ];
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
