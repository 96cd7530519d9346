#!/bin/sh
# Builds and runs the side-by-side benchmark (see src/main.rs). Everything it needs comes
# from crates.io through Cargo; nothing is fetched or built from anywhere else.
#
# NeuralAmpModeler-rs 1.0.1 declares rust-version 1.99 (--ignore-rust-version), refuses to
# compile below x86-64-v3 (RUSTFLAGS), and uses three unstable std APIs without declaring
# them: rustc-wrapper.sh adds them for that one crate only. Its own target directory keeps
# these flags away from the workspace's normal builds. Same profile for every engine in
# the one binary: fat LTO, one codegen unit.
#
# Usage: crates/nam-bench/run.sh [--no-run]   (BENCH_* variables: see src/main.rs)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/nam-bench}"
export RUSTC_WRAPPER="$here/rustc-wrapper.sh"
export RUSTFLAGS="-C target-cpu=x86-64-v3"
export CARGO_PROFILE_RELEASE_LTO=fat
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_DEBUG=false
lock="flock /tmp/tubeless-cargo.lock"
$lock cargo build --release --ignore-rust-version -p tubeless-nam-bench --manifest-path "$root/Cargo.toml"
[ "$1" = "--no-run" ] && exit 0
# One core, so the engines never share it with each other.
exec taskset -c "${BENCH_CPU:-1}" "$CARGO_TARGET_DIR/release/tubeless-nam-bench"
