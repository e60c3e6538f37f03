// pullImage's arguments (no registry needed): the derivation it makes (fixed-output, flat
// sha256 from `sha256` in hex or Nix base32 or from an SRI `hash`, nixpkgs' store name with `/`
// and `:` replaced, passthru imageName/imageTag/imageDigest, no credentials anywhere), the same
// drv through `dockerTools.pullImage`, and each argument error as one Nix-style message.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SourceFile } from '../../src/base/source.js';
import { isImgError } from '../../src/base/error.js';
import { Attrs, force, isString, strOf, type Value } from '../../src/eval/value.js';
import { openSession, tempStore } from '../image-build/helpers.js';

const test = suite('pullImage arguments');
const store = tempStore('imgeval-pullargs-');
const session = openSession(store.root);
const D = 'sha256:' + 'ab'.repeat(32);
const HEX = 'cd'.repeat(32);

function ev(expr: string): Value {
  return force(session.state.evalSource(new SourceFile('(string)', expr, '/')));
}
function attr(v: Value, k: string): string {
  const x = force((v as Attrs).m.get(k)!);
  assert.ok(isString(x), k);
  return strOf(x);
}
function fails(expr: string, re: RegExp): void {
  try {
    const v = ev(expr);
    attr(v, 'drvPath');
  } catch (e) {
    assert.ok(isImgError(e), String(e));
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`no error for ${expr}`);
}

test.after(() => {
  session.close();
  store.cleanup();
});

test('a fixed-output derivation with nixpkgs names and passthru', () => {
  const v = ev(`pullImage { imageName = "quay.io/coreos/etcd"; imageDigest = "${D}"; sha256 = "${HEX}"; finalImageTag = "v3"; }`);
  assert.is(attr(v, 'name'), 'docker-image-quay.io-coreos-etcd-v3.tar');
  assert.is(attr(v, 'outputHashMode'), 'flat');
  assert.is(attr(v, 'outputHashAlgo'), 'sha256');
  assert.is(attr(v, 'outputHash'), HEX);
  assert.is(attr(v, 'builder'), 'builtin:pull-image');
  assert.is(attr(v, 'imageName'), 'quay.io/coreos/etcd');
  assert.is(attr(v, 'imageTag'), 'v3');
  assert.is(attr(v, 'imageDigest'), D);
  assert.is(force((v as Attrs).m.get('tlsVerify')!), true);
  const sri = 'sha256-' + Buffer.from(HEX, 'hex').toString('base64');
  const w = ev(`pullImage { imageName = "quay.io/coreos/etcd"; imageDigest = "${D}"; hash = "${sri}"; finalImageTag = "v3"; tlsVerify = false; name = "etcd.tar"; }`);
  assert.is(attr(w, 'outputHashAlgo'), '');
  assert.is(force((w as Attrs).m.get('tlsVerify')!), false);
  assert.is(attr(w, 'name'), 'etcd.tar');
  const viaSet = ev(`(dockerTools.pullImage { imageName = "quay.io/coreos/etcd"; imageDigest = "${D}"; sha256 = "${HEX}"; finalImageTag = "v3"; }).drvPath`);
  assert.is(strOf(viaSet as never), attr(v, 'drvPath'));
  const b32 = ev(`(pullImage { imageName = "quay.io/coreos/etcd"; imageDigest = "${D}"; sha256 = "${HEX}"; finalImageTag = "v3"; }).outPath == (pullImage { imageName = "quay.io/coreos/etcd"; imageDigest = "${D}"; hash = "${sri}"; finalImageTag = "v3"; }).outPath`);
  assert.is(b32, true);
});

test('argument errors', () => {
  fails(`pullImage { imageName = "a"; imageDigest = "latest"; sha256 = "${HEX}"; }`, /pullImage: 'imageDigest' must be a manifest digest 'sha256:<64 hex digits>' \(tags are not accepted\), but is "latest"/);
  fails(`pullImage { imageName = "a"; imageDigest = "${D}"; }`, /pullImage: give the archive's hash as 'sha256' or 'hash' \(run `imgeval prefetch-image a@sha256:/);
  fails(`pullImage { imageName = "a"; imageDigest = "${D}"; sha256 = "${HEX}"; hash = "sha256-x"; }`, /give only one of 'sha256' and 'hash'/);
  fails(`pullImage { imageName = "a"; imageDigest = "${D}"; sha256 = "${HEX}"; tlsVerify = "no"; }`, /'tlsVerify' must be a Boolean, but is the string "no"/);
  fails(`pullImage { imageName = 1; imageDigest = "${D}"; sha256 = "${HEX}"; }`, /'finalImageName' must be a string|'imageName' must be a string/);
  fails(`pullImage { imageName = "a"; imageDigest = "${D}"; sha256 = "${HEX}"; creds = "u:p"; }`, /unexpected argument 'creds'|does not expect an argument named 'creds'|creds/);
});

test.run();
