#!/usr/bin/env node
/** `npm run configure`: saves deploy settings in cdk.json (lib/configure.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import {
  applySettings,
  CONFIGURE_USAGE,
  parseConfigureArgs,
  REPOSITORY_CDK_JSON,
  savedSettings,
} from '../lib/configure';
import { runCommand } from './run-command';

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${CONFIGURE_USAGE}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const request = parseConfigureArgs(argv);
  const file = request.file ?? REPOSITORY_CDK_JSON;
  const cdkJson = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const updated = applySettings(cdkJson, request);
  if (Object.keys(request.set).length > 0 || request.unset.length > 0) {
    // Formatted as the repository's Prettier formats it, so that the committed file stays clean.
    const text = await format(JSON.stringify(updated), { ...(await resolveConfig(file)), parser: 'json' });
    writeFileSync(file, text);
    process.stdout.write(
      `Saved in ${file}; commit it, so that every deploy from any clone uses these settings.\n`,
    );
  }
  const settings = savedSettings(updated.context as Record<string, unknown>);
  if (request.show || Object.keys(settings).length > 0) {
    process.stdout.write(`Saved settings:\n${JSON.stringify(settings, null, 2)}\n`);
  }
  return 0;
}

runCommand(main);
