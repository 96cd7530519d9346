//! The editor's own controls: a knob that speaks the host's automation protocol, a level
//! meter with a clip light, and a row of segmented choices.

use egui::{pos2, vec2, Align2, Color32, FontId, Pos2, Rect, Response, Sense, Shape, Stroke, Ui};
use nice_plug::prelude::{BoolParam, FloatParam, Param, ParamSetter};

use super::theme;

/// Drag distance (points) for the whole range; shift for fine control.
const KNOB_DRAG_RANGE: f32 = 200.0;
const KNOB_FINE: f32 = 0.1;
/// The knob's travel: from 7 to 5 o'clock.
const ARC_START: f32 = std::f32::consts::PI * 0.75;
const ARC_SWEEP: f32 = std::f32::consts::PI * 1.5;

/// A rotary knob for a float parameter: drag up/down (shift: fine), scroll, double-click
/// for the default. Each drag is one automation gesture for the host.
pub fn knob(
    ui: &mut Ui,
    label: &str,
    param: &FloatParam,
    setter: &ParamSetter,
    size: f32,
) -> Response {
    let text_h = if size < 70.0 { 16.0 } else { 20.0 };
    let font = if size < 70.0 { 12.0 } else { 14.0 };
    let (rect, mut response) = ui.allocate_exact_size(
        vec2(size + 24.0, size + 2.0 * text_h),
        Sense::click_and_drag(),
    );
    let id = response.id;
    let norm = param.unmodulated_normalized_value();

    if response.drag_started() {
        setter.begin_set_parameter(param);
        ui.memory_mut(|m| m.data.insert_temp(id, norm));
    }
    if response.dragged() {
        let fine = ui.input(|i| i.modifiers.shift);
        let mut start: f32 = ui.memory(|m| m.data.get_temp(id)).unwrap_or(norm);
        let scale = if fine { KNOB_FINE } else { 1.0 };
        start = (start - response.drag_delta().y / KNOB_DRAG_RANGE * scale).clamp(0.0, 1.0);
        ui.memory_mut(|m| m.data.insert_temp(id, start));
        setter.set_parameter_normalized(param, start);
        response.mark_changed();
    }
    if response.drag_stopped() {
        setter.end_set_parameter(param);
    }
    if response.double_clicked() {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, param.default_plain_value());
        setter.end_set_parameter(param);
        response.mark_changed();
    }
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            let step = if ui.input(|i| i.modifiers.shift) {
                0.002
            } else {
                0.01
            };
            let v = (norm + scroll.signum() * step).clamp(0.0, 1.0);
            setter.begin_set_parameter(param);
            setter.set_parameter_normalized(param, v);
            setter.end_set_parameter(param);
            response.mark_changed();
        }
    }

    let painter = ui.painter_at(rect.expand(2.0));
    let center = pos2(rect.center().x, rect.top() + text_h + size / 2.0);
    let r = size / 2.0 - 4.0;
    painter.text(
        pos2(rect.center().x, rect.top()),
        Align2::CENTER_TOP,
        label,
        FontId::proportional(font),
        theme::DIM,
    );
    let value = param.unmodulated_normalized_value();
    let thick = if size < 70.0 { 3.5 } else { 5.0 };
    painter.add(arc(
        center,
        r,
        ARC_START,
        ARC_SWEEP,
        Stroke::new(thick, theme::TRACK),
    ));
    // The lit arc starts at the default (0 dB sits at the top of a +-range).
    let zero = param.preview_normalized(param.default_plain_value());
    let (a0, a1) = if value >= zero {
        (zero, value)
    } else {
        (value, zero)
    };
    painter.add(arc(
        center,
        r,
        ARC_START + ARC_SWEEP * a0,
        ARC_SWEEP * (a1 - a0),
        Stroke::new(thick, theme::ACCENT),
    ));
    let active = response.hovered() || response.dragged();
    let inset = if size < 70.0 { 6.0 } else { 8.0 };
    painter.circle_filled(
        center,
        r - inset,
        if active {
            Color32::from_rgb(0x4a, 0x42, 0x39)
        } else {
            Color32::from_rgb(0x3a, 0x34, 0x2e)
        },
    );
    let angle = ARC_START + ARC_SWEEP * value;
    let dir = vec2(angle.cos(), angle.sin());
    painter.line_segment(
        [center + dir * (r * 0.55), center + dir * (r - inset - 1.0)],
        Stroke::new(if size < 70.0 { 2.0 } else { 3.0 }, theme::TEXT),
    );
    painter.text(
        pos2(rect.center().x, rect.bottom()),
        Align2::CENTER_BOTTOM,
        param.to_string(),
        FontId::proportional(font),
        theme::TEXT,
    );
    response.on_hover_text("Drag or scroll to change (Shift: fine). Double-click: default.")
}

/// An on/off switch for a boolean parameter, lit when on. One gesture per click.
pub fn switch(ui: &mut Ui, label: &str, param: &BoolParam, setter: &ParamSetter, tip: &str) {
    let on = param.value();
    let text = egui::RichText::new(label).color(if on { Color32::BLACK } else { theme::DIM });
    let button = egui::Button::new(text).fill(if on { theme::ACCENT } else { theme::TRACK });
    if ui.add(button).on_hover_text(tip).clicked() {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, !on);
        setter.end_set_parameter(param);
    }
}

fn arc(center: Pos2, r: f32, start: f32, sweep: f32, stroke: Stroke) -> Shape {
    let n = ((sweep.abs() / std::f32::consts::TAU * 64.0).ceil() as usize).max(2);
    let points = (0..=n)
        .map(|i| {
            let a = start + sweep * i as f32 / n as f32;
            center + vec2(a.cos(), a.sin()) * r
        })
        .collect();
    Shape::line(points, stroke)
}

/// Lowest and highest level on a meter, dBFS.
pub const METER_FLOOR_DB: f32 = -60.0;
pub const METER_CEIL_DB: f32 = 6.0;

/// A vertical peak meter with a clip light on top; returns true when the light was clicked
/// (to clear it).
pub fn meter(ui: &mut Ui, label: &str, level_db: f32, clipped: bool, height: f32) -> bool {
    let width = 18.0;
    let (rect, _) = ui.allocate_exact_size(vec2(width + 30.0, height + 40.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let bar = Rect::from_min_size(
        pos2(rect.left() + 4.0, rect.top() + 20.0),
        vec2(width, height),
    );
    let led = Rect::from_min_size(pos2(bar.left(), rect.top() + 4.0), vec2(width, 11.0));
    let led_resp = ui.interact(led, ui.scope_id().with(label).with("clip"), Sense::click());
    painter.rect_filled(led, 2.0, if clipped { theme::ERROR } else { theme::TRACK });
    painter.rect_filled(bar, 3.0, Color32::from_rgb(0x10, 0x0f, 0x0d));
    let frac = |db: f32| ((db - METER_FLOOR_DB) / (METER_CEIL_DB - METER_FLOOR_DB)).clamp(0.0, 1.0);
    let level = frac(level_db);
    if level > 0.0 {
        let top = bar.bottom() - bar.height() * level;
        // Green to the working level, amber approaching full scale, red above it.
        for (lo, hi, c) in [
            (METER_FLOOR_DB, -18.0, theme::GOOD),
            (-18.0, -3.0, theme::WARN),
            (-3.0, METER_CEIL_DB, theme::ERROR),
        ] {
            let y0 = bar.bottom() - bar.height() * frac(lo);
            let y1 = (bar.bottom() - bar.height() * frac(hi)).max(top);
            if y1 < y0 {
                painter.rect_filled(
                    Rect::from_x_y_ranges(bar.x_range().shrink(2.0), y1..=y0),
                    1.0,
                    c,
                );
            }
        }
    }
    for db in [0.0f32, -12.0, -24.0, -48.0] {
        let y = bar.bottom() - bar.height() * frac(db);
        painter.line_segment(
            [pos2(bar.right(), y), pos2(bar.right() + 4.0, y)],
            Stroke::new(1.0, theme::DIM),
        );
        painter.text(
            pos2(bar.right() + 6.0, y),
            Align2::LEFT_CENTER,
            format!("{db:.0}"),
            FontId::proportional(11.0),
            theme::DIM,
        );
    }
    painter.text(
        pos2(bar.center().x, rect.bottom()),
        Align2::CENTER_BOTTOM,
        label,
        FontId::proportional(12.0),
        theme::DIM,
    );
    led_resp
        .on_hover_text(if clipped {
            "Clipped above 0 dBFS. Click to clear."
        } else {
            "Lights when the signal goes above 0 dBFS."
        })
        .clicked()
}

/// Choices side by side, one selected; `enabled[i]` false greys one out with `why[i]`.
/// Returns the index clicked.
pub fn segmented(
    ui: &mut Ui,
    options: &[&str],
    selected: usize,
    enabled: &[bool],
    why: &[&str],
) -> Option<usize> {
    let mut clicked = None;
    // Inside a right-to-left layout the first option must be added last.
    let order: Vec<usize> = if ui.layout().prefer_right_to_left() {
        (0..options.len()).rev().collect()
    } else {
        (0..options.len()).collect()
    };
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 2.0;
        for i in order {
            let name = &options[i];
            let on = i == selected;
            let text =
                egui::RichText::new(*name).color(if on { Color32::BLACK } else { theme::TEXT });
            let button =
                egui::Button::new(text).fill(if on { theme::ACCENT } else { theme::TRACK });
            let ok = enabled.get(i).copied().unwrap_or(true);
            let mut r = ui.add_enabled(ok, button);
            if !ok {
                if let Some(w) = why.get(i).filter(|w| !w.is_empty()) {
                    r = r.on_disabled_hover_text(*w);
                }
            }
            if r.clicked() {
                clicked = Some(i);
            }
        }
    });
    clicked
}
