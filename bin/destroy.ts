#!/usr/bin/env node
/**
 * `npm run destroy`: removes the component from the stack's deployment target, then deletes the stack, and with
 * `--delete-data` its buckets and their objects, without a redeploy (lib/teardown.ts). Needs the AWS CLI v2 and
 * credentials that may assume the account's CDK deploy role (or act on the stack themselves).
 */
import { execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import {
  type AwsCli,
  executeTeardown,
  parseTeardownArgs,
  planTeardown,
  TEARDOWN_USAGE,
} from '../lib/teardown';
import { runCommand } from './run-command';

const aws: AwsCli = (args, env = {}) => {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Credentials given here (the assumed deploy role) must win over a profile's.
  if (env.AWS_ACCESS_KEY_ID !== undefined) delete environment.AWS_PROFILE;
  try {
    return execFileSync('aws', [...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: environment,
    });
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

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    print(TEARDOWN_USAGE);
    return 0;
  }
  const options = parseTeardownArgs(argv);
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const plan = planTeardown({ ...options, region }, aws, print);
  print(`This will:\n${plan.steps.map((step) => `  - ${step}\n`).join('')}`.trimEnd());
  for (const warning of plan.warnings) print(`Warning: ${warning}.`);
  if (!options.force && !(await confirmed(`Go ahead with ${plan.stackName}?`))) {
    process.stderr.write(`Nothing deleted: confirm, or pass --force.\n`);
    return 1;
  }
  const left = executeTeardown(plan, aws, print);
  print(`Deleted. Still there:\n${left.map((line) => `  - ${line}\n`).join('')}`.trimEnd());
  return 0;
}

runCommand(main);
