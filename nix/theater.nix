# Theater 0.2.1 (`theater` and `theater-server`), built with crane from the published
# crates.io tarballs and the Cargo.lock each of them ships. Nothing needs to be installed
# beforehand for `nix run` or `nix develop`.
{
  lib,
  stdenv,
  craneLib,
  pkg-config,
  openssl,
  libiconv,
}:
let
  sources = import ./theater-sources.nix;

  build =
    crate: description:
    let
      info = sources.${crate};
    in
    craneLib.buildPackage {
      pname = crate;
      inherit (info) version;
      # Fetched while evaluating (fixed by narHash), so crane can read the crate's
      # Cargo.toml and Cargo.lock without import-from-derivation.
      src = builtins.fetchTarball {
        name = "${crate}-${info.version}-source";
        inherit (info) url;
        sha256 = info.narHash;
      };
      strictDeps = true;
      # The published crates carry no test suite.
      doCheck = false;
      # reqwest's native-tls links OpenSSL (found with pkg-config) everywhere but Apple
      # platforms, where it uses Security.framework from the default Darwin SDK.
      nativeBuildInputs = [ pkg-config ];
      buildInputs =
        lib.optionals (!stdenv.hostPlatform.isDarwin) [ openssl ]
        ++ lib.optionals stdenv.hostPlatform.isDarwin [ libiconv ];
      meta = {
        inherit description;
        inherit (info) mainProgram;
        homepage = "https://github.com/colinrozzi/theater";
        license = lib.licenses.asl20;
      };
    };
in
{
  theater = build "theater-cli" "Theater 0.2.1 command-line client (theater start/list/stop ...)";
  theater-server = build "theater-server-cli" "Theater 0.2.1 server daemon (theater-server)";
}
