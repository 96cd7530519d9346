//! One kind of file the plugin loads (a model, a cabinet IR): what plays now, what the
//! session will save, the status the editor shows, and the triple buffer that hands
//! slots to the audio thread. Three paths change it (the loader thread for the editor's
//! requests, a host restoring a session, a host re-activating); one lock that the audio
//! thread never takes serialises them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;
use tubeless_dsp::source::{resolve, SourceState};

use super::{HostConfig, Published};
use crate::status::{AssetStatus, Source};

/// What differs between a model and an IR.
pub trait Asset: 'static {
    /// The parsed file, kept to rebuild slots when the host's rate changes.
    type File: Send + Sync + 'static;
    /// What the audio thread plays.
    type Slot: Send + 'static;
    /// What the editor shows about it.
    type Info: Clone + Send + 'static;
    /// "model", "IR": for messages.
    const NOUN: &'static str;
    /// File name extensions of its folder's siblings (lowercase).
    const EXTENSIONS: &'static [&'static str];

    /// Reads and parses a file; the state carries its path, hash and embedded copy.
    fn open_file(path: &Path) -> Result<(Self::File, SourceState), String>;
    /// The file back from a session's embedded copy.
    fn open_embedded(embedded: &Value) -> Result<Self::File, String>;
    fn build(
        file: &Self::File,
        state: &SourceState,
        host: HostConfig,
    ) -> Result<Self::Slot, String>;
    fn info(file: &Self::File, state: &SourceState, source: Source) -> Self::Info;
}

struct Current<A: Asset> {
    file: Arc<A::File>,
    state: SourceState,
}

struct Applied<A: Asset> {
    host: Option<HostConfig>,
    epoch: u64,
    generation: u64,
    current: Option<Current<A>>,
    /// The field as it will be saved: the raw value a host gave us while its file cannot
    /// be loaded, so a failed restore loses nothing.
    saved: Value,
    input: triple_buffer::Input<Option<Published<A::Slot>>>,
}

pub struct Channel<A: Asset> {
    apply: Mutex<Applied<A>>,
    status: Mutex<AssetStatus<A::Info>>,
    next_generation: AtomicU64,
    /// Requests made and not yet applied: an offline render waits for them.
    pending: AtomicUsize,
    /// Whether newly loaded files are saved in the session.
    embed: AtomicBool,
}

impl<A: Asset> Channel<A> {
    pub fn new(input: triple_buffer::Input<Option<Published<A::Slot>>>) -> Self {
        Channel {
            apply: Mutex::new(Applied {
                host: None,
                epoch: 0,
                generation: 0,
                current: None,
                saved: SourceState::default().to_value(),
                input,
            }),
            status: Mutex::new(AssetStatus::default()),
            next_generation: AtomicU64::new(1),
            pending: AtomicUsize::new(0),
            embed: AtomicBool::new(true),
        }
    }

    pub fn status(&self) -> AssetStatus<A::Info> {
        let mut s = self.status.lock().clone();
        if s.info.is_none() {
            s.embed = self.embed.load(Ordering::Acquire);
        }
        s
    }

    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }

    /// A generation number for a request made now; counts it as pending.
    pub fn begin_request(&self) -> u64 {
        self.pending.fetch_add(1, Ordering::AcqRel);
        self.next_generation.fetch_add(1, Ordering::AcqRel)
    }

    pub fn request_failed_to_send(&self) {
        self.pending_done();
    }

    pub fn note_loading(&self, path: &Path) {
        self.status.lock().loading = Some(path.display().to_string());
    }

    fn pending_done(&self) {
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| p.checked_sub(1));
    }

    pub fn saved_state(&self) -> Value {
        self.apply.lock().saved.clone()
    }

    pub fn current_file(&self) -> Option<Arc<A::File>> {
        self.apply
            .lock()
            .current
            .as_ref()
            .map(|c| Arc::clone(&c.file))
    }

    pub fn current_path(&self) -> Option<String> {
        self.apply
            .lock()
            .current
            .as_ref()
            .and_then(|c| c.state.path.clone())
    }

    pub fn set_embed(&self, embed: bool) {
        self.embed.store(embed, Ordering::Release);
        let mut a = self.apply.lock();
        if let Some(cur) = a.current.as_mut() {
            cur.state.embed = embed;
            a.saved = cur.state.to_value();
        }
        self.status.lock().embed = embed;
    }

    /// A host restores a session (or a script sets the field): parse and build right here,
    /// so the file is in place before the next process call. Never the audio thread.
    pub fn restore(&self, value: Value) {
        self.restore_with(value, true);
    }

    /// `restore`, from a preset while playing when `instant` is false (then it crossfades).
    pub fn restore_with(&self, value: Value, instant: bool) {
        let mut a = self.apply.lock();
        if value == a.saved && a.current.is_some() {
            return; // Hosts often hand back what they just read: nothing to do.
        }
        let generation = self.begin_request();
        let wanted = SourceState::from_value(&value);
        if wanted.is_empty() {
            self.apply_current(
                &mut a,
                generation,
                None,
                value,
                instant,
                AssetStatus::default(),
            );
            return;
        }
        match resolve(&wanted, A::NOUN, A::open_file, A::open_embedded) {
            Ok((file, source, notice, state)) => {
                let mut status = AssetStatus::for_info(A::info(&file, &state, source));
                status.notice = notice;
                status.disk_differs = source == Source::EmbeddedFileChanged;
                // A file that loaded is saved again with a fresh copy; an embedded copy
                // that stood in for a missing file is saved exactly as it came.
                let saved = if source == Source::File {
                    state.to_value()
                } else {
                    value.clone()
                };
                let cur = Current {
                    file: Arc::new(file),
                    state,
                };
                if !self.apply_current(&mut a, generation, Some(cur), saved, instant, status) {
                    // Not buildable here: nothing plays, and the session keeps what it had.
                    a.saved = value;
                }
            }
            Err(message) => {
                let status = AssetStatus {
                    error: Some(message),
                    failed_path: wanted.path.clone(),
                    ..AssetStatus::default()
                };
                self.apply_current(&mut a, generation, None, value, instant, status);
            }
        }
    }

    /// The host (re)activates: the current file is built for the new configuration here,
    /// on the host's thread, for the plugin to put in place directly.
    pub fn activate(&self, host: HostConfig) -> (u64, Option<A::Slot>) {
        let mut a = self.apply.lock();
        a.host = Some(host);
        a.epoch += 1;
        let slot = a.current.as_ref().and_then(|cur| {
            A::build(&cur.file, &cur.state, host)
                .map_err(|e| self.status.lock().error = Some(e))
                .ok()
        });
        (a.epoch, slot)
    }

    /// Rebuilds what plays for a changed configuration (the resampling quality) and
    /// publishes it crossfaded; the epoch stays, the host has not re-activated.
    pub fn rebuild(&self, change: impl FnOnce(HostConfig) -> HostConfig) {
        let mut a = self.apply.lock();
        let Some(host) = a.host.map(change) else {
            return;
        };
        a.host = Some(host);
        let Some(cur) = a.current.as_ref() else {
            return;
        };
        match A::build(&cur.file, &cur.state, host) {
            Ok(slot) => {
                let epoch = a.epoch;
                a.input.write(Some(Published {
                    epoch,
                    slot: Some(slot),
                    instant: false,
                }));
            }
            Err(e) => self.status.lock().error = Some(e),
        }
    }

    /// The loader thread: a file the editor asked for. The old one keeps playing (and the
    /// session keeps it) when this one fails.
    pub fn load(&self, path: &Path, generation: u64) -> bool {
        match A::open_file(path) {
            Ok((file, state)) => {
                let state = SourceState {
                    embed: self.embed.load(Ordering::Acquire),
                    ..state
                };
                let status = AssetStatus::for_info(A::info(&file, &state, Source::File));
                let mut a = self.apply.lock();
                let saved = state.to_value();
                let cur = Current {
                    file: Arc::new(file),
                    state,
                };
                self.apply_current(&mut a, generation, Some(cur), saved, false, status)
            }
            Err(message) => {
                self.pending_done();
                let mut st = self.status.lock();
                st.loading = None;
                st.error = Some(message);
                false
            }
        }
    }

    pub fn clear(&self, generation: u64) {
        let mut a = self.apply.lock();
        let saved = SourceState::default().to_value();
        self.apply_current(
            &mut a,
            generation,
            None,
            saved,
            false,
            AssetStatus::default(),
        );
    }

    /// The file on disk, replacing a session's copy that differs from it.
    pub fn load_from_disk(&self, generation: u64) {
        match self.current_path() {
            Some(p) => {
                self.load(Path::new(&p), generation);
            }
            None => self.pending_done(),
        }
    }

    /// Installs `current` (or nothing) and the field to save, publishes its slot for the
    /// audio thread, updates the status. Skipped when a newer request was already
    /// applied, or when the slot cannot be built (the old one stays, and is saved). True
    /// when applied.
    fn apply_current(
        &self,
        a: &mut Applied<A>,
        generation: u64,
        current: Option<Current<A>>,
        saved: Value,
        instant: bool,
        mut status: AssetStatus<A::Info>,
    ) -> bool {
        self.pending_done();
        if generation < a.generation {
            return false;
        }
        let mut slot = None;
        if let (Some(cur), Some(host)) = (current.as_ref(), a.host) {
            match A::build(&cur.file, &cur.state, host) {
                Ok(s) => slot = Some(s),
                Err(e) => {
                    // Parsed but not buildable (engine limits): say so, keep the old one.
                    let mut st = self.status.lock();
                    st.loading = None;
                    st.error = Some(e);
                    return false;
                }
            }
        }
        a.generation = generation;
        a.saved = saved;
        status.embed = current
            .as_ref()
            .map_or(self.embed.load(Ordering::Acquire), |c| c.state.embed);
        status.folder = current
            .as_ref()
            .and_then(|c| c.state.path.as_deref())
            .or(status.failed_path.as_deref())
            .map(|p| siblings(Path::new(p), A::EXTENSIONS))
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
        true
    }

    /// Updates the shown info in place (the loader's CPU measurement).
    pub fn update_info(&self, f: impl FnOnce(&mut A::Info)) {
        if let Some(i) = self.status.lock().info.as_mut() {
            f(i);
        }
    }
}

/// The files beside `file` with one of `extensions`, sorted by name (case-insensitive),
/// for previous / next.
pub fn siblings(file: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let Some(dir) = file.parent() else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
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

/// The file after (`step` = 1) or before (-1) `current` in its folder, wrapping.
pub fn neighbour(folder: &[PathBuf], current: &Path, step: isize) -> Option<PathBuf> {
    if folder.is_empty() {
        return None;
    }
    let n = folder.len() as isize;
    let next = match folder.iter().position(|p| p == current) {
        Some(i) => (i as isize + step).rem_euclid(n),
        None if step > 0 => 0,
        None => n - 1,
    };
    folder.get(next as usize).cloned()
}
