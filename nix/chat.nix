# The chat actor package and the crate's checks, built with crane from Cargo.lock: no
# vendor hash to maintain, no network in any build, no import-from-derivation.
{
  lib,
  craneLib,
  cargo-component,
  wasm-tools,
  makeWrapper,
  # bin/theater (`theater run MANIFEST`) hands everything else to this CLI, and its runner
  # needs these on PATH.
  theater,
  runnerInputs,
}:
let
  root = ../.;

  # crane's default filter keeps only Cargo files and *.rs; the build also needs the WIT
  # world, the files src/ reads at compile time (assets/web/*, assets/models.toml), the
  # assets that go into the package, the manifest template and the build recipe itself.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (craneLib.fileset.commonCargoSources root)
      ../wit
      ../assets
      ../actor.portable.toml
      ../scripts/build-component
      ../nix/theater-wrapper.sh
      ../nix/theater-chat.sh
    ];
  };

  common = {
    inherit src;
    strictDeps = true;
  };

  # Everything that compiles for the actor's target.
  wasmArgs = common // {
    pname = "chat-wasm";
    cargoExtraArgs = "--locked --target wasm32-unknown-unknown";
    # The dev-dependencies (HTTP and WebSocket test clients) are for the host only.
    doCheck = false;
  };
  wasmDeps = craneLib.buildDepsOnly wasmArgs;

  # Host builds for the unit tests (dev profile: faster than LTO'd release).
  hostArgs = common // {
    pname = "chat-host";
    CARGO_PROFILE = "dev";
  };
  hostDeps = craneLib.buildDepsOnly hostArgs;

  chat = craneLib.mkCargoDerivation (
    wasmArgs
    // {
      pname = "theater-chat";
      cargoArtifacts = wasmDeps;
      doInstallCargoArtifacts = false;

      nativeBuildInputs = [
        cargo-component
        wasm-tools
        makeWrapper
        # Panic locations can name the vendored crates and the toolchain's std sources;
        # rewrite those store paths so the package's closure is just itself.
        craneLib.removeReferencesToVendoredSourcesHook
        craneLib.removeReferencesToRustToolchainHook
      ];

      postPatch = ''
        patchShebangs scripts
      '';

      # The same recipe a developer runs (scripts/build-component), and the one
      # scripts/check-nix executes offline from vendored crates in a fresh network
      # namespace, with the same flags. cargo-component keeps a cache under $HOME, which
      # must be writable. (No --offline: cargo-component refuses it without a
      # Cargo-component.lock; the sandbox has no network anyway.)
      buildPhaseCargoCommand = ''
        export HOME="$TMPDIR"
        CARGO_BUILD_FLAGS="--locked" scripts/build-component --out "$out"
      '';
      # build-component has already assembled $out; bin/theater learns where the real
      # CLI is, and the runner gets its tools.
      installPhaseCommand = "";
      postInstall = ''
        wrapProgram "$out/bin/theater" \
          --set THEATER_CLI "${theater}/bin/theater" \
          --prefix PATH : "${lib.makeBinPath runnerInputs}"
      '';

      doInstallCheck = true;
      installCheckPhase = ''
        runHook preInstallCheck
        wasm-tools validate "$out/lib/chat.wasm"
        wasm-tools validate "$out/lib/worker.wasm"
        grep -q "^component = \"$out/lib/chat.wasm\"" "$out/actor.portable.toml"
        grep -q "\"worker\": \"$out/lib/worker.wasm\"" "$out/assets/init.json"
        grep -q "^init_state = \"$out/assets/init.json\"" "$out/actor.portable.toml"
        grep -q "^config = { path = \"$out/assets/web\" }" "$out/actor.portable.toml"
        test -s "$out/assets/web/app.js.gz"
        runHook postInstallCheck
      '';

      meta = {
        description = "Chat actor for Theater 0.2.1: lib/chat.wasm, lib/worker.wasm, assets/ and actor.portable.toml";
        license = lib.licenses.mit;
      };
    }
  );
in
{
  inherit chat;

  checks = {
    inherit chat;

    # The two clippy runs of scripts/test: the library on the actor's target, and every
    # target (tests included) on the host.
    clippy = craneLib.cargoClippy (
      wasmArgs
      // {
        cargoArtifacts = wasmDeps;
        cargoClippyExtraArgs = "--lib -- --deny warnings";
      }
    );
    clippy-host = craneLib.cargoClippy (
      hostArgs
      // {
        cargoArtifacts = hostDeps;
        cargoClippyExtraArgs = "--all-targets -- --deny warnings";
      }
    );

    fmt = craneLib.cargoFmt { inherit src; };

    # Host unit tests. The tests under tests/ need a running Theater and are #[ignore]d.
    tests = craneLib.cargoTest (hostArgs // { cargoArtifacts = hostDeps; });
  };
}
