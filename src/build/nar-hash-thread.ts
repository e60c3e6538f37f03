// build/nar-hash-thread: NarFileHasher (build/nar-file-hash.ts) with its SHA-256 on a worker
// thread, for built-in builders that write a big single-file output while hashing other things
// on their own thread (buildLayeredImage's archive: every layer's diffID is checked as it is
// written; the NAR hash of the whole archive is computed beside it, on a second core). The NAR
// framing and the reference scan stay on the caller's thread; each chunk is copied into a ring
// of shared slots (bounded memory: a slow hasher makes `update` wait), and the result is the
// HashedOutput the in-thread hasher gives. The worker is a few lines of node:crypto (no project
// code to load). Never touches the file system.

import { Worker } from 'node:worker_threads';
import { ReferenceScanner } from '../store/references.js';
import { narFileHead, narFileTail } from '../derivation/nar.js';
import type { HashedOutput } from './nar-file-hash.js';

/** Bytes per slot (a TarWriter's 4 MiB buffer, rounded to tar records, fits in one). */
const SLOT = (4 << 20) + (256 << 10);
const SLOTS = 6;

const WORKER = `const { parentPort, workerData } = require('node:worker_threads');
const h = require('node:crypto').createHash('sha256');
parentPort.on('message', (m) => {
  if (m.end) parentPort.postMessage({ digest: h.digest() });
  else {
    h.update(new Uint8Array(workerData.ring, m.off, m.len));
    parentPort.postMessage({ free: m.slot });
  }
});`;

type Reply = { free: number } | { digest: Uint8Array };

export class NarHashThread {
  private readonly ring = new SharedArrayBuffer(SLOT * SLOTS);
  private readonly worker: Worker;
  private readonly scanner: ReferenceScanner;
  private readonly free: number[] = [];
  private readonly waiting: (() => void)[] = [];
  private failure: Error | undefined;
  private done: ((digest: Uint8Array) => void) | undefined;
  private fail: ((e: Error) => void) | undefined;
  private ended = false;
  private narSize = 0;
  private contents = 0;

  constructor(
    private readonly fileSize: number,
    candidates: Iterable<string>,
    private readonly executable = false,
  ) {
    for (let i = 0; i < SLOTS; i++) this.free.push(i);
    this.scanner = new ReferenceScanner(candidates);
    this.worker = new Worker(WORKER, { eval: true, workerData: { ring: this.ring }, stdout: false, stderr: false });
    this.worker.on('message', (m: Reply) => {
      if ('free' in m) {
        this.free.push(m.free);
        this.waiting.shift()?.();
      } else {
        this.ended = true;
        this.done?.(m.digest);
      }
    });
    this.worker.on('error', (e) => this.abort(e));
    this.worker.on('exit', (code) => {
      if (!this.ended) this.abort(new Error(`internal error: the NAR hash thread exited (${code}) before its result`));
    });
    this.queue = this.feed(narFileHead(fileSize, executable));
  }

  /** The feeds in order: each starts when the previous one has copied all its bytes. */
  private queue: Promise<void>;

  private abort(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w();
    this.fail?.(this.failure);
  }

  private async slot(): Promise<number> {
    for (;;) {
      if (this.failure) throw this.failure;
      const s = this.free.pop();
      if (s !== undefined) return s;
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  /** Scans the bytes here and sends them to the hash thread, in order. */
  private async feed(c: Uint8Array): Promise<void> {
    this.scanner.update(c);
    this.narSize += c.length;
    for (let off = 0; off < c.length; off += SLOT) {
      const part = c.subarray(off, off + SLOT);
      const slot = await this.slot();
      new Uint8Array(this.ring, slot * SLOT, part.length).set(part);
      this.worker.postMessage({ slot, off: slot * SLOT, len: part.length });
    }
  }

  /**
   * The next bytes of the file's contents; resolves once they are copied (the caller may then
   * reuse `chunk`). Calls may overlap: chunks are hashed in the order of the calls.
   */
  update(chunk: Uint8Array): Promise<void> {
    this.contents += chunk.length;
    if (this.contents > this.fileSize) return Promise.reject(new Error(`internal error: NarHashThread got more than the ${this.fileSize} bytes announced`));
    const p = this.queue.then(() => this.feed(chunk));
    this.queue = p;
    return p;
  }

  /** The NAR hash, size and references of everything given; ends the thread. */
  async finish(): Promise<HashedOutput> {
    try {
      await this.queue;
      if (this.contents !== this.fileSize) throw new Error(`internal error: NarHashThread got ${this.contents} bytes, not the ${this.fileSize} announced`);
      await this.feed(narFileTail(this.fileSize));
      if (this.failure) throw this.failure;
      const digest = new Promise<Uint8Array>((res, rej) => {
        this.done = res;
        this.fail = rej;
      });
      this.worker.postMessage({ end: true });
      return { narHash: Buffer.from(await digest), narSize: this.narSize, references: this.scanner.result(), fileSize: this.fileSize, executable: this.executable };
    } finally {
      await this.close();
    }
  }

  /** Stops the thread (after finish, or when the build fails). */
  async close(): Promise<void> {
    this.ended = true;
    await this.worker.terminate();
  }
}
