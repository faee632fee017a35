#!/usr/bin/env node
/**
 * `npm run destroy`: deletes the stack, and with `--delete-data` its buckets and their objects, without a redeploy
 * (lib/teardown.ts). Needs the AWS CLI v2 and credentials for the stack's account.
 */
import { execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { type AwsCli, parseTeardownArgs, tearDown, TEARDOWN_USAGE } from '../lib/teardown';
import { DEFAULT_STACK_NAME } from '../lib/names';
import { ProblemsError } from '../runtime/contract';

const aws: AwsCli = (args) => {
  try {
    return execFileSync('aws', [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`aws ${args.slice(0, 2).join(' ')} failed: ${stderr?.trim() || message}`);
  }
};

async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await prompt.question(`${question} (y/N) `);
  prompt.close();
  return /^y(es)?$/i.test(answer.trim());
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${TEARDOWN_USAGE}\n`);
    return 0;
  }
  try {
    const options = parseTeardownArgs(argv);
    const what = `${options.stackName ?? DEFAULT_STACK_NAME}${options.deleteData ? ' and every object in its buckets' : ''}`;
    if (!options.force && !(await confirmed(`Delete ${what}?`))) {
      process.stderr.write(`Nothing deleted: confirm, or pass --force.\n`);
      return 1;
    }
    const left = tearDown(options, aws, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`Deleted. Still there:\n${left.map((line) => `  - ${line}\n`).join('')}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ProblemsError) && !(error instanceof Error)) throw error;
    process.stderr.write(`${error.message}\n`);
    return error instanceof ProblemsError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
