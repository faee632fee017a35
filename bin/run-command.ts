/** How the `npm run` commands of bin/ end: a message, never a stack trace, and an exit code a script can test. */
import { ProblemsError } from '../runtime/contract';

/**
 * Runs `main` with the command's arguments and exits with its code. An error ends the command with its message:
 * exit code 2 for input that was refused (a `ProblemsError`), 1 for anything else.
 */
export function runCommand(main: (argv: readonly string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(error instanceof ProblemsError ? 2 : 1);
    },
  );
}
