//! Colours and text sizes: a dark amp panel with warm, tube-glow accents. Sized so the
//! smallest text stays readable at 100 % and nothing crowds at 200 %.

use egui::{Color32, CornerRadius, FontFamily, FontId, Stroke, TextStyle, Visuals};

pub const BACKGROUND: Color32 = Color32::from_rgb(0x17, 0x15, 0x13);
pub const PANEL: Color32 = Color32::from_rgb(0x24, 0x21, 0x1e);
pub const PANEL_EDGE: Color32 = Color32::from_rgb(0x3b, 0x35, 0x2f);
pub const TEXT: Color32 = Color32::from_rgb(0xec, 0xe6, 0xdc);
pub const DIM: Color32 = Color32::from_rgb(0xa3, 0x9a, 0x8d);
pub const ACCENT: Color32 = Color32::from_rgb(0xf2, 0xa5, 0x3a);
pub const ACCENT_DARK: Color32 = Color32::from_rgb(0x6b, 0x48, 0x1c);
pub const GOOD: Color32 = Color32::from_rgb(0x86, 0xc9, 0x6e);
pub const WARN: Color32 = Color32::from_rgb(0xf0, 0xc2, 0x45);
pub const ERROR: Color32 = Color32::from_rgb(0xf0, 0x62, 0x57);
pub const TRACK: Color32 = Color32::from_rgb(0x38, 0x33, 0x2d);

pub const RADIUS: CornerRadius = CornerRadius::same(6);

pub fn apply(ctx: &egui::Context) {
    let mut v = Visuals::dark();
    v.panel_fill = BACKGROUND;
    v.window_fill = PANEL;
    v.extreme_bg_color = Color32::from_rgb(0x10, 0x0f, 0x0d);
    v.override_text_color = Some(TEXT);
    v.selection.bg_fill = ACCENT_DARK;
    v.selection.stroke = Stroke::new(1.0, ACCENT);
    v.hyperlink_color = ACCENT;
    for w in [
        &mut v.widgets.inactive,
        &mut v.widgets.hovered,
        &mut v.widgets.active,
        &mut v.widgets.open,
    ] {
        w.corner_radius = RADIUS;
    }
    v.widgets.inactive.weak_bg_fill = Color32::from_rgb(0x33, 0x2e, 0x29);
    v.widgets.inactive.bg_fill = Color32::from_rgb(0x33, 0x2e, 0x29);
    v.widgets.hovered.weak_bg_fill = Color32::from_rgb(0x45, 0x3d, 0x34);
    v.widgets.hovered.bg_stroke = Stroke::new(1.0, ACCENT);
    v.widgets.active.weak_bg_fill = ACCENT_DARK;
    ctx.set_visuals(v);
    ctx.all_styles_mut(|s| {
        s.text_styles = [
            (
                TextStyle::Small,
                FontId::new(12.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(14.0, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(14.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Heading,
                FontId::new(21.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(13.0, FontFamily::Monospace),
            ),
        ]
        .into();
        s.spacing.item_spacing = egui::vec2(8.0, 6.0);
        s.spacing.button_padding = egui::vec2(10.0, 5.0);
        s.spacing.interact_size.y = 26.0;
    });
}

/// A card: the panel every section sits on.
pub fn card() -> egui::Frame {
    egui::Frame::new()
        .fill(PANEL)
        .stroke(Stroke::new(1.0, PANEL_EDGE))
        .corner_radius(CornerRadius::same(10))
        .inner_margin(egui::Margin::same(10))
}

/// A titled card: a section of the amp's panel.
/// It fills the width and height its column gives it.
pub fn section<R>(ui: &mut egui::Ui, title: &str, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    let margin = 2.0 * 10.0 + 2.0;
    let (w, h) = (
        ui.available_width() - margin,
        ui.min_rect().height() - margin,
    );
    card()
        .show(ui, |ui| {
            ui.set_width(w.max(10.0));
            ui.set_min_height(h.max(10.0));
            ui.label(egui::RichText::new(title).small().strong().color(ACCENT));
            add(ui)
        })
        .inner
}
