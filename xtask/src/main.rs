//! `cargo xtask bundle tubeless --release`: nice-plug's bundler (VST3 + CLAP in
//! `target/bundled/`), then the standalone binary beside them.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = nice_plug_xtask::main_with_args("cargo xtask", args.clone()) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    if args.first().map(String::as_str) == Some("bundle") {
        let profile = if args.iter().any(|a| a == "--release") {
            "release"
        } else {
            "debug"
        };
        let built = std::path::Path::new("target")
            .join(profile)
            .join("tubeless-standalone");
        if built.is_file() {
            let to = std::path::Path::new("target/bundled/tubeless-standalone");
            if let Err(e) = std::fs::copy(&built, to) {
                eprintln!(
                    "error: copying {} to {}: {e}",
                    built.display(),
                    to.display()
                );
                return ExitCode::FAILURE;
            }
            eprintln!("Copied the standalone to '{}'", to.display());
        }
    }
    ExitCode::SUCCESS
}
