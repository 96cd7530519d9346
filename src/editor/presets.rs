//! Preset files from the editor: "Save preset..." writes the plugin's whole state (the
//! format `tubeless_dsp::preset` reads, and the CLI's `--preset`), "Load preset..." sets
//! every parameter through the host and hands the model and IR to the loader.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use egui::{RichText, Ui};
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::ParamSetter;
use parking_lot::Mutex;
use tubeless_dsp::preset::Preset;

use super::{spawn_dialog, theme};
use crate::loader::{Kind, Loader};
use crate::params::TubelessParams;

#[derive(Default)]
pub struct Presets {
    /// A preset read by the dialog thread, for the GUI thread to apply.
    loaded: Arc<Mutex<Option<Preset>>>,
    message: Arc<Mutex<Option<String>>>,
}

impl Presets {
    pub fn message(&self) -> Option<String> {
        self.message.lock().clone()
    }

    pub fn buttons(&self, ui: &mut Ui, gui: &GuiContext, dialog: &Arc<AtomicBool>) {
        // Right to left: the last button added is the leftmost.
        if ui
            .button("Save preset…")
            .on_hover_text("Save every setting, the model and the IR to a file (the CLI reads it with --preset)")
            .clicked()
        {
            let state = gui.get_state();
            let message = Arc::clone(&self.message);
            match serde_json::to_string_pretty(&state) {
                Ok(text) => spawn_dialog(dialog, move || {
                    let picked = rfd::FileDialog::new()
                        .set_title("Save a Tubeless preset")
                        .add_filter("Tubeless preset", &["json"])
                        .set_file_name("preset.json")
                        .save_file();
                    if let Some(path) = picked {
                        *message.lock() = Some(match std::fs::write(&path, text) {
                            Ok(()) => format!("saved {}", path.display()),
                            Err(e) => format!("could not save {}: {e}", path.display()),
                        });
                    }
                }),
                Err(e) => *self.message.lock() = Some(format!("could not save the preset: {e}")),
            }
        }
        if ui
            .button(RichText::new("Load preset…").color(theme::ACCENT))
            .clicked()
        {
            let loaded = Arc::clone(&self.loaded);
            let message = Arc::clone(&self.message);
            spawn_dialog(dialog, move || {
                let picked = rfd::FileDialog::new()
                    .set_title("Load a Tubeless preset")
                    .add_filter("Tubeless preset", &["json"])
                    .pick_file();
                if let Some(path) = picked {
                    match Preset::from_path(&path) {
                        Ok(p) => {
                            let mut text = format!("loaded {}", path.display());
                            if !p.warnings.is_empty() {
                                text += &format!(" ({})", p.warnings.join("; "));
                            }
                            *message.lock() = Some(text);
                            *loaded.lock() = Some(p);
                        }
                        Err(e) => *message.lock() = Some(e.to_string()),
                    }
                }
            });
        }
    }

    /// Applies a preset the dialog thread read: parameters through the host (so it can
    /// record them), the model and the IR through the loader (crossfaded).
    pub fn apply_loaded(&self, params: &TubelessParams, setter: &ParamSetter, loader: &Loader) {
        let Some(p) = self.loaded.lock().take() else {
            return;
        };
        params.apply_settings(setter, &p.settings);
        if let Some(m) = p.model {
            loader.request_restore(Kind::Model, m);
        }
        if let Some(i) = p.ir {
            loader.request_restore(Kind::Ir, i);
        }
    }
}
