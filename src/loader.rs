//! Everything about the model that happens off the audio thread: reading and parsing a
//! `.nam`, building and prewarming a [`ModelSlot`] for the host's rate and block size,
//! handing it to the audio thread lock-free, and dropping the slots it gives back.
//!
//! ```text
//!  editor --Command--> loader thread --+
//!  state restore (host, synchronous) --+--> apply: current model, saved state, status
//!  activate (host, synchronous) -------+        \--> triple buffer --> audio thread
//!  audio thread --retired slots (wait-free ring)--> loader thread (drops them)
//! ```
//!
//! Three paths change the model; `apply` serialises them with one lock that the audio
//! thread never touches. Each request takes a generation number when it is made, so a slow
//! load can never overwrite a newer one, and each slot is tagged with the host
//! configuration (epoch) it was built for, so the audio thread never plays a slot built
//! for another sample rate.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;
use tubeless_dsp::{ModelSlot, SlotSpec};
use tubeless_nam::{ActivationMode, BuildOptions, Engine, NamFile};

use crate::state::{self, ModelState};
use crate::status::{ModelInfo, Source, Status};

/// What the audio thread receives: a slot (or `None`, no model) for one host
/// configuration.
pub struct Published {
    pub epoch: u64,
    pub slot: Option<Box<ModelSlot>>,
    /// Put in place at once rather than crossfaded: a session being restored.
    pub instant: bool,
}

/// Requests to the loader thread.
pub enum Command {
    Load {
        path: PathBuf,
        generation: u64,
    },
    /// Play the file on disk although it differs from the copy saved in the session.
    LoadFromDisk {
        generation: u64,
    },
    Clear {
        generation: u64,
    },
    /// Time the current model for the editor's CPU figure.
    Measure,
    Quit,
}

/// The host's side: what slots are built for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostConfig {
    pub sample_rate: f64,
    pub max_block: usize,
}

/// A model that has been read and parsed, with what saving it takes.
struct Current {
    file: Arc<NamFile>,
    state: ModelState,
}

struct Applied {
    host: Option<HostConfig>,
    epoch: u64,
    generation: u64,
    current: Option<Current>,
    /// The `model` field as it will be saved: the raw value a host gave us while its model
    /// cannot be loaded, so a failed restore loses nothing.
    saved: Value,
    input: triple_buffer::Input<Option<Published>>,
}

/// The loader, shared by the plugin, its persisted field, its editor and the thread.
pub struct Loader {
    apply: Mutex<Applied>,
    status: Mutex<Status>,
    commands: Mutex<mpsc::Sender<Command>>,
    next_generation: AtomicU64,
    /// Requests made and not yet applied: an offline render waits for them.
    pending: AtomicUsize,
    /// Whether newly loaded models are saved in the session.
    embed: AtomicBool,
}

/// The audio thread's ends: where slots arrive and where retired ones go.
pub struct AudioEnd {
    pub incoming: triple_buffer::Output<Option<Published>>,
    pub retire: rtrb::Producer<Box<ModelSlot>>,
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
        let (input, output) = triple_buffer::TripleBuffer::<Option<Published>>::default().split();
        let (retire_tx, retire_rx) = rtrb::RingBuffer::new(RETIRE_CAPACITY);
        let (tx, rx) = mpsc::channel();
        let loader = Arc::new(Loader {
            apply: Mutex::new(Applied {
                host: None,
                epoch: 0,
                generation: 0,
                current: None,
                saved: ModelState::default().to_value(),
                input,
            }),
            status: Mutex::new(Status::default()),
            commands: Mutex::new(tx),
            next_generation: AtomicU64::new(1),
            pending: AtomicUsize::new(0),
            embed: AtomicBool::new(true),
        });
        let worker = Arc::clone(&loader);
        let spawned = std::thread::Builder::new()
            .name("tubeless-loader".into())
            .spawn(move || worker.run(rx, retire_rx));
        if let Err(e) = spawned {
            loader.status.lock().error = Some(format!("could not start the loader thread: {e}"));
        }
        (
            loader,
            AudioEnd {
                incoming: output,
                retire: retire_tx,
            },
        )
    }

    /// A copy of what the editor shows.
    pub fn status(&self) -> Status {
        let mut s = self.status.lock().clone();
        if s.model.is_none() {
            s.embed = self.embed.load(Ordering::Acquire);
        }
        s
    }

    /// True while a requested model change has not reached the triple buffer yet.
    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }

    fn send(&self, make: impl FnOnce(u64) -> Command) {
        let generation = self.next_generation.fetch_add(1, Ordering::AcqRel);
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.commands.lock().send(make(generation)).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Loads `path` in the background; the old model plays until the new one is ready.
    pub fn request_load(&self, path: PathBuf) {
        self.status.lock().loading = Some(path.display().to_string());
        self.send(|generation| Command::Load { path, generation });
    }

    pub fn request_clear(&self) {
        self.send(|generation| Command::Clear { generation });
    }

    pub fn request_load_from_disk(&self) {
        self.send(|generation| Command::LoadFromDisk { generation });
    }

    /// Whether the session keeps a copy of the model (the default). Takes effect on the
    /// next save.
    pub fn set_embed(&self, embed: bool) {
        self.embed.store(embed, Ordering::Release);
        let mut a = self.apply.lock();
        if let Some(cur) = a.current.as_mut() {
            cur.state.embed = embed;
            a.saved = cur.state.to_value();
        }
        self.status.lock().embed = embed;
    }

    pub fn quit(&self) {
        let _ = self.commands.lock().send(Command::Quit);
    }

    /// The `model` field to save.
    pub fn saved_state(&self) -> Value {
        self.apply.lock().saved.clone()
    }

    /// A host restores a session (or a script sets the field): parse and build right here,
    /// so the model is in place before the next process call. Runs on the host's thread,
    /// never the audio thread.
    pub fn restore(&self, value: Value) {
        let generation = self.next_generation.fetch_add(1, Ordering::AcqRel);
        let mut a = self.apply.lock();
        if value == a.saved && a.current.is_some() {
            return; // Hosts often hand back what they just read: nothing to do.
        }
        self.pending.fetch_add(1, Ordering::AcqRel);
        let wanted = ModelState::from_value(&value);
        if wanted.is_empty() {
            a.saved = value;
            self.apply_model(&mut a, generation, None, true, Status::cleared());
            return;
        }
        match open_for_restore(&wanted) {
            Ok((file, source, notice, state)) => {
                let mut status = Status::for_model(&file, &state, source);
                status.notice = notice;
                status.disk_differs = source == Source::EmbeddedFileChanged;
                // A file that loaded is saved again with a fresh copy; an embedded copy
                // that stood in for a missing file is saved exactly as it came.
                a.saved = if source == Source::File {
                    state.to_value()
                } else {
                    value
                };
                let cur = Current {
                    file: Arc::new(file),
                    state,
                };
                self.apply_model(&mut a, generation, Some(cur), true, status);
                let _ = self.commands.lock().send(Command::Measure);
            }
            Err(message) => {
                a.saved = value;
                let mut status = Status::cleared();
                status.error = Some(message);
                status.failed_path = wanted.path.clone();
                self.apply_model(&mut a, generation, None, true, status);
            }
        }
    }

    /// The host (re)activates: build the current model for the new configuration here, on
    /// the host's thread. Returns the slot for the plugin to put in place directly.
    pub fn activate(&self, host: HostConfig) -> (u64, Option<Box<ModelSlot>>) {
        let mut a = self.apply.lock();
        a.host = Some(host);
        a.epoch += 1;
        let slot = match a.current.as_ref() {
            Some(cur) => match build_slot(&cur.file, host) {
                Ok(slot) => Some(slot),
                Err(e) => {
                    self.status.lock().error = Some(e);
                    None
                }
            },
            None => None,
        };
        let mut st = self.status.lock();
        st.host = Some(host);
        st.rate_mismatch = slot.as_ref().is_some_and(|s| s.rate_mismatch());
        (a.epoch, slot)
    }

    /// Installs `current` (or no model), publishes its slot for the audio thread, updates
    /// the status. Skipped when a newer request was already applied.
    fn apply_model(
        &self,
        a: &mut Applied,
        generation: u64,
        current: Option<Current>,
        instant: bool,
        mut status: Status,
    ) {
        self.pending_done();
        if generation < a.generation {
            return;
        }
        a.generation = generation;
        let mut slot = None;
        if let (Some(cur), Some(host)) = (current.as_ref(), a.host) {
            match build_slot(&cur.file, host) {
                Ok(s) => {
                    status.rate_mismatch = s.rate_mismatch();
                    slot = Some(s);
                }
                Err(e) => {
                    // Parsed but not buildable (engine limits): say so, keep the old model.
                    self.status.lock().error = Some(e);
                    return;
                }
            }
        }
        status.host = a.host;
        status.embed = current
            .as_ref()
            .map_or(self.embed.load(Ordering::Acquire), |c| c.state.embed);
        status.folder = current
            .as_ref()
            .and_then(|c| c.state.path.as_deref())
            .or(status.failed_path.as_deref())
            .map(|p| models_in_folder_of(Path::new(p)))
            .unwrap_or_default();
        a.current = current;
        if a.host.is_some() {
            let epoch = a.epoch;
            a.input.write(Some(Published {
                epoch,
                slot,
                instant,
            }));
        }
        *self.status.lock() = status;
    }

    fn pending_done(&self) {
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| p.checked_sub(1));
    }

    fn run(&self, rx: mpsc::Receiver<Command>, mut retired: rtrb::Consumer<Box<ModelSlot>>) {
        loop {
            let command = rx.recv_timeout(DRAIN_INTERVAL);
            // Dropped here: this is what keeps frees off the audio thread.
            while let Ok(slot) = retired.pop() {
                drop(slot);
            }
            match command {
                Ok(Command::Quit) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Ok(Command::Load { path, generation }) => self.load(&path, generation),
                Ok(Command::LoadFromDisk { generation }) => {
                    let path = self
                        .apply
                        .lock()
                        .current
                        .as_ref()
                        .and_then(|c| c.state.path.clone());
                    match path {
                        Some(p) => self.load(Path::new(&p), generation),
                        None => self.pending_done(),
                    }
                }
                Ok(Command::Clear { generation }) => {
                    let mut a = self.apply.lock();
                    a.saved = ModelState::default().to_value();
                    self.apply_model(&mut a, generation, None, false, Status::cleared());
                }
                Ok(Command::Measure) => self.measure(),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn load(&self, path: &Path, generation: u64) {
        let embed = self.embed.load(Ordering::Acquire);
        match open_file(path) {
            Ok((file, state)) => {
                let state = ModelState { embed, ..state };
                let status = Status::for_model(&file, &state, Source::File);
                let mut a = self.apply.lock();
                a.saved = state.to_value();
                let cur = Current {
                    file: Arc::new(file),
                    state,
                };
                self.apply_model(&mut a, generation, Some(cur), false, status);
                drop(a);
                self.measure();
            }
            Err(message) => {
                // The old model keeps playing and the session keeps it.
                self.pending_done();
                let mut st = self.status.lock();
                st.loading = None;
                st.error = Some(message);
            }
        }
    }

    /// Times the model on this thread (a spare engine, 0.2 s of audio) for the editor.
    fn measure(&self) {
        let Some(file) = self
            .apply
            .lock()
            .current
            .as_ref()
            .map(|c| Arc::clone(&c.file))
        else {
            return;
        };
        if let Some(cpu) = measure_cpu(&file) {
            if let Some(m) = self.status.lock().model.as_mut() {
                m.cpu = Some(cpu);
            }
        }
    }
}

/// Fraction of one core the model takes in real time, on this machine.
fn measure_cpu(file: &NamFile) -> Option<f64> {
    let opts = BuildOptions {
        max_block: 512,
        ..BuildOptions::default()
    };
    let mut engine = Engine::build(file, opts).ok()?;
    let n = (0.2 * file.sample_rate) as usize;
    let mut x: Vec<f32> = (0..n)
        .map(|i| 0.3 * ((i as f32) * 0.0731).sin() * ((i as f32) * 0.0011).cos())
        .collect();
    let t = Instant::now();
    for chunk in x.chunks_mut(512) {
        engine.process_buffer(chunk);
    }
    Some(t.elapsed().as_secs_f64() / 0.2)
}

fn build_slot(file: &NamFile, host: HostConfig) -> Result<Box<ModelSlot>, String> {
    let spec = SlotSpec {
        host_rate: host.sample_rate,
        max_block: host.max_block,
        activations: ActivationMode::Accurate,
    };
    ModelSlot::build(file, spec)
        .map(Box::new)
        .map_err(|e| format!("cannot build the model: {e}"))
}

/// Reads and parses a `.nam` file; its state carries the path, hash and embedded copy.
fn open_file(path: &Path) -> Result<(NamFile, ModelState), String> {
    let shown = path.display();
    let bytes = read_capped(path).map_err(|e| format!("{shown}: {e}"))?;
    let file = NamFile::from_slice(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    let json: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let state = ModelState {
        path: Some(absolute.display().to_string()),
        hash: Some(state::file_hash(&bytes)),
        embed: true,
        embedded: Some(state::embed(&json)),
    };
    Ok((file, state))
}

fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let max = tubeless_nam::limits::MAX_FILE_BYTES;
    let f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    if len > max {
        return Err(std::io::Error::other(format!(
            "{len} bytes is larger than the {max}-byte limit for a model"
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    f.take(max + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

type Restored = (NamFile, Source, Option<String>, ModelState);

/// The model a saved state names: the file at its path, or the copy saved with the session
/// when the file is gone, unreadable, or not the file the session was made with.
fn open_for_restore(wanted: &ModelState) -> Result<Restored, String> {
    let from_disk = wanted.path.as_deref().map(|p| open_file(Path::new(p)));
    let embedded = || -> Result<NamFile, String> {
        let e = wanted.embedded.as_ref().ok_or("no copy was saved")?;
        let json = state::unembed(e).map_err(|e| e.to_string())?;
        NamFile::from_value(&json).map_err(|e| format!("the saved copy: {e}"))
    };
    match from_disk {
        Some(Ok((file, mut state))) => {
            state.embed = wanted.embed;
            let changed =
                wanted.embedded.is_some() && wanted.hash.is_some() && wanted.hash != state.hash;
            if changed {
                if let Ok(copy) = embedded() {
                    let notice = format!(
                        "{} has changed since this session was saved: playing the copy \
                         saved in the session.",
                        wanted.path.as_deref().unwrap_or_default()
                    );
                    return Ok((
                        copy,
                        Source::EmbeddedFileChanged,
                        Some(notice),
                        wanted.clone(),
                    ));
                }
            }
            Ok((file, Source::File, None, state))
        }
        Some(Err(why)) => match embedded() {
            Ok(copy) => {
                let notice =
                    format!("Could not open {why}. Playing the copy saved in the session.");
                Ok((
                    copy,
                    Source::EmbeddedFileMissing,
                    Some(notice),
                    wanted.clone(),
                ))
            }
            Err(e) if wanted.embedded.is_some() => Err(format!("{why}; {e}")),
            Err(_) => Err(format!("{why} (and the session has no saved copy)")),
        },
        None => embedded()
            .map(|copy| (copy, Source::Embedded, None, wanted.clone()))
            .map_err(|e| format!("cannot load the model saved in the session: {e}")),
    }
}

/// The `.nam` files beside `model`, sorted by name (case-insensitive), for previous/next.
pub fn models_in_folder_of(model: &Path) -> Vec<PathBuf> {
    let Some(dir) = model.parent() else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("nam"))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort_by_key(|p| {
        p.file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default()
    });
    v
}

/// The model after (`step` = 1) or before (-1) `current` in its folder, wrapping.
pub fn neighbour(folder: &[PathBuf], current: &Path, step: isize) -> Option<PathBuf> {
    if folder.is_empty() {
        return None;
    }
    let n = folder.len() as isize;
    let at = folder.iter().position(|p| p == current);
    let next = match at {
        Some(i) => (i as isize + step).rem_euclid(n),
        None if step > 0 => 0,
        None => n - 1,
    };
    folder.get(next as usize).cloned()
}

impl ModelInfo {
    pub fn new(file: &NamFile, state: &ModelState, source: Source) -> ModelInfo {
        let md = &file.metadata;
        let path = state.path.as_ref().map(PathBuf::from);
        let name = md
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| {
                path.as_ref()
                    .and_then(|p| p.file_stem())
                    .map(|s| s.to_string_lossy().to_string())
            })
            .unwrap_or_else(|| "Untitled model".into());
        ModelInfo {
            name,
            path,
            source,
            gear: [md.gear_make.as_deref(), md.gear_model.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            gear_type: md.gear_type.clone(),
            tone_type: md.tone_type.clone(),
            modeled_by: md.modeled_by.clone(),
            architecture: file.summary(),
            weights: file.weights.len(),
            sample_rate: file.sample_rate,
            sample_rate_stated: file.sample_rate_stated,
            loudness: md.loudness,
            cpu: None,
            warnings: file.warnings.clone(),
        }
    }
}

impl Status {
    fn for_model(file: &NamFile, state: &ModelState, source: Source) -> Status {
        Status {
            model: Some(ModelInfo::new(file, state, source)),
            ..Status::default()
        }
    }

    fn cleared() -> Status {
        Status::default()
    }
}
