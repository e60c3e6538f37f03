// cli/progress: renders the build scheduler's events. On a TTY: one live status line
// ("building hello (3/17 done, 2 running)") rewritten in place, with finished and failed
// derivations printed above it; otherwise plain lines ("building '/nix/store/…drv'…"), one per
// event that matters. Writes only to the stream it is given (stderr).

import type { BuildEvent } from '../build/scheduler.js';

export interface ProgressOptions {
  write: (s: string) => void;
  tty: boolean;
  /** Also print every log line of the builders (`-L`, `--print-build-logs`). */
  printLogs?: boolean;
}

export class Progress {
  private total = 0;
  private done = 0;
  private readonly running = new Map<string, string>();
  private lineShown = false;
  private lastDraw = 0;

  constructor(private readonly opts: ProgressOptions) {}

  readonly onEvent = (e: BuildEvent): void => {
    switch (e.type) {
      case 'plan': {
        this.total = e.build.length + e.check.length;
        if (e.build.length) this.print(`${e.build.length === 1 ? 'this derivation' : `these ${e.build.length} derivations`} will be built:\n${e.build.map((p) => `  ${p}\n`).join('')}`);
        if (e.check.length) this.print(`${e.check.length === 1 ? 'this derivation' : `these ${e.check.length} derivations`} will be checked:\n${e.check.map((p) => `  ${p}\n`).join('')}`);
        break;
      }
      case 'start':
        this.running.set(e.drvPath, e.name);
        if (!this.opts.tty) this.print(`${e.mode === 'check' ? 'checking' : 'building'} '${e.drvPath}'...\n`);
        break;
      case 'log':
        if (this.opts.printLogs) this.print(`${this.running.get(e.drvPath) ?? e.drvPath}> ${e.line}\n`);
        break;
      case 'done':
        this.running.delete(e.drvPath);
        this.done++;
        if (!e.builtHere) this.print(`'${e.drvPath}' was built by another process\n`);
        break;
      case 'failed':
        this.running.delete(e.drvPath);
        this.done++;
        this.print(`failed: '${e.drvPath}'\n`);
        break;
      case 'skipped':
        this.running.delete(e.drvPath);
        this.done++;
        if (!this.opts.tty) this.print(`not building '${e.drvPath}': ${e.reason}\n`);
        break;
    }
    this.draw(e.type !== 'log');
  };

  private status(): string {
    const names = [...this.running.values()];
    const what = names.length ? `building ${names.slice(0, 2).join(', ')}${names.length > 2 ? ', ...' : ''}` : 'waiting';
    return `${what} (${this.done}/${this.total} done, ${this.running.size} running)`;
  }

  private clear(): void {
    if (this.lineShown) {
      this.opts.write('\r\x1b[K');
      this.lineShown = false;
    }
  }

  private print(s: string): void {
    this.clear();
    this.opts.write(s);
  }

  private draw(force: boolean): void {
    if (!this.opts.tty || this.total === 0) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.clear();
    const cols = process.stderr.columns || 80;
    this.opts.write(this.status().slice(0, cols - 1));
    this.lineShown = true;
  }

  /** Removes the live line (before printing results or errors). */
  finish(): void {
    this.clear();
  }
}
