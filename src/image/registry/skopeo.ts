// image/registry/skopeo: runs skopeo (execa) for pulls: `skopeo copy docker://NAME@DIGEST
// docker-archive:OUT:FINAL` with nixpkgs' pullImage flags, and `skopeo inspect` for the digest of
// a tag. skopeo reads the user's registry configuration and credentials itself
// ($REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json, ~/.docker/config.json), so none
// pass through imgeval. Its failures become one-line ImgErrors (missing skopeo → how to install
// it; unknown digest, unreachable registry, missing credentials → said plainly). Never prints.

import { execa } from 'execa';
import { ImgError } from '../../base/error.js';

export interface PullSpec {
  /** `HOST/NAME` or `NAME` (docker.io), as skopeo's docker:// transport takes it. */
  readonly imageName: string;
  readonly imageDigest: string;
  readonly os: string;
  readonly arch: string;
  readonly tlsVerify: boolean;
}

const INSTALL = 'install it with `apt-get install skopeo` (Debian/Ubuntu), `dnf install skopeo` or `brew install skopeo`';

function explain(stderr: string, what: string, spec: { imageName: string; tlsVerify: boolean }): ImgError {
  const lines = stderr.split('\n').map((l) => l.replace(/^time="[^"]*" level=\w+ msg="(.*)"$/, (_m, msg: string) => msg.replace(/\\(.)/g, '$1')).trim()).filter(Boolean);
  const last = lines[lines.length - 1] ?? 'no output';
  const host = spec.imageName.split('/')[0]!;
  if (/manifest unknown|MANIFEST_UNKNOWN|not found|NAME_UNKNOWN/i.test(stderr) && !/no such host/i.test(stderr)) {
    return new ImgError('E_PULL', `${what}: the registry has no such image (${last})`, undefined, [
      { message: 'check imageName and imageDigest (a manifest digest: `skopeo inspect docker://NAME:TAG` shows it as "Digest")' },
    ]);
  }
  if (/unauthorized|authentication required|denied|401/i.test(stderr)) {
    return new ImgError('E_PULL', `${what}: the registry needs credentials (${last})`, undefined, [
      { message: `log in with \`skopeo login ${host}\` (or podman/docker login, or set REGISTRY_AUTH_FILE): pullImage uses skopeo's own auth files, credentials never go into a derivation` },
    ]);
  }
  if (/connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|no route to host/i.test(stderr)) {
    return new ImgError('E_PULL', `${what}: cannot reach the registry '${host}' (${last})`);
  }
  if (/http: server gave HTTP response to HTTPS client|x509|certificate/i.test(stderr) && spec.tlsVerify) {
    return new ImgError('E_PULL', `${what}: TLS failed (${last})`, undefined, [{ message: 'for a plain-HTTP or self-signed registry set tlsVerify = false' }]);
  }
  return new ImgError('E_PULL', `${what}: skopeo failed: ${last}`);
}

async function skopeo(args: string[], what: string, spec: { imageName: string; tlsVerify: boolean }, signal?: AbortSignal): Promise<string> {
  const r = await execa('skopeo', args, { reject: false, stdin: 'ignore', ...(signal ? { cancelSignal: signal } : {}) });
  if ((r as { code?: string }).code === 'ENOENT') {
    throw new ImgError('E_PULL', `${what}: 'skopeo' is not installed (pulling images runs skopeo)`, undefined, [{ message: INSTALL }]);
  }
  if (r.exitCode !== 0) throw explain(String(r.stderr ?? ''), what, spec);
  return String(r.stdout ?? '');
}

/** `skopeo copy` of NAME@DIGEST into a docker-archive at `out` tagged `finalRef`. */
export async function skopeoPull(spec: PullSpec, out: string, finalRef: string, tmpDir: string, signal?: AbortSignal): Promise<void> {
  await skopeo(
    [
      '--insecure-policy', `--tmpdir=${tmpDir}`, '--override-os', spec.os, '--override-arch', spec.arch,
      'copy', '-q', `--src-tls-verify=${spec.tlsVerify}`,
      `docker://${spec.imageName}@${spec.imageDigest}`, `docker-archive:${out}:${finalRef}`,
    ],
    `pulling '${spec.imageName}@${spec.imageDigest}'`,
    spec,
    signal,
  );
}

/** The manifest digest `ref` (NAME:TAG or NAME@DIGEST) has in the registry, for the platform. */
export async function skopeoDigest(ref: string, opts: { os: string; arch: string; tlsVerify: boolean }): Promise<string> {
  const out = await skopeo(
    ['--override-os', opts.os, '--override-arch', opts.arch, 'inspect', `--tls-verify=${opts.tlsVerify}`, '--format', '{{.Digest}}', `docker://${ref}`],
    `inspecting '${ref}'`,
    { imageName: ref, tlsVerify: opts.tlsVerify },
  );
  const d = out.trim();
  if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw new ImgError('E_PULL', `inspecting '${ref}': skopeo reported no digest ('${d}')`);
  return d;
}
