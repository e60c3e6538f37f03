// eval/corepkgs: the files Nix 2.8 builds in under `<nix/…>` (its "corepkgs"), found by
// `findFile` when no search-path entry has them. Only `fetchurl.nix` exists in 2.8: a
// fixed-output derivation with the built-in `builtin:fetchurl` builder.
// Never does IO.

export const COREPKGS_PREFIX = '/__corepkgs__/';

const FETCHURL = `
{ system ? ""
, url
, hash ? ""
, md5 ? "", sha1 ? "", sha256 ? "", sha512 ? ""
, outputHash ?
    if hash != "" then hash
    else if sha512 != "" then sha512
    else if sha1 != "" then sha1
    else if md5 != "" then md5
    else sha256
, outputHashAlgo ?
    if hash != "" then ""
    else if sha512 != "" then "sha512"
    else if sha1 != "" then "sha1"
    else if md5 != "" then "md5"
    else "sha256"
, executable ? false
, unpack ? false
, name ? baseNameOf (toString url)
}:
derivation {
  builder = "builtin:fetchurl";
  outputHashMode = if unpack || executable then "recursive" else "flat";
  inherit name url executable unpack;
  system = "builtin";
  preferLocalBuild = true;
  impureEnvVars = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy" ];
  urls = [ url ];
  inherit outputHash outputHashAlgo;
}
`;

/** The source of a corepkgs file, by name (`fetchurl.nix`). */
export const COREPKGS: ReadonlyMap<string, string> = new Map([['fetchurl.nix', FETCHURL]]);
