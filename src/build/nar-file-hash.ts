// build/nar-file-hash: the NAR hash, NAR size and references of a single regular file computed
// from its contents as a builder writes them (`NarFileHasher`), so the scheduler need not read a
// big output again (build/output.ts takes the result); build/nar-hash-thread.ts does the same
// with the SHA-256 on a second thread. Never touches the file system.

import { createHash } from 'node:crypto';
import { narFileHead, narFileTail } from '../derivation/nar.js';
import { ReferenceScanner } from '../store/references.js';

/** A single-file output's NAR hash, NAR size and references, as a builder computed them. */
export interface HashedOutput {
  readonly narHash: Uint8Array;
  readonly narSize: number;
  /** The candidates found in the NAR bytes, sorted. */
  readonly references: readonly string[];
  /** The regular file's length (the NAR's `contents` length) and executable bit. */
  readonly fileSize: number;
  readonly executable: boolean;
}

/**
 * Hashes the NAR of a single regular file of known length from its contents as they are written
 * (Nix's dumpPath of a file: `nix-archive-1 ( type regular [executable ""] contents <len> <bytes>
 * <pad> )`) and scans those NAR bytes for references, as finishOutput does for any output. The
 * length comes first in a NAR, so it must be known before the first byte.
 */
export class NarFileHasher {
  private readonly hash = createHash('sha256');
  private readonly scanner: ReferenceScanner;
  private narSize = 0;
  private contents = 0;

  constructor(
    private readonly fileSize: number,
    candidates: Iterable<string>,
    private readonly executable = false,
  ) {
    this.scanner = new ReferenceScanner(candidates);
    this.feed(narFileHead(fileSize, executable));
  }

  private feed(c: Uint8Array): void {
    this.hash.update(c);
    this.scanner.update(c);
    this.narSize += c.length;
  }

  /** The next bytes of the file's contents. */
  update(chunk: Uint8Array): void {
    this.contents += chunk.length;
    if (this.contents > this.fileSize) throw new Error(`internal error: NarFileHasher got more than the ${this.fileSize} bytes announced`);
    this.feed(chunk);
  }

  finish(): HashedOutput {
    if (this.contents !== this.fileSize) throw new Error(`internal error: NarFileHasher got ${this.contents} bytes, not the ${this.fileSize} announced`);
    this.feed(narFileTail(this.fileSize));
    return { narHash: this.hash.digest(), narSize: this.narSize, references: this.scanner.result(), fileSize: this.fileSize, executable: this.executable };
  }
}
