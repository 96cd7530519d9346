//! Everything about files that happens off the audio thread: reading and parsing a `.nam`
//! or an IR, building and prewarming slots for the host's rate and block size, handing
//! them to the audio thread lock-free, and dropping what it gives back.
//!
//! ```text
//!  editor --Command--> loader thread --+
//!  state restore (host, synchronous) --+--> Channel<A>: what plays, what is saved, status
//!  activate (host, synchronous) -------+        \--> triple buffer --> audio thread
//!  audio thread --retired slots (wait-free ring)--> loader thread (drops them)
//! ```
//!
//! Each request takes a generation number when it is made, so a slow load can never
//! overwrite a newer one, and each slot is tagged with the host configuration (epoch) it
//! was built for, so the audio thread never plays a slot built for another sample rate.

mod channel;
mod ir;
mod model;

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::Value;
use tubeless_dsp::ir::IrSlot;
use tubeless_dsp::stream_resample::Quality;
use tubeless_dsp::{ModelSlot, Retired};

pub use channel::{neighbour, Asset, Channel};
pub use ir::IrAsset;
pub use model::ModelAsset;

use crate::status::Status;

/// What the audio thread receives: a slot (or `None`: nothing) for one host configuration.
pub struct Published<S> {
    pub epoch: u64,
    pub slot: Option<S>,
    /// Put in place at once rather than crossfaded: a session being restored.
    pub instant: bool,
}

/// Which kind of file a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Model,
    Ir,
}

enum Command {
    Load {
        kind: Kind,
        path: PathBuf,
        generation: u64,
    },
    /// Play the file on disk although it differs from the copy saved in the session.
    LoadFromDisk {
        kind: Kind,
        generation: u64,
    },
    Clear {
        kind: Kind,
        generation: u64,
    },
    /// A preset's `model` or `ir` object, applied with a crossfade.
    Restore {
        kind: Kind,
        value: Value,
    },
    /// Time the current model for the editor's CPU figure.
    Measure,
    /// The resampling quality changed: rebuild the model for it (crossfaded).
    Rebuild,
    Quit,
}

/// What slots are built for: the host's side, and how hard the resamplers work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostConfig {
    pub sample_rate: f64,
    pub max_block: usize,
    pub quality: Quality,
}

/// The loader, shared by the plugin, its persisted fields, its editor and the thread.
pub struct Loader {
    pub model: Channel<ModelAsset>,
    pub ir: Channel<IrAsset>,
    commands: Mutex<mpsc::Sender<Command>>,
    /// The host's configuration, and whether the model is resampled there.
    host: Mutex<(Option<HostConfig>, bool)>,
    /// The resampling quality the user chose (saved in the `options` field).
    quality: Mutex<Quality>,
}

/// The audio thread's ends: where slots arrive and where retired ones go.
pub struct AudioEnd {
    pub models: triple_buffer::Output<Option<Published<Box<ModelSlot>>>>,
    pub irs: triple_buffer::Output<Option<Published<IrSlot>>>,
    pub retire: rtrb::Producer<Retired>,
}

/// Slots in flight back to the loader thread; far more than one crossfade can retire.
const RETIRE_CAPACITY: usize = 32;
/// How often the loader thread drops retired slots when nothing else happens.
const DRAIN_INTERVAL: Duration = Duration::from_millis(50);

impl Loader {
    /// The loader and the audio thread's ends; starts the loader thread.
    pub fn start() -> (Arc<Loader>, AudioEnd) {
        // `Default`, not `triple_buffer(&initial)`: slots are not `Clone`, and all three
        // buffers start empty.
        let (model_in, models) =
            triple_buffer::TripleBuffer::<Option<Published<Box<ModelSlot>>>>::default().split();
        let (ir_in, irs) =
            triple_buffer::TripleBuffer::<Option<Published<IrSlot>>>::default().split();
        let (retire, retired) = rtrb::RingBuffer::new(RETIRE_CAPACITY);
        let (tx, rx) = mpsc::channel();
        let loader = Arc::new(Loader {
            model: Channel::new(model_in),
            ir: Channel::new(ir_in),
            commands: Mutex::new(tx),
            host: Mutex::new((None, false)),
            quality: Mutex::new(Quality::default()),
        });
        let worker = Arc::clone(&loader);
        let spawned = std::thread::Builder::new()
            .name("tubeless-loader".into())
            .spawn(move || worker.run(rx, retired));
        if spawned.is_err() {
            // Without the thread the editor cannot load; sessions still restore.
            loader.model.request_failed_to_send();
        }
        (
            loader,
            AudioEnd {
                models,
                irs,
                retire,
            },
        )
    }

    /// A copy of what the editor shows.
    pub fn status(&self) -> Status {
        let (host, resampled) = *self.host.lock();
        Status {
            model: self.model.status(),
            ir: self.ir.status(),
            host,
            resampled,
        }
    }

    /// True while a requested change has not reached the audio thread's buffers yet.
    pub fn is_pending(&self) -> bool {
        self.model.is_pending() || self.ir.is_pending()
    }

    fn channel_request(&self, kind: Kind, make: impl FnOnce(u64) -> Command) {
        let generation = match kind {
            Kind::Model => self.model.begin_request(),
            Kind::Ir => self.ir.begin_request(),
        };
        if self.commands.lock().send(make(generation)).is_err() {
            match kind {
                Kind::Model => self.model.request_failed_to_send(),
                Kind::Ir => self.ir.request_failed_to_send(),
            }
        }
    }

    /// Loads `path` in the background; what plays keeps playing until it is ready.
    pub fn request_load(&self, kind: Kind, path: PathBuf) {
        match kind {
            Kind::Model => self.model.note_loading(&path),
            Kind::Ir => self.ir.note_loading(&path),
        }
        self.channel_request(kind, |generation| Command::Load {
            kind,
            path,
            generation,
        });
    }

    pub fn request_clear(&self, kind: Kind) {
        self.channel_request(kind, |generation| Command::Clear { kind, generation });
    }

    pub fn request_load_from_disk(&self, kind: Kind) {
        self.channel_request(kind, |generation| Command::LoadFromDisk {
            kind,
            generation,
        });
    }

    /// A preset names a model or IR: the loader thread applies it like a session's field.
    pub fn request_restore(&self, kind: Kind, value: Value) {
        let _ = self.commands.lock().send(Command::Restore { kind, value });
    }

    pub fn quit(&self) {
        let _ = self.commands.lock().send(Command::Quit);
    }

    /// A session's `model` field: built before this returns (see `Channel::restore`).
    pub fn restore_model(&self, value: Value) {
        self.model.restore(value);
        self.update_mismatch();
        let _ = self.commands.lock().send(Command::Measure);
    }

    pub fn restore_ir(&self, value: Value) {
        self.ir.restore(value);
    }

    pub fn quality(&self) -> Quality {
        *self.quality.lock()
    }

    /// A new resampling quality (from the editor or a restored session): the model is
    /// rebuilt for it off the audio thread and crossfaded in.
    pub fn set_quality(&self, q: Quality) {
        let mut cur = self.quality.lock();
        if *cur == q {
            return;
        }
        *cur = q;
        drop(cur);
        let _ = self.commands.lock().send(Command::Rebuild);
    }

    /// The host (re)activates: both files are built for the new configuration here, on
    /// the host's thread. The resampling quality is the loader's.
    pub fn activate(&self, host: HostConfig) -> (u64, Option<Box<ModelSlot>>, Option<IrSlot>) {
        let host = HostConfig {
            quality: self.quality(),
            ..host
        };
        let (epoch, model) = self.model.activate(host);
        let (ir_epoch, ir) = self.ir.activate(host);
        debug_assert_eq!(epoch, ir_epoch, "both channels count activations");
        let mismatch = model.as_ref().is_some_and(|m| m.is_resampled());
        *self.host.lock() = (Some(host), mismatch);
        (epoch, model, ir)
    }

    fn run(&self, rx: mpsc::Receiver<Command>, mut retired: rtrb::Consumer<Retired>) {
        loop {
            let command = rx.recv_timeout(DRAIN_INTERVAL);
            // Dropped here: this is what keeps frees off the audio thread.
            while let Ok(r) = retired.pop() {
                drop(r);
            }
            match command {
                Ok(Command::Quit) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Ok(Command::Load {
                    kind,
                    path,
                    generation,
                }) => match kind {
                    Kind::Model => {
                        if self.model.load(&path, generation) {
                            self.after_model_change();
                        }
                    }
                    Kind::Ir => {
                        self.ir.load(&path, generation);
                    }
                },
                Ok(Command::LoadFromDisk { kind, generation }) => match kind {
                    Kind::Model => {
                        self.model.load_from_disk(generation);
                        self.after_model_change();
                    }
                    Kind::Ir => self.ir.load_from_disk(generation),
                },
                Ok(Command::Clear { kind, generation }) => match kind {
                    Kind::Model => {
                        self.model.clear(generation);
                        self.host.lock().1 = false;
                    }
                    Kind::Ir => self.ir.clear(generation),
                },
                Ok(Command::Restore { kind, value }) => match kind {
                    Kind::Model => {
                        self.model.restore_with(value, false);
                        self.after_model_change();
                    }
                    Kind::Ir => self.ir.restore_with(value, false),
                },
                Ok(Command::Measure) => self.measure(),
                Ok(Command::Rebuild) => {
                    let q = self.quality();
                    self.model.rebuild(|h| HostConfig { quality: q, ..h });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn after_model_change(&self) {
        self.update_mismatch();
        self.measure();
    }

    fn update_mismatch(&self) {
        let rate = self.model.current_file().map(|f| f.sample_rate);
        let mut h = self.host.lock();
        h.1 =
            matches!((h.0, rate), (Some(host), Some(r)) if (host.sample_rate - r).abs() > 1e-6 * r);
    }

    fn measure(&self) {
        if let Some(file) = self.model.current_file() {
            if let Some(cpu) = model::measure_cpu(&file) {
                self.model.update_info(|m| m.cpu = Some(cpu));
            }
        }
    }
}
