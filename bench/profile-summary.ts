/**
 * Summarises a V8 CPU profile (`node --cpu-prof`) of the connector: the functions with the most self time, and
 * self time per module of the esbuild bundle (found from the `// node_modules/...` and `// runtime/...` comments
 * esbuild puts before each module).
 *
 *   npx tsx bench/run.ts --scenarios connector --rounds 1 --node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   npx tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile [--top 30] [--bundle dist/firehose-connector.js]
 *
 * Keep .cpuprofile files out of the repository (.gitignore has them).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Module boundaries of an esbuild bundle: the 0-based line of each `// <path>` comment, in order. */
function bundleModules(bundle: string): { line: number; module: string }[] {
  const modules: { line: number; module: string }[] = [];
  readFileSync(bundle, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      // The path is relative to where esbuild ran, and goes through ../ when node_modules is a symbolic link.
      const match = /^\/\/ (?:\S*\/)?((?:node_modules|runtime)\/\S+)$/.exec(text);
      if (match)
        modules.push({ line, module: match[1].slice(Math.max(0, match[1].lastIndexOf('node_modules/'))) });
    });
  return modules;
}

function moduleAt(modules: readonly { line: number; module: string }[], line: number): string | undefined {
  let low = 0;
  let high = modules.length - 1;
  let found: string | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (modules[middle].line <= line) {
      found = modules[middle].module;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/** `node_modules/@smithy/core/dist/x.js` -> `@smithy/core`; `runtime/message/parse-message.ts` stays. */
function packageOf(module: string): string {
  const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(module);
  return match ? match[1] : module;
}

function main(): void {
  // Piped into head: stop quietly when the reader has gone.
  process.stdout.on('error', () => process.exit(0));
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string' }, bundle: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    process.stderr.write(
      'Usage: tsx bench/profile-summary.ts FILE.cpuprofile... [--top N] [--bundle PATH]\n',
    );
    process.exit(2);
  }
  const top = Number(values.top ?? 25);
  const bundlePath = resolve(values.bundle ?? resolve(__dirname, '..', 'dist', 'firehose-connector.js'));
  const modules = bundleModules(bundlePath);

  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const selfMicros = new Map<number, number>();
    profile.samples.forEach((id, index) => {
      selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
    });
    const total = profile.endTime - profile.startTime;
    const byFunction = new Map<string, number>();
    const byPackage = new Map<string, number>();
    for (const [id, micros] of selfMicros) {
      const { callFrame } = byId.get(id)!;
      const inBundle = callFrame.url.endsWith(bundlePath) || callFrame.url === `file://${bundlePath}`;
      const module = inBundle ? moduleAt(modules, callFrame.lineNumber) : undefined;
      const where = module ?? (callFrame.url ? callFrame.url.replace(/^.*\/node_modules\//, '') : '');
      const line = callFrame.lineNumber + 1;
      const at = inBundle ? ` (bundle line ${line})` : where ? `:${line}` : '';
      const name = `${callFrame.functionName || '(anonymous)'}  ${where}${at}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
      const group = module
        ? packageOf(module)
        : callFrame.url.startsWith('node:')
          ? 'node: internals'
          : callFrame.url === ''
            ? callFrame.functionName || '(native)'
            : callFrame.url;
      byPackage.set(group, (byPackage.get(group) ?? 0) + micros);
    }
    const print = (title: string, entries: Map<string, number>, limit: number): void => {
      process.stdout.write(`\n${title}\n`);
      for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
        const share = ((micros / total) * 100).toFixed(1).padStart(5);
        process.stdout.write(`${share} %  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}\n`);
      }
    };
    process.stdout.write(
      `${file}: ${(total / 1e6).toFixed(2)} s profiled, ${profile.samples.length} samples\n`,
    );
    print('Self time by package or module', byPackage, top);
    print('Self time by function', byFunction, top);
  }
}

main();
