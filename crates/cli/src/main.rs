//! `tubeless`: offline reamping, model inspection and benchmarking from the command line.
//!
//! Exit codes: 0 success, 1 a model, input or output failed (the message says which),
//! 2 a usage error.

mod files;
mod inspect;
mod reamp;

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tubeless_nam::{ActivationMode, NamFile};

#[derive(Parser)]
#[command(
    name = "tubeless",
    version,
    about = "Neural Amp Modeler player: reamp WAV files through .nam models",
    long_about = "Neural Amp Modeler player: reamp WAV files through .nam captures of amps and \
                  pedals (with the plugin's gate, EQ and cabinet IR), inspect models, and \
                  measure their CPU cost.\n\n\
                  Example:\n  tubeless render --model assets/demo_amp.nam assets/demo_di.wav\n  \
                  (writes tubeless-out/demo_di.wav)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render WAV files (or folders of them) through a model.
    Render(reamp::RenderArgs),
    /// Describe a model: architecture, sizes, receptive field, sample rate, metadata, CPU cost.
    Info(inspect::InfoArgs),
    /// Measure how fast a model runs on this machine.
    Bench(inspect::BenchArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Activations {
    /// tanh within float precision: the network exactly as trained.
    Accurate,
    /// The official NAM plugin's fast tanh, for its sound bit for bit.
    NamCompatible,
}

impl From<Activations> for ActivationMode {
    fn from(a: Activations) -> Self {
        match a {
            Activations::Accurate => ActivationMode::Accurate,
            Activations::NamCompatible => ActivationMode::NamCompatible,
        }
    }
}

/// Prints what the file's parser noticed but did not refuse.
pub fn warn_model(path: &Path, file: &NamFile) {
    for w in &file.warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
}

fn main() -> ExitCode {
    // Like any Unix filter: `tubeless info x.nam | head` ends quietly when the pipe closes,
    // instead of panicking on a failed print.
    #[cfg(unix)]
    // SAFETY: called before any thread exists; restores the default disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(a) => reamp::cmd_render(a),
        Command::Info(a) => inspect::cmd_info(a),
        Command::Bench(a) => inspect::cmd_bench(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}
