//! Project tasks, run as `cargo xtask ...`:
//! - `bundle tubeless --release`: nice-plug's bundler (VST3 + CLAP in `target/bundled/`),
//!   then the standalone binary beside them;
//! - `test [cargo test args]`: builds the release bundles, then runs every test of the
//!   workspace's default members with `TUBELESS_BUNDLES` pointing at them, so the
//!   plugin-level tests (a CLAP host, pedalboard on the VST3, the validators, an editor
//!   screenshot) run too.

use std::path::Path;
use std::process::{Command, ExitCode};

fn bundle(args: &[String]) -> Result<(), String> {
    nice_plug_xtask::main_with_args("cargo xtask", args.to_vec()).map_err(|e| format!("{e:#}"))?;
    let profile = if args.iter().any(|a| a == "--release") {
        "release"
    } else {
        "debug"
    };
    let built = Path::new("target")
        .join(profile)
        .join("tubeless-standalone");
    if built.is_file() {
        let to = Path::new("target/bundled/tubeless-standalone");
        std::fs::copy(&built, to)
            .map_err(|e| format!("copying {} to {}: {e}", built.display(), to.display()))?;
        eprintln!("Copied the standalone to '{}'", to.display());
    }
    Ok(())
}

fn test(extra: &[String]) -> Result<(), String> {
    nice_plug_xtask::chdir_workspace_root().map_err(|e| format!("{e:#}"))?;
    bundle(&["bundle".into(), "tubeless".into(), "--release".into()])?;
    let bundles = std::fs::canonicalize("target/bundled").map_err(|e| e.to_string())?;
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        // The default members: the plugin, the engine, the chain and the CLI (not xtask,
        // nor the peer benchmark crate, which needs its own toolchain flags).
        .arg("test")
        .args(extra)
        .env("TUBELESS_BUNDLES", &bundles)
        .status()
        .map_err(|e| format!("running cargo test: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("tests failed".into())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("bundle") => nice_plug_xtask::chdir_workspace_root()
            .map_err(|e| format!("{e:#}"))
            .and_then(|()| bundle(&args)),
        _ => nice_plug_xtask::main_with_args("cargo xtask", args).map_err(|e| format!("{e:#}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
