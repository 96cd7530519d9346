//! The model section: browse (load, previous / next, the folder's list, clear), what the
//! model is, what it costs, and anything that went wrong, verbatim.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use egui::{Color32, RichText, Ui};

use super::theme;
use crate::loader::{neighbour, Loader};
use crate::status::{Source, Status};

pub fn show(ui: &mut Ui, status: &Status, loader: &Arc<Loader>, dialog: &Arc<AtomicBool>) {
    let hovering = ui.ctx().input(|i| !i.raw.hovered_files.is_empty());
    let mut frame = theme::card();
    if hovering {
        frame = frame.stroke(egui::Stroke::new(2.0, theme::ACCENT));
    }
    frame.show(ui, |ui| {
        ui.set_width(ui.available_width());
        browser_row(ui, status, loader, dialog);
        ui.add_space(4.0);
        match &status.model {
            Some(m) => {
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
                if let Some(p) = &m.path {
                    let origin = match m.source {
                        Source::File => "",
                        _ => "  (playing the copy saved in the session)",
                    };
                    ui.label(
                        RichText::new(format!("{}{origin}", p.display()))
                            .small()
                            .color(theme::DIM),
                    );
                }
                for w in &m.warnings {
                    ui.label(
                        RichText::new(format!("Note: {w}"))
                            .small()
                            .color(theme::WARN),
                    );
                }
            }
            None => {
                ui.label(RichText::new("No model loaded").heading().color(theme::DIM));
                ui.label(
                    "Audio passes through unchanged. Load a .nam capture of an amp or pedal \
                     (or drop one here).",
                );
            }
        }
        messages(ui, status, loader);
    });
}

fn browser_row(ui: &mut Ui, status: &Status, loader: &Arc<Loader>, dialog: &Arc<AtomicBool>) {
    ui.horizontal(|ui| {
        let current = status
            .model
            .as_ref()
            .and_then(|m| m.path.clone())
            .or_else(|| status.failed_path.as_ref().map(std::path::PathBuf::from));
        let have_folder = !status.folder.is_empty();
        let step = |ui: &mut Ui, label: &str, delta: isize, tip: &str| {
            let r = ui
                .add_enabled(have_folder, egui::Button::new(label))
                .on_hover_text(tip);
            if r.clicked() {
                if let Some(next) = current
                    .as_deref()
                    .and_then(|c| neighbour(&status.folder, c, delta))
                {
                    loader.request_load(next);
                }
            }
        };
        step(ui, "<", -1, "Previous model in this folder");
        let shown = current
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "(none)".into());
        egui::ComboBox::from_id_salt("folder-models")
            .width(260.0)
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if status.folder.is_empty() {
                    ui.label(RichText::new("Load a model to list its folder").color(theme::DIM));
                }
                for p in &status.folder {
                    let name = p.file_name().map(|n| n.to_string_lossy().to_string());
                    let on = current.as_deref() == Some(p.as_path());
                    if ui.selectable_label(on, name.unwrap_or_default()).clicked() && !on {
                        loader.request_load(p.clone());
                    }
                }
            });
        step(ui, ">", 1, "Next model in this folder");
        ui.add_space(8.0);
        if ui
            .button(RichText::new("Load model…").color(theme::ACCENT))
            .on_hover_text("Open a .nam file (or drop one on this window)")
            .clicked()
        {
            let dir = current
                .as_ref()
                .and_then(|p| p.parent().map(|d| d.to_path_buf()));
            super::open_dialog(loader, dir, dialog);
        }
        if ui
            .add_enabled(status.model.is_some(), egui::Button::new("Clear"))
            .on_hover_text("Remove the model: audio passes through")
            .clicked()
        {
            loader.request_clear();
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let mut embed = status.embed;
            if ui
                .checkbox(&mut embed, "Save in session")
                .on_hover_text(
                    "Keep a copy of the model in the project, so it opens on another machine \
                     or after the file moved.",
                )
                .changed()
            {
                loader.set_embed(embed);
            }
        });
    });
}

fn messages(ui: &mut Ui, status: &Status, loader: &Arc<Loader>) {
    if let Some(p) = &status.loading {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(RichText::new(format!("Loading {p}")).color(theme::DIM));
        });
    }
    if let Some(e) = &status.error {
        message(ui, theme::ERROR, "Could not load the model", e);
    }
    if let Some(n) = &status.notice {
        message(ui, theme::WARN, "Note", n);
        if status.disk_differs
            && ui
                .button("Play the file on disk instead")
                .on_hover_text("Load the current version of the file and save that from now on")
                .clicked()
        {
            loader.request_load_from_disk();
        }
    }
    if status.rate_mismatch {
        if let (Some(m), Some(h)) = (&status.model, status.host) {
            let text = format!(
                "The host runs at {} kHz but this model was trained at {} kHz: it plays at the \
                 wrong rate and does not sound like the capture. Set the project to {} kHz.",
                trim_num(h.sample_rate / 1000.0),
                trim_num(m.sample_rate / 1000.0),
                trim_num(m.sample_rate / 1000.0),
            );
            message(ui, theme::WARN, "Sample rate", &text);
        }
    }
}

fn message(ui: &mut Ui, color: Color32, title: &str, text: &str) {
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
