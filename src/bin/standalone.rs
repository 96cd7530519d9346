//! Tubeless without a DAW: the plugin in nice-plug's standalone host (JACK, ALSA, or a
//! dummy device), for playing through a capture. `--model PATH` loads a model at start;
//! every other option is the standalone host's (`--help`).

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--model") {
        if i + 1 < args.len() {
            let path = args.remove(i + 1);
            args.remove(i);
            tubeless::set_startup_model(path.into());
        }
    }
    nice_plug::prelude::nice_export_standalone_with_args::<tubeless::Tubeless, _>(args);
}
