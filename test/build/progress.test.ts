// The CLI's progress display fed with scheduler events: plain lines when stderr is not a TTY;
// on a TTY a live status line ("building X (n/N done, k running)") redrawn in place, cleared
// before other output and at the end.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ImgError } from '../../src/base/error.js';
import { Progress } from '../../src/cli/progress.js';

const test = suite('build/progress');
const A = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a.drv';
const B = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b.drv';

function feed(tty: boolean): string {
  let s = '';
  const p = new Progress({ write: (x) => (s += x), tty });
  p.onEvent({ type: 'plan', build: [A, B], check: [] });
  p.onEvent({ type: 'start', drvPath: A, name: 'a', mode: 'build', builder: '/bin/sh', logFile: '/x' });
  p.onEvent({ type: 'log', drvPath: A, line: 'hello' });
  p.onEvent({ type: 'done', drvPath: A, name: 'a', mode: 'build', builtHere: true });
  p.onEvent({ type: 'start', drvPath: B, name: 'b', mode: 'build', builder: 'builtin:write-text', logFile: '/y' });
  p.onEvent({ type: 'failed', drvPath: B, name: 'b', error: new ImgError('E_BUILD', 'boom') });
  p.finish();
  return s;
}

test('plain lines without a TTY', () => {
  assert.is(
    feed(false),
    `these 2 derivations will be built:\n  ${A}\n  ${B}\nbuilding '${A}'...\nbuilding '${B}'...\nfailed: '${B}'\n`,
  );
});

test('a live status line on a TTY', () => {
  const s = feed(true);
  assert.ok(s.includes('building a (0/2 done, 1 running)'), s);
  assert.ok(s.includes('building b (1/2 done, 1 running)'), s);
  assert.ok(s.includes(`\r\x1b[Kfailed: '${B}'\n`), s);
  assert.ok(s.endsWith('\r\x1b[K'), 'the live line is cleared at the end');
  assert.not.ok(s.includes('hello'), 'logs are not shown without -L');
});

test.run();
