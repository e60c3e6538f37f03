// cli/cmd-prefetch-image: `imgeval prefetch-image NAME[:TAG|@DIGEST]`, like nix-prefetch-docker:
// finds the manifest digest of a tag (skopeo inspect), pulls the image by digest into a temp dir,
// normalises it exactly as builtin:pull-image does, hashes the archive and prints the
// `pullImage { … }` attribute set to paste (hash in SRI form), or JSON with --json. Progress
// lines go to stderr. Nothing is added to the store: the build pulls again.

import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toSRI } from '../base/hash.js';
import { goArch, repoTag } from '../image/image.js';
import { normaliseDockerArchive } from '../image/registry/normalise.js';
import { parseReference } from '../image/registry/reference.js';
import { skopeoDigest, skopeoPull } from '../image/registry/skopeo.js';
import { UsageError, flagSet, flagValue, parseArgs } from './args.js';
import type { IO } from './io.js';
import type { Command } from './main.js';

const USAGE = `usage: imgeval prefetch-image NAME[:TAG|@DIGEST] [--os OS] [--arch ARCH] [--tls-verify=false]
                              [--final-image-name NAME] [--final-image-tag TAG] [--json] [-q]

Pulls an image (skopeo; a tag is resolved to its manifest digest first), writes it as pullImage
does and prints the pullImage { … } arguments to paste, with the archive's hash in SRI form:
  pullImage {
    imageName = "…"; imageDigest = "sha256:…"; hash = "sha256-…";
    finalImageName = "…"; finalImageTag = "…";
  }
  --os, --arch        platform to select from a multi-platform image (default linux and the host's)
  --tls-verify=false  allow a plain-HTTP or self-signed registry (adds tlsVerify = false)
  --json              print a JSON object instead
Credentials come from skopeo's auth files (skopeo login HOST).`;

const nixString = (s: string) => `"${s.replace(/[\\"$]/g, (c) => (c === '$' ? '\\$' : `\\${c}`))}"`;

export const command: Command = {
  summary: 'pull an image by tag or digest and print the pullImage { … } arguments (digest and hash)',
  usage: USAGE,
  async run(argv: string[], io: IO): Promise<number> {
    const p = parseArgs(argv, {
      '--os': { arity: 1 },
      '--arch': { arity: 1 },
      '--tls-verify': { arity: 1 },
      '--final-image-name': { arity: 1 },
      '--final-image-tag': { arity: 1 },
      '--json': { arity: 0 },
      '--quiet': { arity: 0, aliases: ['-q'] },
    });
    if (p.positional.length !== 1) throw new UsageError(`prefetch-image takes one image reference NAME[:TAG|@DIGEST]`);
    const text = p.positional[0]!.replace(/^docker:\/\//, '');
    const ref = parseReference(text); // checks the syntax
    const at = text.indexOf('@');
    const beforeDigest = at >= 0 ? text.slice(0, at) : text;
    const colon = beforeDigest.lastIndexOf(':');
    const imageName = colon > beforeDigest.lastIndexOf('/') ? beforeDigest.slice(0, colon) : beforeDigest;
    const tlsText = flagValue(p, '--tls-verify') ?? 'true';
    if (tlsText !== 'true' && tlsText !== 'false') throw new UsageError(`--tls-verify takes true or false, got '${tlsText}'`);
    const tlsVerify = tlsText === 'true';
    const os = flagValue(p, '--os') ?? 'linux';
    const arch = flagValue(p, '--arch') ?? goArch(process.arch);
    const quiet = flagSet(p, '--quiet');
    const say = (s: string) => void (quiet ? undefined : io.err(`${s}\n`));

    const imageDigest = ref.digest ?? (await skopeoDigest(`${imageName}:${ref.tag ?? 'latest'}`, { os, arch, tlsVerify }));
    if (!ref.digest) say(`${imageName}:${ref.tag ?? 'latest'} is ${imageDigest}`);
    const finalImageName = flagValue(p, '--final-image-name') ?? imageName;
    const finalImageTag = flagValue(p, '--final-image-tag') ?? ref.tag ?? 'latest';
    const finalRef = repoTag(finalImageName, finalImageTag);
    const work = mkdtempSync(join(tmpdir(), 'imgeval-prefetch-'));
    try {
      say(`pulling ${imageName}@${imageDigest}`);
      await skopeoPull({ imageName, imageDigest, os, arch, tlsVerify }, join(work, 'pulled.tar'), finalRef, work);
      const out = join(work, 'image.tar');
      const w = await normaliseDockerArchive(join(work, 'pulled.tar'), out, finalRef, join(work, 'normalise'));
      const h = createHash('sha256');
      for await (const c of createReadStream(out)) h.update(c as Buffer);
      const hash = toSRI('sha256', h.digest());
      say(`image ${w.configDigest}, ${w.diffIDs.length} layer(s), archive ${w.size} bytes, ${hash}`);
      const attrs: [string, string | boolean][] = [
        ['imageName', imageName],
        ['imageDigest', imageDigest],
        ['hash', hash],
        ['finalImageName', finalImageName],
        ['finalImageTag', finalImageTag],
      ];
      if (os !== 'linux') attrs.push(['os', os]);
      if (flagValue(p, '--arch') !== undefined) attrs.push(['arch', arch]);
      if (!tlsVerify) attrs.push(['tlsVerify', false]);
      if (flagSet(p, '--json')) io.out(`${JSON.stringify(Object.fromEntries(attrs), null, 2)}\n`);
      else io.out(`{\n${attrs.map(([k, v]) => `  ${k} = ${typeof v === 'boolean' ? String(v) : nixString(v)};\n`).join('')}}\n`);
      return 0;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
