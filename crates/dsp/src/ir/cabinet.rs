//! The cab slot of the chain: the current IR, a crossfade when it is swapped, on/off,
//! and a place to leave the convolvers it no longer needs, so the audio thread never
//! frees one (a 10 s stereo IR is tens of MB: freeing it can stall for milliseconds).
//!
//! Audio-thread protocol, per block:
//! 1. `set_ir(new)` when the loader has one ready (`None` clears the slot); whatever it
//!    returns goes back to a non-real-time thread to be dropped.
//! 2. `process(left, right)`.
//! 3. `take_retired()`, same destination.
//!
//! A swap crossfades the old IR into the new one (raised cosine, `DEFAULT_CROSSFADE_MS`;
//! equal gain, the signals being correlated); an IR arriving mid-fade waits for it to
//! end. No IR means the dry signal. Off fades to dry and then skips the convolution;
//! on clears the IR's history (stale audio must not ring out) and fades back in.

use super::convolver::Convolver;
use crate::smoother::Smoother;
use crate::{flush, sanitize_rate};

pub const DEFAULT_CROSSFADE_MS: f64 = 20.0;

/// A fade from an old signal to a new one.
#[derive(Debug, Clone)]
pub struct Crossfade {
    len: u32,
    pos: u32,
}

impl Crossfade {
    /// Finished (all new) until `start`.
    pub fn new(sample_rate: f64, ms: f64) -> Self {
        let len = (sanitize_rate(sample_rate) * ms.clamp(0.0, 10_000.0) / 1000.0)
            .round()
            .max(1.0) as u32;
        Crossfade { len, pos: len }
    }

    pub fn start(&mut self) {
        self.pos = 0;
    }

    pub fn finish(&mut self) {
        self.pos = self.len;
    }

    pub fn is_active(&self) -> bool {
        self.pos < self.len
    }

    /// Length in samples.
    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The new signal's weight at the next sample (the old one's is 1 minus it); 1 when
    /// finished.
    #[inline]
    pub fn next_value(&mut self) -> f32 {
        if self.pos >= self.len {
            return 1.0;
        }
        self.pos += 1;
        let t = self.pos as f64 / self.len as f64;
        (0.5 - 0.5 * (std::f64::consts::PI * t).cos()) as f32
    }

    /// `new = old * (1 - w) + new * w`, over the shorter length.
    pub fn mix(&mut self, old: &[f32], new: &mut [f32]) {
        for (n, o) in new.iter_mut().zip(old) {
            let w = self.next_value();
            *n = flush(o + w * (*n - o));
        }
    }

    /// The same weights on two channels.
    pub fn mix_stereo(&mut self, old: (&[f32], &[f32]), new: (&mut [f32], &mut [f32])) {
        let n = new
            .0
            .len()
            .min(new.1.len())
            .min(old.0.len())
            .min(old.1.len());
        for i in 0..n {
            let w = self.next_value();
            new.0[i] = flush(old.0[i] + w * (new.0[i] - old.0[i]));
            new.1[i] = flush(old.1[i] + w * (new.1[i] - old.1[i]));
        }
    }
}

pub struct Cabinet {
    max_block: usize,
    current: Option<Box<Convolver>>,
    /// Fading out while `fading`; otherwise a finished one waiting for a free
    /// `retired` slot.
    outgoing: Option<Box<Convolver>>,
    fading: bool,
    /// An IR that arrived mid-fade (`Some(None)`: a clear).
    pending: Option<Option<Box<Convolver>>>,
    retired: Option<Box<Convolver>>,
    fade: Crossfade,
    enabled: bool,
    /// 0 = dry, 1 = through the cab.
    wet: Smoother,
    dry: Vec<f32>,
    old_l: Vec<f32>,
    old_r: Vec<f32>,
}

impl std::fmt::Debug for Cabinet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cabinet")
            .field("current", &self.current)
            .field("fading", &self.fading)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl Cabinet {
    /// Empty (dry), enabled; scratch for blocks of `max_block` (longer ones are cut).
    pub fn new(sample_rate: f64, max_block: usize) -> Self {
        let max_block = max_block.max(1);
        Cabinet {
            max_block,
            current: None,
            outgoing: None,
            fading: false,
            pending: None,
            retired: None,
            fade: Crossfade::new(sample_rate, DEFAULT_CROSSFADE_MS),
            enabled: true,
            wet: Smoother::new(sample_rate, DEFAULT_CROSSFADE_MS, 1.0),
            dry: vec![0.0; max_block],
            old_l: vec![0.0; max_block],
            old_r: vec![0.0; max_block],
        }
    }

    /// Real-time safe. The convolvers are built for one rate: rebuild them for a new one.
    pub fn set_sample_rate(&mut self, sample_rate: f64) {
        let active = self.fade.is_active();
        self.fade = Crossfade::new(sample_rate, DEFAULT_CROSSFADE_MS);
        if active {
            self.fade.start();
        }
        self.wet.set_ramp(sample_rate, DEFAULT_CROSSFADE_MS);
    }

    /// Swaps in `ir` (None: no cab) with a crossfade, from the next `process`. Returns
    /// a convolver the caller now owns and must drop off the audio thread (an IR that
    /// was still waiting to be swapped in).
    pub fn set_ir(&mut self, ir: Option<Box<Convolver>>) -> Option<Box<Convolver>> {
        self.pending.replace(ir).flatten()
    }

    /// Starts the pending swap once the last one is over and its convolver handed out,
    /// so at most one convolver waits in `retired` and none is ever dropped here.
    fn begin_pending(&mut self) {
        if self.fading || self.outgoing.is_some() || self.retired.is_some() {
            return;
        }
        let Some(ir) = self.pending.take() else {
            return;
        };
        self.outgoing = std::mem::replace(&mut self.current, ir);
        if self.is_dry() || (self.outgoing.is_none() && self.current.is_none()) {
            // Nothing audible changes: no fade.
            self.retired = self.outgoing.take();
        } else {
            self.fading = true;
            self.fade.start();
        }
    }

    /// A convolver the cabinet is done with, to drop off the audio thread.
    pub fn take_retired(&mut self) -> Option<Box<Convolver>> {
        self.retired.take().or_else(|| {
            if self.fading {
                None
            } else {
                self.outgoing.take()
            }
        })
    }

    /// Whether `take_retired` has a convolver to hand out.
    #[inline]
    pub fn has_retired(&self) -> bool {
        self.retired.is_some() || (!self.fading && self.outgoing.is_some())
    }

    pub fn ir(&self) -> Option<&Convolver> {
        self.current.as_deref()
    }

    pub fn set_enabled(&mut self, on: bool) {
        if on == self.enabled {
            return;
        }
        if on && self.is_dry() {
            if let Some(c) = &mut self.current {
                c.reset();
            }
        }
        self.enabled = on;
        self.wet.set_target(if on { 1.0 } else { 0.0 });
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Fully bypassed: off and faded out.
    fn is_dry(&self) -> bool {
        !self.enabled && !self.wet.is_smoothing()
    }

    /// Whether `process` would only copy `left` into `right`: off or without an IR,
    /// nothing fading or waiting. A caller with no use for `right` may skip the call.
    pub fn is_transparent(&self) -> bool {
        self.pending.is_none()
            && !self.fading
            && (self.is_dry()
                || (self.current.is_none() && !self.wet.is_smoothing() && self.wet.value() == 1.0))
    }

    /// Whether an IR is waiting for its turn.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether `right` can differ from `left` (a stereo IR is playing or fading).
    pub fn is_stereo(&self) -> bool {
        !self.is_dry()
            && (self.current.as_ref().is_some_and(|c| c.is_stereo())
                || (self.fading && self.outgoing.as_ref().is_some_and(|c| c.is_stereo())))
    }

    /// Clears the IRs' history, takes a waiting IR in and ends any fade at once (a
    /// reset is a discontinuity anyway).
    pub fn reset(&mut self) {
        self.begin_pending();
        if self.fading {
            self.fade.finish();
            self.finish_fade();
        }
        if let Some(c) = &mut self.current {
            c.reset();
        }
        self.wet.reset(if self.enabled { 1.0 } else { 0.0 });
    }

    /// The outgoing convolver moves to `retired`, or stays parked in `outgoing` while
    /// that slot is taken.
    fn finish_fade(&mut self) {
        self.fading = false;
        if self.retired.is_none() {
            self.retired = self.outgoing.take();
        }
    }

    /// The mono signal in `left` through the cab into `left` and `right`. Processes the
    /// shorter length; any block length.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(right.len());
        let mut at = 0;
        while at < len {
            let n = (len - at).min(self.max_block);
            self.chunk(&mut left[at..at + n], &mut right[at..at + n]);
            at += n;
        }
    }

    fn chunk(&mut self, l: &mut [f32], r: &mut [f32]) {
        self.begin_pending();
        if self.is_dry() {
            if self.fading {
                self.fade.finish();
                self.finish_fade();
            }
            r.copy_from_slice(l);
            return;
        }
        let n = l.len();
        self.dry[..n].copy_from_slice(l);
        match &mut self.current {
            Some(c) => c.process_stereo(l, r),
            None => r.copy_from_slice(l),
        }
        if self.fading {
            let (ol, or) = (&mut self.old_l[..n], &mut self.old_r[..n]);
            ol.copy_from_slice(&self.dry[..n]);
            match &mut self.outgoing {
                Some(o) => o.process_stereo(ol, or),
                None => or.copy_from_slice(ol),
            }
            self.fade.mix_stereo((ol, or), (l, r));
            if !self.fade.is_active() {
                self.finish_fade();
            }
        }
        if self.wet.is_smoothing() || self.wet.value() != 1.0 {
            for i in 0..n {
                let w = self.wet.next_value();
                let d = self.dry[i];
                l[i] = flush(d + w * (l[i] - d));
                r[i] = flush(d + w * (r[i] - d));
            }
        }
    }
}
