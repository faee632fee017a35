import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A folder where writes fail once a few hundred KiB are written, as on a full disk. */
export interface SmallDisk {
  readonly path: string;
  /**
   * `tmpfs`: a real file system of `bytes` (writes fail with ENOSPC). `file-size-limit`: where mounting is not
   * allowed, the connector runs under `ulimit -f` instead, so each file stops growing at `bytes` (EFBIG): a write
   * error all the same, though a new file can still start.
   */
  readonly kind: 'tmpfs' | 'file-size-limit';
  /** Shell commands to run the connector with (see `ConnectorProcess.start`), empty for tmpfs. */
  readonly shellPrefix: string;
  dispose(): void;
}

export function createSmallDisk(bytes: number): SmallDisk {
  const path = mkdtempSync(join(tmpdir(), 'small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', path], {
      stdio: 'ignore',
    });
    return {
      path,
      kind: 'tmpfs',
      shellPrefix: '',
      dispose: () => {
        execFileSync('umount', [path], { stdio: 'ignore' });
        rmSync(path, { recursive: true, force: true });
      },
    };
  } catch {
    // Not root, or no mount rights in this container.
    return {
      path,
      kind: 'file-size-limit',
      // sh counts ulimit -f in 512-byte blocks; SIGXFSZ would kill the process, so it is ignored and the write
      // fails with EFBIG instead.
      shellPrefix: `trap '' XFSZ; ulimit -f ${Math.ceil(bytes / 512)};`,
      dispose: () => rmSync(path, { recursive: true, force: true }),
    };
  }
}
