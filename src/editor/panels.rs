//! The model and cabinet sections: browsing a file (load, previous / next, the folder's
//! list, clear, keep it in the session), what it is, and anything that went wrong,
//! verbatim.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use egui::{Color32, RichText, Ui};
use nice_plug::prelude::{BoolParam, FloatParam, ParamSetter};

use super::theme;
use tubeless_dsp::stream_resample::Quality;

use crate::loader::{neighbour, HostConfig, Kind, Loader};
use crate::status::{AssetStatus, IrInfo, ModelInfo, Source, Status};

pub fn model(
    ui: &mut Ui,
    status: &Status,
    size: &FloatParam,
    setter: &ParamSetter,
    latency: u32,
    loader: &Arc<Loader>,
    dialog: &Arc<AtomicBool>,
) {
    let st = &status.model;
    let path = st.info.as_ref().and_then(|m| m.path.clone());
    theme::section(ui, "MODEL", |ui| {
        browser(ui, Kind::Model, st, path, loader, dialog);
        ui.add_space(2.0);
        match &st.info {
            Some(m) => {
                model_info(ui, m);
                if m.sizes.len() > 1 {
                    sizes(ui, m, size, setter);
                }
            }
            None => {
                ui.label(RichText::new("No model loaded").heading().color(theme::DIM));
                ui.label(
                    "Audio passes through. Load a .nam capture of an amp or pedal (or drop one \
                     on the window).",
                );
            }
        }
        messages(ui, Kind::Model, st, loader);
        if status.resampled {
            if let (Some(m), Some(h)) = (&st.info, status.host) {
                resampling(ui, m.sample_rate, h, latency, loader);
            }
        }
    });
}

/// The model runs at its own rate inside the resamplers: say so, and offer the quality.
fn resampling(ui: &mut Ui, model_rate: f64, host: HostConfig, latency: u32, loader: &Loader) {
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!(
                "Resampled: host {} kHz, model {} kHz, {latency} samples of latency (reported \
                 to the host).",
                trim_num(host.sample_rate / 1000.0),
                trim_num(model_rate / 1000.0),
            ))
            .small()
            .color(theme::DIM),
        );
        let q = loader.quality();
        let selected = usize::from(q == Quality::High);
        if let Some(i) = super::widgets::segmented(
            ui,
            &["Standard", "High quality"],
            selected,
            &[true, true],
            &["", ""],
        ) {
            loader.set_quality([Quality::Standard, Quality::High][i]);
        }
    })
    .response
    .on_hover_text(
        "Standard: no more latency than the official plugin, images and aliases near -70 dB. \
         High quality: about -120 dB and a perfectly flat pass band, for four to five times \
         the latency.",
    );
}

/// The size control of a model with sizes, and which submodel the size picks.
fn sizes(ui: &mut Ui, m: &ModelInfo, size: &FloatParam, setter: &ParamSetter) {
    let v = size.value() as f64;
    let k = m
        .sizes
        .iter()
        .position(|(below, _)| v < *below)
        .unwrap_or(m.sizes.len() - 1);
    ui.horizontal(|ui| {
        super::widgets::knob(ui, "Size", size, setter, 44.0);
        ui.vertical(|ui| {
            ui.label(RichText::new(format!("Size {} of {}", k + 1, m.sizes.len())).strong());
            ui.label(RichText::new(&m.sizes[k].1).small().color(theme::DIM));
        });
    })
    .response
    .on_hover_text("Switching is click-free: the new size is warmed up on the recent input first.");
}

fn model_info(ui: &mut Ui, m: &ModelInfo) {
    ui.label(RichText::new(&m.name).heading().strong());
    let mut line = Vec::new();
    if !m.gear.is_empty() {
        line.push(m.gear.clone());
    }
    line.extend(m.gear_type.iter().map(|t| pretty(t)));
    line.extend(m.tone_type.iter().map(|t| pretty(t)));
    if let Some(by) = &m.modeled_by {
        line.push(format!("modeled by {by}"));
    }
    if !line.is_empty() {
        ui.label(line.join("  ·  "));
    }
    let mut tech = vec![
        m.architecture.clone(),
        format!(
            "{} kHz{}",
            trim_num(m.sample_rate / 1000.0),
            if m.sample_rate_stated {
                ""
            } else {
                " (assumed)"
            }
        ),
        format!("{} weights", thousands(m.weights)),
    ];
    if let Some(cpu) = m.cpu {
        tech.push(format!("CPU {:.1} % of a core", cpu * 100.0));
    }
    ui.label(RichText::new(tech.join("  ·  ")).small().color(theme::DIM));
    origin(ui, m.path.as_ref(), m.source);
    for w in &m.warnings {
        ui.label(
            RichText::new(format!("Note: {w}"))
                .small()
                .color(theme::WARN),
        );
    }
}

pub fn cab(
    ui: &mut Ui,
    status: &Status,
    on: &BoolParam,
    setter: &ParamSetter,
    loader: &Arc<Loader>,
    dialog: &Arc<AtomicBool>,
) {
    let st = &status.ir;
    let path = st.info.as_ref().and_then(|i| i.path.clone());
    super::widgets::switch(
        ui,
        if on.value() { "On" } else { "Off" },
        on,
        setter,
        "Cabinet IR on/off (no added latency)",
    );
    browser(ui, Kind::Ir, st, path, loader, dialog);
    match &st.info {
        Some(i) => ir_info(ui, i),
        None => {
            ui.label(RichText::new("No cabinet IR").strong().color(theme::DIM));
            ui.label(
                RichText::new("Most captures are an amp without its speaker: load a cab IR (WAV).")
                    .small()
                    .color(theme::DIM),
            );
        }
    }
    messages(ui, Kind::Ir, st, loader);
}

fn ir_info(ui: &mut Ui, i: &IrInfo) {
    ui.label(RichText::new(&i.name).strong());
    let line = format!(
        "{}  ·  {} kHz  ·  {:.0} ms  ·  {}",
        if i.channels == 2 { "stereo" } else { "mono" },
        trim_num(i.sample_rate as f64 / 1000.0),
        i.seconds * 1000.0,
        if i.normalized {
            "level: reference (-18 dB)"
        } else {
            "level: as recorded"
        }
    );
    ui.label(RichText::new(line).small().color(theme::DIM));
    origin(ui, i.path.as_ref(), i.source);
}

fn origin(ui: &mut Ui, path: Option<&PathBuf>, source: Source) {
    if let Some(p) = path {
        let origin = match source {
            Source::File => "",
            _ => "  (playing the copy saved in the session)",
        };
        ui.label(
            RichText::new(format!("{}{origin}", p.display()))
                .small()
                .color(theme::DIM),
        );
    }
}

fn browser<I>(
    ui: &mut Ui,
    kind: Kind,
    st: &AssetStatus<I>,
    current: Option<PathBuf>,
    loader: &Arc<Loader>,
    dialog: &Arc<AtomicBool>,
) {
    let current = current.or_else(|| st.failed_path.as_ref().map(PathBuf::from));
    let what = match kind {
        Kind::Model => "model",
        Kind::Ir => "IR",
    };
    let have_folder = !st.folder.is_empty();
    ui.horizontal(|ui| {
        let step = |ui: &mut Ui, label: &str, delta: isize, tip: &str| {
            let r = ui
                .add_enabled(have_folder, egui::Button::new(label))
                .on_hover_text(tip);
            if r.clicked() {
                if let Some(next) = current
                    .as_deref()
                    .and_then(|c| neighbour(&st.folder, c, delta))
                {
                    loader.request_load(kind, next);
                }
            }
        };
        step(ui, "<", -1, "Previous file in this folder");
        let shown = current
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "(none)".into());
        let combo_w = (ui.available_width() - 60.0).max(80.0);
        egui::ComboBox::from_id_salt((what, "folder"))
            .width(combo_w)
            .truncate()
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if st.folder.is_empty() {
                    ui.label(RichText::new("Load a file to list its folder").color(theme::DIM));
                }
                for p in &st.folder {
                    let name = p.file_name().map(|n| n.to_string_lossy().to_string());
                    let on = current.as_deref() == Some(p.as_path());
                    if ui.selectable_label(on, name.unwrap_or_default()).clicked() && !on {
                        loader.request_load(kind, p.clone());
                    }
                }
            });
        step(ui, ">", 1, "Next file in this folder");
    });
    ui.horizontal(|ui| {
        if ui
            .button(RichText::new("Load…").color(theme::ACCENT))
            .on_hover_text(format!("Open a {what} file (or drop one on this window)"))
            .clicked()
        {
            let dir = current
                .as_ref()
                .and_then(|p| p.parent().map(|d| d.to_path_buf()));
            super::open_dialog(loader, kind, dir, dialog);
        }
        if ui
            .add_enabled(st.info.is_some(), egui::Button::new("Clear"))
            .on_hover_text(format!("Remove the {what}"))
            .clicked()
        {
            loader.request_clear(kind);
        }
        let mut embed = st.embed;
        if ui
            .checkbox(&mut embed, "Save in session")
            .on_hover_text(format!(
                "Keep a copy of the {what} in the project, so it opens on another machine or \
                 after the file moved."
            ))
            .changed()
        {
            match kind {
                Kind::Model => loader.model.set_embed(embed),
                Kind::Ir => loader.ir.set_embed(embed),
            }
        }
    });
}

fn messages<I>(ui: &mut Ui, kind: Kind, st: &AssetStatus<I>, loader: &Arc<Loader>) {
    if let Some(p) = &st.loading {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(RichText::new(format!("Loading {p}")).color(theme::DIM));
        });
    }
    if let Some(e) = &st.error {
        message(ui, theme::ERROR, "Could not load", e);
    }
    if let Some(n) = &st.notice {
        message(ui, theme::WARN, "Note", n);
        if st.disk_differs
            && ui
                .button("Play the file on disk instead")
                .on_hover_text("Load the current version of the file and save that from now on")
                .clicked()
        {
            loader.request_load_from_disk(kind);
        }
    }
}

pub fn message(ui: &mut Ui, color: Color32, title: &str, text: &str) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{title}:")).strong().color(color));
        ui.label(RichText::new(text).color(color));
    });
}

/// `hi_gain` -> `Hi gain`.
fn pretty(s: &str) -> String {
    let s = s.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

pub(super) fn trim_num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
