//! The knob sections, in the signal's order: input, gate, EQ, output. Each knob and switch
//! is a parameter: the host sees every move as automation.

use egui::{RichText, Ui};
use nice_plug::prelude::ParamSetter;
use tubeless_dsp::levels::{
    input_calibration_availability, output_mode_availability, ModelLevels, OutputMode,
};

use super::{theme, widgets};
use crate::params::{OutputModeParam, TubelessParams};
use crate::status::Status;

const BIG: f32 = 80.0;
const SMALL: f32 = 44.0;

pub fn input(
    ui: &mut Ui,
    p: &TubelessParams,
    setter: &ParamSetter,
    level_db: f32,
    clipped: bool,
) -> bool {
    let mut clear = false;
    theme::section(ui, "INPUT", |ui| {
        ui.horizontal(|ui| {
            clear = widgets::meter(ui, "IN", level_db, clipped, 120.0);
            widgets::knob(ui, "Input", &p.input_gain_db, setter, BIG);
        });
    });
    clear
}

pub fn gate(ui: &mut Ui, p: &TubelessParams, setter: &ParamSetter, reduction_db: f32) {
    theme::section(ui, "NOISE GATE", |ui| {
        ui.horizontal(|ui| {
            widgets::switch(
                ui,
                if p.gate_on.value() { "On" } else { "Off" },
                &p.gate_on,
                setter,
                "Noise gate on/off (the detector hears the input; the gain follows the model)",
            );
            let on = p.gate_on.value();
            let (text, color) = match reduction_db {
                _ if !on => ("", theme::DIM),
                r if r > -1.0 => ("open", theme::GOOD),
                r if r > -60.0 => ("closing", theme::WARN),
                _ => ("closed", theme::DIM),
            };
            ui.label(RichText::new(text).small().color(color));
        });
        ui.horizontal(|ui| {
            widgets::knob(ui, "Threshold", &p.gate_threshold_db, setter, BIG);
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    widgets::knob(ui, "Attack", &p.gate_attack_ms, setter, SMALL);
                    widgets::knob(ui, "Hold", &p.gate_hold_ms, setter, SMALL);
                    widgets::knob(ui, "Release", &p.gate_release_ms, setter, SMALL);
                });
            });
        });
    });
}

pub fn eq(ui: &mut Ui, p: &TubelessParams, setter: &ParamSetter) {
    theme::section(ui, "EQ", |ui| {
        widgets::switch(
            ui,
            if p.eq_on.value() { "On" } else { "Off" },
            &p.eq_on,
            setter,
            "Tone stack on/off: bass 150 Hz shelf, middle 425 Hz peak, treble 1.8 kHz shelf",
        );
        ui.horizontal(|ui| {
            widgets::knob(ui, "Bass", &p.bass, setter, 56.0);
            widgets::knob(ui, "Middle", &p.middle, setter, 56.0);
            widgets::knob(ui, "Treble", &p.treble, setter, 56.0);
        });
    });
}

pub fn output(
    ui: &mut Ui,
    p: &TubelessParams,
    setter: &ParamSetter,
    status: &Status,
    level_db: f32,
    clipped: bool,
) -> bool {
    let mut clear = false;
    let levels = status
        .model
        .info
        .as_ref()
        .map(|m| ModelLevels::new(m.loudness, m.input_level_dbu, m.output_level_dbu));
    theme::section(ui, "OUTPUT", |ui| {
        let modes = [
            OutputMode::Raw,
            OutputMode::Normalized,
            OutputMode::Calibrated,
        ];
        let why: Vec<String> = modes
            .iter()
            .map(|m| match output_mode_availability(*m, levels.as_ref()) {
                Ok(()) => String::new(),
                Err(e) => format!("Not for this model: {e}."),
            })
            .collect();
        let enabled: Vec<bool> = why.iter().map(|w| w.is_empty()).collect();
        let why_refs: Vec<&str> = why.iter().map(String::as_str).collect();
        let selected = match p.output_mode.value() {
            OutputModeParam::Raw => 0,
            OutputModeParam::Normalized => 1,
            OutputModeParam::Calibrated => 2,
        };
        if let Some(i) = widgets::segmented(
            ui,
            &["Raw", "Normalized", "Calibrated"],
            selected,
            &enabled,
            &why_refs,
        ) {
            let m = [
                OutputModeParam::Raw,
                OutputModeParam::Normalized,
                OutputModeParam::Calibrated,
            ][i];
            setter.begin_set_parameter(&p.output_mode);
            setter.set_parameter(&p.output_mode, m);
            setter.end_set_parameter(&p.output_mode);
        }
        if !why[selected].is_empty() && status.model.info.is_some() {
            ui.label(
                RichText::new("This model plays raw: see the greyed-out mode.")
                    .small()
                    .color(theme::WARN),
            );
        }
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                let ok = input_calibration_availability(levels.as_ref());
                ui.add_enabled_ui(ok.is_ok(), |ui| {
                    widgets::switch(
                        ui,
                        "Calibrate input",
                        &p.calibrate_input,
                        setter,
                        "Match the input to the level the capture was made at \
                         (input_level_dbu in the model), given what your interface's \
                         full scale is in dBu",
                    );
                })
                .response
                .on_disabled_hover_text(match ok {
                    Err(e) => format!("Not for this model: {e}."),
                    Ok(()) => String::new(),
                });
                widgets::knob(ui, "Interface dBu", &p.calibration_dbu, setter, SMALL);
            });
            widgets::knob(ui, "Output", &p.output_gain_db, setter, BIG);
            clear = widgets::meter(ui, "OUT", level_db, clipped, 110.0);
        });
    });
    clear
}
