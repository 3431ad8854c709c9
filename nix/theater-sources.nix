# Theater 0.2.1, the last release line that loads WebAssembly components, as published
# on crates.io. Each crate ships its Cargo.lock, so crane builds it offline from that.
#
# narHash is the hash of the unpacked crate (what builtins.fetchTarball checks); it is
# fetched at evaluation time so that crane can read Cargo.toml/Cargo.lock from it without
# import-from-derivation. crateSha256 is the crates.io checksum of the .crate file itself.
# scripts/check-nix downloads both crates and checks both hashes.
{
  theater-cli = {
    version = "0.2.1";
    url = "https://static.crates.io/crates/theater-cli/theater-cli-0.2.1.crate";
    crateSha256 = "3b59a69d521b095aa9f6cffe195f7b7de51ad3fa427c21a8f046d98f8b19726c";
    narHash = "sha256-gPOk10SX9itpHhVlh4CyIf7EnYyYXFmgCZAZxISGGIw=";
    mainProgram = "theater";
  };
  theater-server-cli = {
    version = "0.2.1";
    url = "https://static.crates.io/crates/theater-server-cli/theater-server-cli-0.2.1.crate";
    crateSha256 = "7ad3a2bfaf035eb0ff23262c3fece5c35e812483a55f3e0ec52983ed0bf2cfc2";
    narHash = "sha256-p2HDhk5SKg6qDSS3RLzHPKtI0y8yVa0bPWcbxjy/nrA=";
    mainProgram = "theater-server";
  };
}
