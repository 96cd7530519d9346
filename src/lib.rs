//! Tubeless: a Neural Amp Modeler player as a VST3 + CLAP plugin. Glue only: the NAM
//! engine is `tubeless-nam`, the signal chain `tubeless-dsp`; this crate connects them to
//! the host (parameters, state, latency), the loader thread and the editor.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nice_plug::prelude::*;
use tubeless_dsp::ir::IrSlot;
use tubeless_dsp::{Chain, ModelSlot, Retired};

pub mod editor;
pub mod loader;
pub mod meters;
pub mod params;
pub mod state;
pub mod status;

use loader::{AudioEnd, HostConfig, Loader, Published};
use meters::Meters;
use params::TubelessParams;

type StartupFiles = (Option<std::path::PathBuf>, Option<std::path::PathBuf>);

/// The standalone's `--model` and `--ir`, for the first instance it creates to load.
static STARTUP_FILES: std::sync::Mutex<StartupFiles> = std::sync::Mutex::new((None, None));

/// The standalone's `--model` and `--ir`: loaded by the next instance created.
pub fn set_startup_files(model: Option<std::path::PathBuf>, ir: Option<std::path::PathBuf>) {
    *STARTUP_FILES.lock().unwrap_or_else(|p| p.into_inner()) = (model, ir);
}

/// An offline render waits at most this long for a model that is still loading.
const OFFLINE_LOAD_WAIT: Duration = Duration::from_secs(30);

pub struct Tubeless {
    params: Arc<TubelessParams>,
    loader: Arc<Loader>,
    audio: AudioEnd,
    meters: Arc<Meters>,
    /// Built in `activate` for the host's rate and block size.
    chain: Option<Chain>,
    /// The host configuration the chain was built for; slots for another are refused.
    epoch: u64,
    main_inputs: usize,
    offline: bool,
    /// Samples processed since activation: a restored model goes in without a crossfade
    /// until the first one is heard.
    heard: bool,
    reported_latency: u32,
    /// A retired slot the queue back to the loader had no room for yet.
    unsent: Option<Retired>,
    /// Offers the chain could not take yet.
    held: Option<(Option<Box<ModelSlot>>, bool)>,
    held_ir: Option<(Option<IrSlot>, bool)>,
}

impl Default for Tubeless {
    fn default() -> Self {
        let (loader, audio) = Loader::start();
        let (model, ir) =
            std::mem::take(&mut *STARTUP_FILES.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(path) = model {
            loader.request_load(loader::Kind::Model, path);
        }
        if let Some(path) = ir {
            loader.request_load(loader::Kind::Ir, path);
        }
        Tubeless {
            params: Arc::new(TubelessParams::new(Arc::clone(&loader))),
            loader,
            audio,
            meters: Arc::new(Meters::default()),
            chain: None,
            epoch: 0,
            main_inputs: 2,
            offline: false,
            heard: false,
            reported_latency: 0,
            unsent: None,
            held: None,
            held_ir: None,
        }
    }
}

impl Drop for Tubeless {
    fn drop(&mut self) {
        self.loader.quit();
    }
}

impl Tubeless {
    /// A requested model or IR has not reached the audio thread yet: for hosts' tests and
    /// benchmarks that drive the plugin directly and must wait for it.
    pub fn is_loading(&self) -> bool {
        self.loader.is_pending()
    }

    /// The engine the chain plays (side A), for the benchmark that times it beside the
    /// plugin's `process()`: the same engine in the same memory.
    #[doc(hidden)]
    pub fn playing_engine(&mut self) -> Option<&mut tubeless_nam::Engine> {
        let slot = self.chain.as_mut()?.model_mut()?;
        Some(slot.engine_mut(tubeless_dsp::Side::A))
    }

    /// Takes newly published slots at the start of a block. Wait-free.
    #[inline]
    fn take_published(&mut self) {
        // The usual block: nothing new, nothing waiting (two relaxed loads, no call).
        if self.held.is_some()
            || self.held_ir.is_some()
            || self.audio.models.updated()
            || self.audio.irs.updated()
        {
            self.take_published_now();
        }
    }

    #[inline(never)]
    fn take_published_now(&mut self) {
        let Some(chain) = self.chain.as_mut() else {
            return;
        };
        let epoch = self.epoch;
        let AudioEnd {
            models,
            irs,
            retire,
        } = &mut self.audio;
        let unsent = &mut self.unsent;
        if self.held.is_none() {
            self.held = take_fresh(models, epoch, |stale| {
                send_back(retire, unsent, Retired::Model(stale))
            });
        }
        if self.held_ir.is_none() {
            self.held_ir = take_fresh(irs, epoch, |stale: IrSlot| {
                for c in [stale.main, stale.side] {
                    send_back(retire, unsent, Retired::Ir(c));
                }
            });
        }
        if let Some((slot, instant)) = self.held.take() {
            let now = instant && (!self.heard || self.offline);
            let result = if now {
                chain.offer_now(slot)
            } else {
                chain.offer(slot)
            };
            if let Err(slot) = result {
                self.held = Some((slot, instant));
            }
        }
        if let Some((ir, instant)) = self.held_ir.take() {
            let result = if instant && (!self.heard || self.offline) {
                chain.offer_ir_now(ir)
            } else {
                chain.offer_ir(ir)
            };
            if let Err(ir) = result {
                self.held_ir = Some((ir, instant));
            }
        }
    }

    /// Sends what the chain no longer plays back to the loader thread. Wait-free.
    #[inline]
    fn return_retired(&mut self) {
        if self.unsent.is_some() || self.chain.as_ref().is_some_and(|c| c.has_retired()) {
            self.return_retired_now();
        }
    }

    #[inline(never)]
    fn return_retired_now(&mut self) {
        if let Some(s) = self.unsent.take() {
            send_back(&mut self.audio.retire, &mut self.unsent, s);
        }
        let Some(chain) = self.chain.as_mut() else {
            return;
        };
        while self.unsent.is_none() {
            match chain.take_retired() {
                Some(s) => send_back(&mut self.audio.retire, &mut self.unsent, s),
                None => break,
            }
        }
    }
}

/// The newest value a triple buffer holds, if one arrived since the last look. Wait-free.
fn fresh<T: Send>(out: &mut triple_buffer::Output<Option<T>>) -> Option<T> {
    if out.update() {
        out.output_buffer_mut().take()
    } else {
        None
    }
}

/// A slot newly published for this epoch, with whether it goes in at once; one built for
/// another sample rate or block size (never played) goes to `stale` instead.
fn take_fresh<S: Send>(
    out: &mut triple_buffer::Output<Option<Published<S>>>,
    epoch: u64,
    mut stale: impl FnMut(S),
) -> Option<(Option<S>, bool)> {
    match fresh(out)? {
        Published {
            epoch: e,
            slot,
            instant,
        } if e == epoch => Some((slot, instant)),
        Published { slot, .. } => {
            if let Some(s) = slot {
                stale(s);
            }
            None
        }
    }
}

/// Pushes a slot onto the queue to the loader; keeps it in `unsent` when the queue is full.
fn send_back(retire: &mut rtrb::Producer<Retired>, unsent: &mut Option<Retired>, item: Retired) {
    if let Err(rtrb::PushError::Full(item)) = retire.push(item) {
        if unsent.is_none() {
            *unsent = Some(item);
        } else {
            // Both full: the loader thread is gone or stalled. Leaking one slot is better
            // than freeing memory on the audio thread.
            std::mem::forget(item);
        }
    }
}

impl Plugin for Tubeless {
    const NAME: &'static str = "Tubeless";
    const VENDOR: &'static str = "Tubeless";
    const URL: &'static str = "https://github.com/tubeless-audio/tubeless";
    const EMAIL: &'static str = "tubeless@example.org";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type Editor = editor::TubelessEditor;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        Some(editor::TubelessEditor::new(
            Arc::clone(&self.params),
            Arc::clone(&self.loader),
            Arc::clone(&self.meters),
        ))
    }

    fn filter_state(state: &mut PluginState) {
        state::migrate_plugin_state(state);
    }

    fn activate(
        &mut self,
        layout: &AudioIOLayout,
        config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let host = HostConfig {
            sample_rate: config.sample_rate as f64,
            max_block: config.max_buffer_size.max(1) as usize,
            // The loader fills in the user's choice.
            quality: Default::default(),
        };
        self.main_inputs = layout
            .main_input_channels
            .map_or(1, |n| n.get() as usize)
            .clamp(1, 2);
        self.offline = config.process_mode == ProcessMode::Offline;
        let (epoch, model, ir) = self.loader.activate(host);
        let mut chain = Chain::new(
            host.sample_rate,
            host.max_block,
            self.params.chain_settings(),
        );
        // Nothing has been heard yet: the model and the IR are simply there, no fade in.
        drop(chain.place(model));
        drop(chain.place_ir(ir));
        self.reported_latency = chain.latency() as u32;
        context.set_latency_samples(self.reported_latency);
        self.meters.set_latency(self.reported_latency);
        // Dropped here, on the host's thread, with whatever the old chain held.
        self.chain = Some(chain);
        self.epoch = epoch;
        self.heard = false;
        self.held = None;
        self.held_ir = None;
        true
    }

    fn reset(&mut self) {
        // Right after `activate` the chain is as fresh as a reset would make it: skip the
        // prewarm a reset costs.
        if !self.heard {
            return;
        }
        if let Some(chain) = self.chain.as_mut() {
            chain.reset();
        }
        self.heard = false;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        if self.offline && self.loader.is_pending() {
            // Offline, time is free and playing dry would ruin the render: wait.
            let t = Instant::now();
            while self.loader.is_pending() && t.elapsed() < OFFLINE_LOAD_WAIT {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        self.take_published();
        // The parameters are read only when one has changed (most blocks none has).
        let settings = self
            .params
            .take_changed()
            .then(|| self.params.chain_settings());
        let inputs = self.main_inputs;
        let Some(chain) = self.chain.as_mut() else {
            return ProcessStatus::Normal;
        };
        if let Some(settings) = settings {
            chain.set_settings(settings);
        }
        if !self.heard {
            // Settings made before playback starts apply from the first sample.
            chain.snap_glides();
        }
        let meter = chain.process(buffer.as_slice(), inputs);
        self.meters.record(meter);
        if buffer.samples() > 0 {
            self.heard = true;
        }
        let latency = chain.latency() as u32;
        if latency != self.reported_latency {
            self.reported_latency = latency;
            context.set_latency_samples(latency);
            self.meters.set_latency(latency);
        }
        let tail = chain.tail_samples().min(u32::MAX as usize) as u32;
        self.return_retired();
        ProcessStatus::Tail(tail)
    }
}

impl ClapPlugin for Tubeless {
    const CLAP_ID: &'static str = "audio.tubeless.nam-player";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Neural Amp Modeler player: amp and pedal captures, lock-free model swaps");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Distortion,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for Tubeless {
    const VST3_CLASS_ID: [u8; 16] = *b"TubelessNAMAmp01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Distortion];
}

nice_export_clap!(Tubeless);
nice_export_vst3!(Tubeless);
