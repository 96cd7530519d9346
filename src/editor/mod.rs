//! The editor (egui through nice-plug-egui), laid out as a guitarist reads an amp, in the
//! signal's order: input, gate, the model; EQ, cabinet, output.
//!
//! The editor never touches the audio thread's data: parameters go through the host
//! (`ParamSetter`), file requests to the loader, and it reads the loader's status and the
//! meters' atomics.

mod controls;
mod panels;
mod presets;
mod theme;
mod widgets;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{vec2, RichText};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::{LogicalSize, NativeSize, Size};
use nice_plug::prelude::*;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorHandle, EguiEditorState, EguiNiceSettings, Frame,
    NiceEguiApp, RepaintNotifier,
};
use parking_lot::Mutex;

use crate::loader::{Kind, Loader};
use crate::meters::Meters;
use crate::params::{ChannelModeParam, TubelessParams};
use crate::status::Status;

/// Smallest editor, in logical pixels: everything still fits.
const MIN_SIZE: (f32, f32) = (980.0, 620.0);
/// How fast a meter falls back, in dB per second (a peak meter's usual ballistics).
const METER_FALL_DB_PER_S: f32 = 24.0;

/// The plugin's editor: a fresh egui window each time the host opens it, at the size saved
/// in the session (nice-plug-egui's own state cannot be resized after creation, so the
/// size lives in our persisted field and the egui state is made per window).
pub struct TubelessEditor {
    params: Arc<TubelessParams>,
    loader: Arc<Loader>,
    meters: Arc<Meters>,
    live: Arc<Mutex<Option<Arc<EguiEditorState>>>>,
}

impl TubelessEditor {
    pub fn new(params: Arc<TubelessParams>, loader: Arc<Loader>, meters: Arc<Meters>) -> Self {
        TubelessEditor {
            params,
            loader,
            meters,
            live: Arc::new(Mutex::new(None)),
        }
    }

    fn logical_size(&self) -> (u32, u32) {
        // While a window is open, its own size is the truth (the user may have dragged it).
        if let Some(state) = self.live.lock().as_ref() {
            let s = state.logical_size();
            let size = (s.width.round() as u32, s.height.round() as u32);
            *self.params.editor_size.lock() = size;
            return size;
        }
        *self.params.editor_size.lock()
    }

    fn build(&self) -> EguiEditor<App> {
        let (w, h) = self.logical_size();
        let w = (w as f32).clamp(MIN_SIZE.0, 4096.0);
        let h = (h as f32).clamp(MIN_SIZE.1, 4096.0);
        let state =
            EguiEditorState::from_size(Size::Logical(LogicalSize::new(w as f64, h as f64)), 1.0);
        *self.live.lock() = Some(Arc::clone(&state));
        let app = App {
            params: Arc::clone(&self.params),
            loader: Arc::clone(&self.loader),
            meters: Arc::clone(&self.meters),
            editor_size: Arc::clone(&self.params.editor_size),
            live: Arc::clone(&self.live),
            gui: None,
            dialog_open: Arc::new(AtomicBool::new(false)),
            presets: presets::Presets::default(),
            levels: [widgets::METER_FLOOR_DB; 2],
            last_frame: Instant::now(),
        };
        let settings = EguiNiceSettings::new()
            .with_tile("Tubeless")
            .with_resize_hint(ResizeHint {
                can_resize: true,
                can_resize_horizontally: true,
                can_resize_vertically: true,
                ..ResizeHint::default()
            });
        create_egui_editor(state, RepaintNotifier::new(), settings, app)
            .expect("nice-plug-egui always makes an editor")
    }
}

impl Editor for TubelessEditor {
    type Handle = EguiEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<nice_plug::editor::HostMethods>,
    ) -> Result<nice_plug::editor::SpawnedEditor<Self::Handle>, Box<dyn std::error::Error>> {
        self.build().spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )
    }

    fn size(&self) -> NativeSize<u32> {
        let (w, h) = self.logical_size();
        NativeSize::from_size(Size::Logical(LogicalSize::new(w as f64, h as f64)), 1.0)
    }

    fn resize_hint(&self) -> ResizeHint {
        ResizeHint {
            can_resize: true,
            can_resize_horizontally: true,
            can_resize_vertically: true,
            ..ResizeHint::default()
        }
    }
}

pub struct App {
    params: Arc<TubelessParams>,
    loader: Arc<Loader>,
    meters: Arc<Meters>,
    editor_size: Arc<Mutex<(u32, u32)>>,
    live: Arc<Mutex<Option<Arc<EguiEditorState>>>>,
    gui: Option<GuiContext>,
    dialog_open: Arc<AtomicBool>,
    presets: presets::Presets,
    /// Displayed meter levels (dBFS), falling at a fixed rate.
    levels: [f32; 2],
    last_frame: Instant,
}

impl NiceEguiApp for App {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        theme::apply(&egui_ctx);
        self.gui = Some(gui);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        let Some(gui) = self.gui.clone() else {
            return;
        };
        let setter = gui.param_setter();
        let ctx = ui.ctx().clone();
        // Meters move: keep frames coming while the window is open.
        ctx.request_repaint_after(Duration::from_millis(33));
        self.take_dropped_files(&ctx);
        self.presets
            .apply_loaded(&self.params, &setter, &self.loader);

        nice_plug_egui::resizable_window::ResizableWindow::new("tubeless-editor")
            .min_size(vec2(MIN_SIZE.0, MIN_SIZE.1))
            .show(ui, |ui| {
                egui::Frame::new()
                    .inner_margin(egui::Margin::symmetric(12, 8))
                    .show(ui, |ui| {
                        ui.set_min_size(ui.available_size());
                        self.header(ui, &gui, &setter);
                        ui.add_space(6.0);
                        let status = self.loader.status();
                        self.body(ui, &setter, &status);
                        footer(ui, &status, self.meters.latency(), &self.presets);
                    });
            });
    }

    fn resized(&mut self, size: nice_plug_egui::baseview::WindowSize) {
        let l = size.logical;
        *self.editor_size.lock() = (l.width.round() as u32, l.height.round() as u32);
    }

    fn editor_closed(&mut self) {
        *self.live.lock() = None;
    }
}

impl App {
    fn header(&mut self, ui: &mut egui::Ui, gui: &GuiContext, setter: &ParamSetter) {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new("TUBELESS")
                    .size(24.0)
                    .strong()
                    .color(theme::ACCENT),
            );
            ui.label(RichText::new("Neural Amp Modeler player").color(theme::DIM));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let bypassed = self.params.bypass.value();
                let text = if bypassed { "Bypassed" } else { "Active" };
                let button = egui::Button::new(RichText::new(text).color(if bypassed {
                    theme::TEXT
                } else {
                    egui::Color32::BLACK
                }))
                .fill(if bypassed { theme::TRACK } else { theme::GOOD });
                if ui
                    .add(button)
                    .on_hover_text("Bypass (click-free; the latency stays the same)")
                    .clicked()
                {
                    setter.begin_set_parameter(&self.params.bypass);
                    setter.set_parameter(&self.params.bypass, !bypassed);
                    setter.end_set_parameter(&self.params.bypass);
                }
                ui.add_space(8.0);
                let mode = self.params.channel_mode.value();
                let selected = usize::from(mode == ChannelModeParam::DualMono);
                if let Some(i) = widgets::segmented(
                    ui,
                    &["Mono", "Dual mono"],
                    selected,
                    &[true, true],
                    &["", ""],
                ) {
                    let m = [ChannelModeParam::Mono, ChannelModeParam::DualMono][i];
                    setter.begin_set_parameter(&self.params.channel_mode);
                    setter.set_parameter(&self.params.channel_mode, m);
                    setter.end_set_parameter(&self.params.channel_mode);
                }
                ui.label(RichText::new("Channels").color(theme::DIM))
                    .on_hover_text(
                        "Mono: inputs averaged through one model. Dual mono: left and right each \
                     through their own copy of the model (twice the CPU).",
                    );
                ui.add_space(8.0);
                self.presets.buttons(ui, gui, &self.dialog_open);
            });
        });
    }

    /// The two rows of sections, in the signal's order.
    fn body(&mut self, ui: &mut egui::Ui, setter: &ParamSetter, status: &Status) {
        let peaks = self.meters.take();
        let now = Instant::now();
        let dt = now.duration_since(self.last_frame).as_secs_f32().min(0.5);
        self.last_frame = now;
        for (shown, peak) in self.levels.iter_mut().zip([peaks.input, peaks.output]) {
            let db = if peak > 0.0 {
                20.0 * peak.log10()
            } else {
                widgets::METER_FLOOR_DB
            };
            *shown = db
                .max(*shown - METER_FALL_DB_PER_S * dt)
                .max(widgets::METER_FLOOR_DB);
        }
        let p = &self.params;
        let gap = ui.spacing().item_spacing.x;
        let w = ui.available_width();
        // Two rows, each read left to right in the signal's order.
        let model_w = (w - INPUT_W - GATE_W - 2.0 * gap).max(300.0);
        let cab_w = (w - EQ_W - OUTPUT_W - 2.0 * gap).max(200.0);
        ui.horizontal_top(|ui| {
            column(ui, INPUT_W, ROW_A_H, |ui| {
                if controls::input(ui, p, setter, self.levels[0], peaks.input_clipped) {
                    self.meters.clear_clips();
                }
            });
            column(ui, GATE_W, ROW_A_H, |ui| {
                controls::gate(ui, p, setter, peaks.gate_db)
            });
            column(ui, model_w, ROW_A_H, |ui| {
                panels::model(
                    ui,
                    status,
                    &p.size,
                    setter,
                    self.meters.latency(),
                    &self.loader,
                    &self.dialog_open,
                )
            });
        });
        ui.add_space(gap);
        ui.horizontal_top(|ui| {
            column(ui, EQ_W, ROW_B_H, |ui| controls::eq(ui, p, setter));
            column(ui, cab_w, ROW_B_H, |ui| {
                theme::section(ui, "CABINET", |ui| {
                    panels::cab(
                        ui,
                        status,
                        &p.ir_on,
                        setter,
                        &self.loader,
                        &self.dialog_open,
                    );
                });
            });
            column(ui, OUTPUT_W, ROW_B_H, |ui| {
                if controls::output(ui, p, setter, status, self.levels[1], peaks.output_clipped) {
                    self.meters.clear_clips();
                }
            });
        });
    }

    /// A `.nam` or `.wav` dropped on the window loads as the model or the cab, where the
    /// windowing layer delivers drops.
    fn take_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<std::path::PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        for p in dropped {
            let ext = p
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            match ext.as_str() {
                "nam" => self.loader.request_load(Kind::Model, p),
                "wav" | "wave" => self.loader.request_load(Kind::Ir, p),
                _ => {}
            }
        }
    }
}

// Section widths and row heights, logical pixels; the model and the cab take the rest.
const INPUT_W: f32 = 184.0;
const GATE_W: f32 = 372.0;
const EQ_W: f32 = 280.0;
const OUTPUT_W: f32 = 346.0;
const ROW_A_H: f32 = 250.0;
const ROW_B_H: f32 = 220.0;

/// A fixed-width column of a row; its section fills it.
fn column(ui: &mut egui::Ui, width: f32, height: f32, add: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui_with_layout(
        vec2(width, height),
        egui::Layout::top_down(egui::Align::Min),
        |ui| {
            ui.set_width(width);
            ui.set_min_height(height);
            add(ui);
        },
    );
}

/// The host side at a glance (rate, block size, latency), and the last preset message.
fn footer(ui: &mut egui::Ui, status: &Status, latency: u32, presets: &presets::Presets) {
    ui.with_layout(egui::Layout::bottom_up(egui::Align::Min), |ui| {
        ui.add_space(4.0);
        let text = match status.host {
            Some(h) => format!(
                "Host {} kHz, blocks up to {} samples  ·  latency {} samples",
                panels::trim_num(h.sample_rate / 1000.0),
                h.max_block,
                latency
            ),
            None => "Not active in a host yet".to_owned(),
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new(text).small().color(theme::DIM));
            if let Some(m) = presets.message() {
                ui.label(RichText::new(format!("  ·  {m}")).small().color(theme::DIM));
            }
        });
    });
}

/// Opens a file dialog on its own thread (it blocks until the user picks), so the editor
/// keeps drawing; the pick goes straight to the loader.
pub(crate) fn open_dialog(
    loader: &Arc<Loader>,
    kind: Kind,
    start_dir: Option<std::path::PathBuf>,
    open: &Arc<AtomicBool>,
) {
    let loader = Arc::clone(loader);
    spawn_dialog(open, move || {
        let mut d = match kind {
            Kind::Model => rfd::FileDialog::new()
                .set_title("Load a NAM model")
                .add_filter("NAM model", &["nam"]),
            Kind::Ir => rfd::FileDialog::new()
                .set_title("Load a cabinet IR")
                .add_filter("WAV impulse response", &["wav", "wave"]),
        };
        if let Some(dir) = start_dir {
            d = d.set_directory(dir);
        }
        if let Some(p) = d.pick_file() {
            loader.request_load(kind, p);
        }
    });
}

/// Runs `f` (a blocking file dialog) on its own thread, one dialog at a time.
pub(crate) fn spawn_dialog(open: &Arc<AtomicBool>, f: impl FnOnce() + Send + 'static) {
    if open.swap(true, Ordering::AcqRel) {
        return;
    }
    let flag = Arc::clone(open);
    let spawned = std::thread::Builder::new()
        .name("tubeless-file-dialog".into())
        .spawn(move || {
            f();
            flag.store(false, Ordering::Release);
        });
    if spawned.is_err() {
        open.store(false, Ordering::Release);
    }
}
