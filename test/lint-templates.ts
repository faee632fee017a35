/**
 * `npm run lint:templates`: synthesizes every stack variant (test/lib/fixtures/stack-variants.ts, the set the cdk-nag
 * tests cover) into a temporary folder and runs cfn-lint, an independent check of the templates against the
 * CloudFormation resource specifications, on all of them. Exits 1 on any error (or when cfn-lint cannot run);
 * warnings and informational findings are printed and do not fail.
 * @see https://github.com/aws-cloudformation/cfn-lint#exit-codes
 */
import { App } from 'aws-cdk-lib';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../bin/app';
import { CDK_JSON_CONTEXT } from './lib/app-fixture';
import { STUB_ARTIFACT } from './lib/fixtures/constants';
import { STACK_VARIANTS } from './lib/fixtures/stack-variants';

/** cfn-lint's exit code is a bit mask: 1 a fatal error, 2 an error, 4 a warning, 8 an informational finding. */
const FAILING_BITS = 1 | 2;

/** Synthesizes each variant into its own folder under `root`; returns the template paths. */
export function synthesizeVariants(root: string): string[] {
  return Object.entries(STACK_VARIANTS).flatMap(([name, context], index) => {
    const outdir = join(root, `variant-${index}`);
    const app = new App({
      outdir,
      context: { ...CDK_JSON_CONTEXT, artifactPath: STUB_ARTIFACT, ...context },
      builtinCloudFormationValidation: false,
    });
    buildApp(app, { warnUnsavedSettings: false });
    const stacks = app.synth().stacks;
    process.stdout.write(`${name}: ${stacks.map((stack) => stack.stackName).join(', ')}\n`);
    return readdirSync(outdir)
      .filter((file) => file.endsWith('.template.json'))
      .map((file) => join(outdir, file));
  });
}

function main(): number {
  const root = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
  try {
    const templates = synthesizeVariants(root);
    const result = spawnSync('cfn-lint', ['--', ...templates], { stdio: 'inherit' });
    if (result.error) {
      process.stderr.write(`cfn-lint could not run (pip install cfn-lint): ${result.error.message}\n`);
      return 1;
    }
    const code = result.status ?? 1;
    if ((code & FAILING_BITS) !== 0) {
      process.stderr.write(`cfn-lint found errors in the synthesized templates (exit code ${code}).\n`);
      return 1;
    }
    process.stdout.write(
      `cfn-lint: no errors in ${templates.length} templates${code === 0 ? '' : ` (warnings or notes above, exit code ${code})`}.\n`,
    );
    return 0;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) process.exit(main());
