import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Builds the connector bundle once, so integration tests run the code as it is now, the way users run it. */
export default function globalSetup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: resolve(__dirname, '../..'), stdio: 'inherit' });
}
