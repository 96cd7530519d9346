//! Tubeless without a DAW: the plugin in nice-plug's standalone host (JACK, ALSA, or a
//! dummy device), for playing through a capture. `--model PATH` and `--ir PATH` load a
//! model and a cabinet IR at start; every other option is the standalone host's (`--help`).

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let mut take = |flag: &str| -> Option<std::path::PathBuf> {
        let i = args.iter().position(|a| a == flag)?;
        if i + 1 >= args.len() {
            return None;
        }
        let v = args.remove(i + 1);
        args.remove(i);
        Some(v.into())
    };
    let model = take("--model");
    let ir = take("--ir");
    tubeless::set_startup_files(model, ir);
    nice_plug::prelude::nice_export_standalone_with_args::<tubeless::Tubeless, _>(args);
}
