// cli/cmd-push: `imgeval push RESULT docker://HOST/NAME[:TAG] [--tls-verify=false] [--creds U:P]
// [--image NAME:TAG]`: uploads the image RESULT holds (a docker-archive, an OCI layout
// directory or an OCI archive; a `result` link is followed) to a registry natively over the OCI
// distribution API, skipping blobs the registry already has, and prints the manifest digest on
// stdout (what was uploaded and skipped on stderr). Credentials: --creds, else the user's auth
// files ($REGISTRY_AUTH_FILE, containers auth.json, ~/.docker/config.json).

import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ImgError } from '../base/error.js';
import { lookupCredentials, parseCredentials } from '../image/registry/auth.js';
import { openPushSource } from '../image/registry/push-source.js';
import { pushImage } from '../image/registry/push.js';
import { formatReference, parseReference } from '../image/registry/reference.js';
import { UsageError, flagSet, flagValue, parseArgs } from './args.js';
import type { IO } from './io.js';
import type { Command } from './main.js';

const USAGE = `usage: imgeval push RESULT docker://[HOST/]NAME[:TAG] [--tls-verify=false] [--creds USER:PASSWORD]
                    [--image NAME:TAG] [--digestfile FILE] [-q]

Uploads the image in RESULT (a docker-archive such as the 'result' of buildImage or pullImage,
an OCI layout directory, or an OCI archive) to a registry with the OCI distribution API, without
writing any tarball: blobs the registry already has are skipped, the others are streamed from
RESULT. Prints the manifest digest (sha256:…) on stdout.
  --tls-verify=false  accept a self-signed certificate, or talk plain HTTP (for a local registry)
  --creds USER:PASS   credentials (default: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
                      ~/.config/containers/auth.json, ~/.docker/config.json, as skopeo/docker login write them)
  --image NAME:TAG    which image of a multi-image archive (default: the first)
  --digestfile FILE   also write the manifest digest to FILE
  -q                  print only the digest
Docker-archive layers are pushed uncompressed (media type application/vnd.oci.image.layer.v1.tar,
digest = diffID) in an OCI manifest; an OCI layout is pushed as it is (same manifest digest).`;

const fmtBytes = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

export const command: Command = {
  summary: 'upload an image (docker-archive or OCI) to a registry; prints the manifest digest',
  usage: USAGE,
  async run(argv: string[], io: IO): Promise<number> {
    const p = parseArgs(argv, {
      '--tls-verify': { arity: 1 },
      '--creds': { arity: 1 },
      '--image': { arity: 1 },
      '--digestfile': { arity: 1 },
      '--quiet': { arity: 0, aliases: ['-q'] },
    });
    if (p.positional.length !== 2) throw new UsageError(`push takes RESULT and a destination docker://HOST/NAME:TAG (see 'imgeval push --help')`);
    const [source, dest] = p.positional as [string, string];
    if (!dest.startsWith('docker://')) throw new UsageError(`the destination must be a docker:// reference, got '${dest}'`);
    const tlsText = flagValue(p, '--tls-verify') ?? 'true';
    if (tlsText !== 'true' && tlsText !== 'false') throw new UsageError(`--tls-verify takes true or false, got '${tlsText}'`);
    const ref = parseReference(dest);
    const credsText = flagValue(p, '--creds');
    const credentials = credsText !== undefined ? parseCredentials(credsText) : lookupCredentials(ref.registry, ref.repository, process.env);
    let path: string;
    try {
      path = realpathSync(resolve(source));
    } catch {
      throw new ImgError('E_ARCHIVE', `'${source}' does not exist`);
    }
    const work = mkdtempSync(join(tmpdir(), 'imgeval-push-'));
    try {
      const imageRef = flagValue(p, '--image');
      const img = await openPushSource(path, { workDir: work, ...(imageRef ? { ref: imageRef } : {}) });
      const quiet = flagSet(p, '--quiet');
      const started = Date.now();
      const r = await pushImage(img, ref, {
        tlsVerify: tlsText === 'true',
        ...(credentials ? { credentials } : {}),
        onEvent: (e) => {
          if (quiet) return;
          if (e.kind === 'skip') io.err(`skipped ${e.digest} (${fmtBytes(e.size)}, already in the registry)\n`);
          else if (e.kind === 'upload') io.err(`uploading ${e.digest} (${fmtBytes(e.size)})\n`);
        },
      });
      if (!quiet) {
        const up = r.uploaded.reduce((a, b) => a + b.size, 0);
        io.err(`pushed ${formatReference({ registry: ref.registry, repository: ref.repository, ...(ref.tag !== undefined ? { tag: ref.tag } : {}) })}: ${r.uploaded.length} blob(s) uploaded (${fmtBytes(up)}), ${r.skipped.length} skipped, in ${((Date.now() - started) / 1000).toFixed(2)} s\n`);
      }
      const df = flagValue(p, '--digestfile');
      if (df) (await import('node:fs')).writeFileSync(df, r.manifestDigest);
      io.out(`${r.manifestDigest}\n`);
      return 0;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
