/**
 * Writes the records of each accepted call as one file, named and laid out the way Firehose names S3 objects:
 * `<dataDir>/<stream>/YYYY/MM/DD/HH/<stream>-<seq>-YYYY-MM-DD-HH-MM-SS-<uuid>` (UTC), holding the records
 * concatenated with nothing added. https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Hour folders remembered as created; past this the memory is dropped, and mkdir (idempotent) runs again. */
const REMEMBERED_FOLDERS = 1000;

export class ObjectWriter {
  private readonly root: string;
  private sequence = 0;
  private readonly folders = new Map<string, Promise<unknown>>();
  private readonly pending = new Set<Promise<void>>();

  constructor(dataDir: string) {
    this.root = resolve(dataDir);
  }

  /**
   * Writes one object (without fsync) and resolves once it is written. Rejects, writing nothing, when the object's
   * path would leave the data folder.
   */
  write(streamName: string, records: readonly Buffer[], at: Date): Promise<void> {
    const written = this.writeObject(streamName, records, at);
    this.pending.add(written);
    const forget = (): void => void this.pending.delete(written);
    written.then(forget, forget);
    return written;
  }

  /** Resolves once every write started so far has finished, written or not. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async writeObject(streamName: string, records: readonly Buffer[], at: Date): Promise<void> {
    const iso = at.toISOString();
    const [year, month, day, hour, minute, second] = [
      iso.slice(0, 4),
      iso.slice(5, 7),
      iso.slice(8, 10),
      iso.slice(11, 13),
      iso.slice(14, 16),
      iso.slice(17, 19),
    ];
    const folder = join(this.root, streamName, year, month, day, hour);
    const sequence = String(++this.sequence).padStart(8, '0');
    const name = `${streamName}-${sequence}-${year}-${month}-${day}-${hour}-${minute}-${second}-${randomUUID()}`;
    const file = join(folder, name);
    // Stream names are checked before they get here; this keeps any name, now or later, from writing elsewhere.
    if (!isInside(this.root, file)) {
      throw new Error(`Refusing to write ${file}: it is outside the data folder ${this.root}`);
    }
    await this.createFolder(folder);
    await writeFile(file, Buffer.concat(records));
  }

  private createFolder(folder: string): Promise<unknown> {
    let created = this.folders.get(folder);
    if (created === undefined) {
      if (this.folders.size >= REMEMBERED_FOLDERS) this.folders.clear();
      created = mkdir(folder, { recursive: true });
      this.folders.set(folder, created);
      created.catch(() => this.folders.delete(folder));
    }
    return created;
  }
}

/** True when `path` is below `root` (not `root` itself). */
export function isInside(root: string, path: string): boolean {
  const fromRoot = relative(root, path);
  return fromRoot !== '' && !isAbsolute(fromRoot) && fromRoot.split(sep)[0] !== '..';
}
