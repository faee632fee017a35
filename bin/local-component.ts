#!/usr/bin/env node
/**
 * `npm run component:local`: writes greengrass-build/recipes and greengrass-build/artifacts for a local deployment
 * with greengrass-cli, and prints the command that deploys them.
 */
import { LOCAL_COMPONENT_USAGE, parseLocalComponentArgs, writeLocalComponent } from '../lib/local-component';
import { ProblemsError } from '../runtime/contract';

function main(argv: readonly string[]): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${LOCAL_COMPONENT_USAGE}\n`);
    return;
  }
  let options;
  try {
    options = parseLocalComponentArgs(argv, process.env);
  } catch (error) {
    if (!(error instanceof ProblemsError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const component = writeLocalComponent(options);
  process.stdout.write(
    [
      `Recipe:   ${component.recipeFile}`,
      `Artifact: ${component.artifactFile}`,
      '',
      'Copy the folder to the core device if this is not the device, then run there:',
      '',
      component.command,
      '',
      `Follow it with: sudo tail -f /greengrass/v2/logs/${component.componentName}.log`,
      '',
    ].join('\n'),
  );
}

main(process.argv.slice(2));
