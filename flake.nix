{
  description = "Chat actor for the Theater 0.2.1 WebAssembly actor runtime";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    crane.url = "github:ipetkov/crane";
    rust-overlay = {
      url = "github:oxalica/rust-overlay";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    {
      nixpkgs,
      crane,
      rust-overlay,
      ...
    }:
    let
      inherit (nixpkgs) lib;

      # Nixpkgs 26.11 (nixos-unstable since mid-2026) refuses to evaluate for
      # x86_64-darwin; 26.05 is the last release that supports it. With such a nixpkgs
      # (e.g. `--override-input nixpkgs github:NixOS/nixpkgs/nixpkgs-26.05-darwin`)
      # the flake provides x86_64-darwin as well.
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "aarch64-darwin"
      ]
      ++ lib.optional (lib.versionOlder lib.trivial.release "26.11") "x86_64-darwin";

      forAllSystems = f: lib.genAttrs systems (system: f (perSystem system));

      perSystem =
        system:
        let
          pkgs = import nixpkgs {
            inherit system;
            overlays = [ rust-overlay.overlays.default ];
          };

          # The toolchain rustup users get from the same file: channel, the
          # wasm32-unknown-unknown target, rustfmt and clippy.
          toolchainFor = p: p.rust-bin.fromRustupToolchainFile ./rust-toolchain.toml;
          toolchain = toolchainFor pkgs;
          craneLib = (crane.mkLib pkgs).overrideToolchain toolchainFor;

          # What the runner (nix/theater-chat.sh) calls; ps comes from procps on Linux and
          # from the system on Darwin.
          runnerInputs = [
            theater.theater
            theater.theater-server
            pkgs.coreutils
            pkgs.curl
            pkgs.gnugrep
            pkgs.gnused
          ]
          ++ lib.optional pkgs.stdenv.isLinux pkgs.procps;

          chat = import ./nix/chat.nix {
            inherit lib craneLib runnerInputs;
            inherit (pkgs) cargo-component wasm-tools makeWrapper;
            theater = theater.theater;
          };

          theater = import ./nix/theater.nix {
            inherit lib craneLib;
            inherit (pkgs)
              stdenv
              pkg-config
              openssl
              libiconv
              ;
          };

          run = pkgs.writeShellApplication {
            name = "theater-chat";
            runtimeInputs = runnerInputs;
            runtimeEnv.CHAT_PACKAGE = chat.chat;
            text = builtins.readFile ./nix/theater-chat.sh;
          };

          # `build-component` in the dev shell: the repository's own scripts/build-component,
          # run from the root of the checkout the shell is in.
          buildComponent = pkgs.writeShellApplication {
            name = "build-component";
            runtimeInputs = [ pkgs.git ];
            text = ''
              root="$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
              if [ ! -x "$root/scripts/build-component" ]; then
                echo "build-component: no scripts/build-component under $root; run it inside the chat repository" >&2
                exit 1
              fi
              exec "$root/scripts/build-component" "$@"
            '';
          };

          # `theater` in the dev shell: Theater's CLI plus `theater run MANIFEST` (the same
          # wrapper as the package's bin/theater), ahead of the real one on PATH.
          theaterCommand = pkgs.writeShellApplication {
            name = "theater";
            runtimeInputs = runnerInputs;
            runtimeEnv = {
              THEATER_CLI = "${theater.theater}/bin/theater";
              THEATER_CHAT_RUNNER = "${./nix/theater-chat.sh}";
            };
            text = builtins.readFile ./nix/theater-wrapper.sh;
          };
        in
        {
          inherit
            pkgs
            toolchain
            chat
            theater
            run
            buildComponent
            theaterCommand
            ;
        };
    in
    {
      packages = forAllSystems (s: {
        default = s.chat.chat;
        inherit (s.theater) theater theater-server;
      });

      apps = forAllSystems (s: {
        default = {
          type = "app";
          program = lib.getExe s.run;
          meta.description = "Serve the chat actor on a Theater 0.2.1 server (started if none is running)";
        };
      });

      devShells = forAllSystems (s: {
        default = s.pkgs.mkShell {
          packages = [
            s.toolchain
            s.pkgs.cargo-component
            s.pkgs.wasm-tools
            s.theaterCommand
            s.theater.theater
            s.theater.theater-server
            s.buildComponent
          ];
          shellHook = ''
            export THEATER_HOME="''${THEATER_HOME:-''${XDG_STATE_HOME:-$HOME/.local/state}/theater-chat}"
            echo "theater-chat dev shell: $(rustc --version), $(cargo component --version)"
            echo "  build-component [--out DIR]   build chat.wasm and the actor package (default target/package)"
            echo "  theater run target/package/actor.portable.toml   (or theater-server & theater start ...)"
            echo "  THEATER_HOME=$THEATER_HOME; the chat is then at http://127.0.0.1:8084/"
          '';
        };
      });

      checks = forAllSystems (s: s.chat.checks);

      formatter = forAllSystems (s: s.pkgs.nixfmt);
    };
}
