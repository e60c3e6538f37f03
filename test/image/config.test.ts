// Config and JSON byte styles held against the real tools: Python's json.dumps(indent=4) for
// the streamLayeredImage style, jq for the buildImage style, and skopeo's Go re-marshalling for
// the 'go' style (the config digest survives docker-archive → OCI layout). Also image
// references and GOARCH names.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '../../src/base/error.js';
import { chainIDs, epochSeconds, makeImageConfig, pythonIsoTime, storePathsComment, type ImageConfigInput } from '../../src/image/config.js';
import { goArch, repoTag } from '../../src/image/image.js';
import { writeDockerArchive } from '../../src/image/docker-archive.js';
import { needTool } from '../helpers/tools.js';
import { BUSYBOX_PATH, makeStore, tempDir } from './helpers.js';
import { storePathSources, writeLayer } from '../../src/image/layer.js';

const test = suite('image/config');
const bin = (s: string) => Buffer.from(s, 'utf8').toString('latin1'); // Nix strings are bytes

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const input: ImageConfigInput = {
  architecture: 'amd64',
  created: '1970-01-01T00:00:01Z',
  config: {
    Cmd: ['/bin/sh', '-c', bin('echo "héllo" && cat <in >out\tdone\u2028')],
    Env: ['PATH=/bin', bin('GREETING=grüß')],
    ExposedPorts: { '80/tcp': {}, '443/tcp': {} },
    Labels: { zeta: '1', alpha: bin('ü') },
    WorkingDir: '/srv',
    User: '1000:1000',
    Volumes: { '/data': {} },
    Entrypoint: [],
  },
  diffIDs: [D1, D2],
};

test('streamLayeredImage style = Python json.dumps(indent=4) of the same dict', () => {
  const c = makeImageConfig({ ...input, created: pythonIsoTime(input.created) }, 'streamLayeredImage');
  const py = execFileSync('python3', ['-c', 'import json,sys; d=json.loads(sys.stdin.buffer.read()); sys.stdout.write(json.dumps(d, indent=4))'], { input: c.bytes });
  assert.ok(py.equals(c.bytes), `${py}\n---\n${c.bytes}`);
  const text = c.bytes.toString('utf8');
  assert.ok(text.startsWith('{\n    "created": "1970-01-01T00:00:01+00:00",\n    "architecture": "amd64",\n    "os": "linux",\n    "config": {\n        "Cmd"'));
});

test('buildImage style = jq pretty-printing of the same document (key order kept)', () => {
  if (!needTool('jq style check', 'jq')) return;
  const c = makeImageConfig(input, 'buildImage');
  const jq = execFileSync('jq', ['.'], { input: c.bytes });
  assert.ok(jq.equals(c.bytes), `${jq}\n---\n${c.bytes}`);
  const keys = Object.keys(JSON.parse(c.bytes.toString('utf8')));
  assert.equal(keys, ['architecture', 'config', 'created', 'os', 'preferLocalBuild', 'rootfs', 'history']);
  const noCfg = JSON.parse(makeImageConfig({ ...input, config: null }, 'buildImage').bytes.toString('utf8'));
  assert.equal(noCfg.config, { Env: [] });
});

test("go style: skopeo's conversion to an OCI layout keeps the config bytes (same image ID)", async () => {
  if (!needTool('go style round trip', 'skopeo')) return;
  const s = makeStore();
  const t = tempDir();
  try {
    const l = await writeLayer({ sources: storePathSources([BUSYBOX_PATH], s), mtime: 1 }, join(t.dir, 'l.tar'));
    const config = makeImageConfig({ ...input, diffIDs: [l.diffID], history: [{ created: input.created, created_by: 'imgeval & co', comment: 'c' }] }, 'go');
    const text = config.bytes.toString('utf8');
    assert.ok(text.startsWith('{"created":"1970-01-01T00:00:01Z","architecture":"amd64","os":"linux","config":{"User":"1000:1000","ExposedPorts":{"443/tcp":{},"80/tcp":{}},"Env":'));
    assert.ok(text.includes('\\u0026\\u0026 cat \\u003cin \\u003eout\\tdone\\u2028'));
    assert.not.ok(text.includes('Entrypoint'), 'empty fields are omitted (omitempty)');
    const a = await writeDockerArchive(join(t.dir, 'a.tar'), [{ repoTags: ['x:1'], config, layers: [l] }], { layout: 'streamLayeredImage', mtime: 1 });
    mkdirSync(join(t.dir, 'xdg'), { mode: 0o700 });
    const env = { ...process.env, HOME: t.dir, TMPDIR: t.dir, XDG_RUNTIME_DIR: join(t.dir, 'xdg') };
    execFileSync('skopeo', ['--insecure-policy', 'copy', '-q', `docker-archive:${a.path}`, `oci:${join(t.dir, 'oci')}:x`], { env, stdio: 'pipe' });
    const index = JSON.parse(readFileSync(join(t.dir, 'oci', 'index.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(t.dir, 'oci', 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
    assert.is(manifest.config.digest, config.digest);
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('times, chain IDs, references and GOARCH', () => {
  assert.is(pythonIsoTime('1970-01-01T00:00:01Z'), '1970-01-01T00:00:01+00:00');
  assert.is(pythonIsoTime('2024-05-06T07:08:09+0200'), '2024-05-06T07:08:09+02:00');
  assert.is(epochSeconds('1970-01-01T00:00:01Z'), 1);
  assert.is(epochSeconds('1980-01-01T00:00:00Z'), 315532800);
  // the reference example in formats-and-oracles.md §1.1
  assert.equal(chainIDs(['sha256:1150c25e8404dcc14f3cd2e08bb7f83d1cb7c2cea8cad5928a510f30f1fc60ce', 'sha256:a30f1183b88e79a622e8c700622b9978b3147021f0b00ab31f409920a5b78521'])[1], 'sha256:6360268c8731b298d9f116a4c3eecc16d877635e0ad862f8a8fd2f3c9fcec03a');
  assert.is(repoTag('Registry-1.Docker.io/Image', 'v1.0'), 'registry-1.docker.io/image:v1.0');
  assert.is(repoTag('localhost:5000/a/b', 'latest'), 'localhost:5000/a/b:latest');
  assert.throws(() => repoTag('a b', 'x'), (e: unknown) => e instanceof ImgError && /not a valid image name/.test(e.message));
  assert.throws(() => repoTag('ok', '-bad'), (e: unknown) => e instanceof ImgError && /not a valid image tag/.test(e.message));
  assert.is(goArch('x64'), 'amd64');
  assert.is(goArch('arm64'), 'arm64');
});

test.run();

const t2 = suite('image/config history comment');
t2('storePathsComment = "store paths: " + Python repr of the list', () => {
  const paths = ['/nix/store/aaa-x', "/nix/store/bbb-it's", '/nix/store/ccc-back\\slash'];
  const py = execFileSync('python3', ['-c', 'import json,sys; print("store paths: " + repr(json.loads(sys.stdin.read())), end="")'], { input: JSON.stringify(paths), encoding: 'utf8' });
  assert.is(storePathsComment(paths), py);
  assert.is(storePathsComment([]), 'store paths: []');
});
t2.run();
