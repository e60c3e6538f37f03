// image/config: the image config JSON (Docker image spec v1.2 / OCI config) and its digest (the
// image ID), in three byte styles: 'go' (compact, Go struct field order, empty fields omitted:
// survives skopeo's re-marshalling, so the image ID is the same in docker-archive, OCI layout and
// registry), 'buildImage' (nixpkgs buildImage: jq, 2 spaces, sorted user config,
// preferLocalBuild) and 'streamLayeredImage' (nixpkgs stream_layered_image.py: Python indent 4).
// Also Env inheritance from a base image and the `created` time forms. Pure: no IO, no clock.

import { sha256, toHex } from '../base/hash.js';
import { ImgError } from '../base/error.js';
import { type JsonObject, type JsonStyle, type JsonValue, Ordered, jsonBytes, ordered, sortKeysDeep } from './json.js';

export type ConfigStyle = 'go' | 'buildImage' | 'streamLayeredImage';

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

export interface ImageConfigInput {
  readonly architecture: string;
  /** Default `linux` (dockerTools hard-codes it). */
  readonly os?: string;
  /** As written, e.g. `1970-01-01T00:00:01Z` (see `pythonIsoTime` for the stream style). */
  readonly created: string;
  /** The container config (`Cmd`, `Env`, `Entrypoint`, …) as the user gave it; null = none. */
  readonly config: JsonObject | null;
  /** `sha256:<hex>` of each uncompressed layer, bottom → top. */
  readonly diffIDs: readonly string[];
  /** Default: one `{created}` per layer. */
  readonly history?: readonly HistoryEntry[];
  readonly author?: string;
  readonly variant?: string;
}

export interface ImageConfig {
  /** The exact bytes of the config file. */
  readonly bytes: Buffer;
  /** `sha256:<hex>` of `bytes`: the image ID. */
  readonly digest: string;
}

// Go struct field order (opencontainers/image-spec specs-go/v1 ImageConfig, then the Docker
// schema2 fields that the OCI struct lacks, in moby's container.Config order).
const GO_CONFIG_ORDER = [
  'User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped',
  'Hostname', 'Domainname', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce',
  'Healthcheck', 'Image', 'NetworkDisabled', 'MacAddress', 'OnBuild', 'StopTimeout', 'Shell',
  'Memory', 'MemorySwap', 'CpuShares',
];
const GO_MAP_FIELDS = new Set(['ExposedPorts', 'Volumes', 'Labels']);
const HEALTHCHECK_ORDER = ['Test', 'Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'];

const isEmpty = (v: JsonValue): boolean =>
  v === null ||
  v === '' ||
  v === false ||
  v === 0 ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && !Array.isArray(v) && (v instanceof Ordered ? v.entries.length === 0 : Object.keys(v).length === 0));

function byKey(a: [string, JsonValue], b: [string, JsonValue]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function entries(o: JsonObject | Ordered): [string, JsonValue][] {
  return o instanceof Ordered ? o.entries : Object.entries(o);
}

/** The container config in Go field order with Go's omitempty; unknown keys follow, sorted. */
function goContainerConfig(c: JsonObject): Ordered {
  const known: [string, JsonValue][] = [];
  for (const k of GO_CONFIG_ORDER) {
    if (!(k in c)) continue;
    let v = c[k]!;
    if (isEmpty(v)) continue;
    if (GO_MAP_FIELDS.has(k) && v && typeof v === 'object' && !Array.isArray(v)) v = new Ordered(entries(v).sort(byKey));
    if (k === 'Healthcheck' && v && typeof v === 'object' && !Array.isArray(v)) {
      const h = v as JsonObject;
      v = ordered(HEALTHCHECK_ORDER.filter((x) => x in h && !isEmpty(h[x]!)).map((x) => [x, h[x]!]));
    }
    known.push([k, v]);
  }
  const rest = Object.entries(c).filter(([k]) => !GO_CONFIG_ORDER.includes(k)).sort(byKey);
  return new Ordered([...known, ...rest]);
}

function historyList(input: ImageConfigInput): HistoryEntry[] {
  return input.history ? [...input.history] : input.diffIDs.map(() => ({ created: input.created }));
}

/** The config as a JSON value in `style`'s key order. */
export function imageConfigValue(input: ImageConfigInput, style: ConfigStyle): JsonValue {
  for (const d of input.diffIDs) {
    if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw new ImgError('E_IMAGE', `'${d}' is not a sha256 diffID`);
  }
  const os = input.os ?? 'linux';
  const diffIDs = [...input.diffIDs];
  const history = historyList(input);
  if (style === 'go') {
    return ordered([
      ['created', input.created],
      ['author', input.author || undefined],
      ['architecture', input.architecture],
      ['os', os],
      ['variant', input.variant || undefined],
      ['config', goContainerConfig(input.config ?? {})],
      ['rootfs', ordered([['type', 'layers'], ['diff_ids', diffIDs]])],
      [
        'history',
        history.map((h) =>
          ordered([
            ['created', h.created || undefined],
            ['created_by', h.created_by || undefined],
            ['author', h.author || undefined],
            ['comment', h.comment || undefined],
            ['empty_layer', h.empty_layer || undefined],
          ]),
        ),
      ],
    ]);
  }
  const hist = (h: HistoryEntry) => sortKeysDeep(h as unknown as JsonObject);
  if (style === 'buildImage') {
    // nixpkgs: builtins.toJSON {architecture, config, created, os, preferLocalBuild} (sorted),
    // then jq adds rootfs and history; `Env` is always present.
    const cfg = { ...(input.config ?? {}) };
    if (!('Env' in cfg)) cfg.Env = [];
    return ordered([
      ['architecture', input.architecture],
      ['config', sortKeysDeep(cfg)],
      ['created', input.created],
      ['os', os],
      ['preferLocalBuild', true],
      ['rootfs', ordered([['diff_ids', diffIDs], ['type', 'layers']])],
      ['history', history.map(hist)],
    ]);
  }
  // streamLayeredImage: Python dict order created, architecture, os, config, rootfs, history
  return ordered([
    ['created', input.created],
    ['architecture', input.architecture],
    ['os', os],
    ['config', sortKeysDeep(input.config ?? {})],
    ['rootfs', ordered([['diff_ids', diffIDs], ['type', 'layers']])],
    [
      'history',
      history.map((h) => ordered([['created', h.created], ['comment', h.comment], ['created_by', h.created_by], ['author', h.author]])),
    ],
  ]);
}

export function jsonStyleOf(style: ConfigStyle): JsonStyle {
  return style === 'go' ? 'go' : style === 'buildImage' ? 'jq' : 'python';
}

/** The config file bytes and digest (image ID). */
export function makeImageConfig(input: ImageConfigInput, style: ConfigStyle = 'go'): ImageConfig {
  const bytes = jsonBytes(imageConfigValue(input, style), jsonStyleOf(style));
  return { bytes, digest: `sha256:${toHex(sha256(bytes))}` };
}

/** `YYYY-MM-DDTHH:MM:SSZ` → Python's isoformat `…+00:00` (what stream_layered_image.py writes). */
export function pythonIsoTime(created: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.exec(created);
  if (!m) throw new ImgError('E_IMAGE', `'${created}' is not an ISO-8601 time`);
  const off = m[2] === 'Z' ? '+00:00' : m[2]!.includes(':') ? m[2]! : `${m[2]!.slice(0, 3)}:${m[2]!.slice(3)}`;
  return m[1]! + off;
}

/** Seconds since the epoch of an ISO-8601 time (`1970-01-01T00:00:01Z` → 1), for tar mtimes. */
export function epochSeconds(time: string): number {
  const ms = Date.parse(time);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(time)) throw new ImgError('E_IMAGE', `'${time}' is not an ISO-8601 time`);
  return Math.floor(ms / 1000);
}

/**
 * Env of a child image on top of a base: `concat` (buildImage: base then own, duplicates kept)
 * or `dedup` (streamLayeredImage: by variable name, last value wins at the first position).
 */
export function mergeEnv(base: readonly string[], own: readonly string[], mode: 'concat' | 'dedup'): string[] {
  if (mode === 'concat') return [...base, ...own];
  const pos = new Map<string, number>();
  const out: string[] = [];
  for (const e of [...base, ...own]) {
    const i = e.indexOf('=');
    const k = i < 0 ? e : e.slice(0, i);
    const at = pos.get(k);
    if (at === undefined) {
      pos.set(k, out.length);
      out.push(e);
    } else out[at] = e;
  }
  return out;
}

/**
 * The history comment stream_layered_image.py writes for a layer: `store paths: ` + Python's
 * repr of the list (`['/nix/store/a', '/nix/store/b']`).
 */
export function storePathsComment(paths: readonly string[]): string {
  const repr = (s: string) => {
    const b = s.replace(/\\/g, '\\\\');
    return s.includes("'") && !s.includes('"') ? `"${b}"` : `'${b.replace(/'/g, "\\'")}'`;
  };
  return `store paths: [${paths.map(repr).join(', ')}]`;
}

/** ChainID of layers bottom → top (Docker image spec: sha256 of "<chain> <diffID>"). */
export function chainIDs(diffIDs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${toHex(sha256(`${prev} ${d}`))}`);
  }
  return out;
}
