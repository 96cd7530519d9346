//! The one streaming signal chain that the plugin's `process()` and the CLI's `render`
//! both drive:
//!
//! ```text
//! input (mono sum, or L/R in dual mono) -> input gain -> model -> DC blocker
//!   -> model level -> output gain -> bypass mix -> every output channel
//! ```
//!
//! Built off the audio thread ([`Chain::new`] allocates every buffer); [`Chain::process`],
//! [`Chain::offer`] and [`Chain::take_retired`] are real-time safe: they never allocate,
//! free, lock or panic, on any block length and any input. Every change is a glide: gains
//! glide in dB, a model swap crossfades, the channel mode and bypass crossfade, so nothing
//! the user or the host does clicks.

use crate::dc_blocker::DcBlocker;
use crate::delay::Delay;
use crate::model_slot::{ModelSlot, Side};
use crate::smooth::{GainSmoother, Ramp};
use crate::{clean, db_to_gain, NORMALIZED_LOUDNESS_DB};

/// Crossfade length when one model replaces another: long enough that two different amps
/// blend rather than click, short enough to feel instant under the fingers.
pub const SWAP_FADE_MS: f64 = 30.0;
/// Crossfade between mono and dual mono.
pub const MODE_FADE_MS: f64 = 30.0;
/// Crossfade in and out of bypass.
pub const BYPASS_FADE_MS: f64 = 20.0;
/// The largest latency the bypass path can match (a resampler pair at the highest quality).
pub const MAX_LATENCY: usize = 16_384;
/// Slots waiting to be handed back for dropping off the audio thread.
const RETIRED_CAP: usize = 4;

/// How the model's output level is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    /// The model's output as trained.
    Raw,
    /// Brought to -18 dB loudness using the model's metadata (raw when it has none).
    #[default]
    Normalized,
}

/// How two input channels reach the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelMode {
    /// Inputs averaged, one engine, the result on every output.
    #[default]
    Mono,
    /// Left and right each through their own engine (twice the CPU). With one input
    /// channel it is the same as mono.
    DualMono,
}

/// Targets the chain glides to. Plain values: the plugin copies its parameters in here,
/// the CLI its flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainSettings {
    pub input_gain_db: f32,
    pub output_gain_db: f32,
    pub output_mode: OutputMode,
    pub channel_mode: ChannelMode,
    pub bypass: bool,
}

impl Default for ChainSettings {
    fn default() -> Self {
        ChainSettings {
            input_gain_db: 0.0,
            output_gain_db: 0.0,
            output_mode: OutputMode::Normalized,
            channel_mode: ChannelMode::Mono,
            bypass: false,
        }
    }
}

/// The level gain, in dB, that an output mode gives a model with this loudness.
pub fn model_level_db(mode: OutputMode, loudness_db: Option<f64>) -> f64 {
    match (mode, loudness_db) {
        (OutputMode::Normalized, Some(l)) if l.is_finite() => NORMALIZED_LOUDNESS_DB - l,
        _ => 0.0,
    }
}

/// Peaks of one `process` call, for meters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Meter {
    /// After the input gain: what the model is hit with.
    pub input_peak: f32,
    pub output_peak: f32,
}

/// One model (or none: a dry lane) with its own level, its output buffers and the silence
/// its engines still owe before they are back in their freshly built state. The chain owns
/// two lanes for good, so a swap moves a `Box` and never a buffer.
struct Lane {
    rate: f64,
    slot: Option<Box<ModelSlot>>,
    level: GainSmoother,
    owed: [usize; 2],
    out: [Vec<f32>; 2],
    gains: Vec<f32>,
    scratch: Vec<f32>,
    /// The 5 Hz DC blocker on the model's output (a dry lane passes audio untouched).
    dc: [DcBlocker; 2],
}

impl Lane {
    fn new(rate: f64, max_block: usize) -> Lane {
        Lane {
            rate,
            slot: None,
            level: GainSmoother::new(rate, 1.0),
            owed: [0, 0],
            out: [vec![0.0; max_block], vec![0.0; max_block]],
            gains: vec![0.0; max_block],
            scratch: vec![0.0; max_block],
            dc: [DcBlocker::new(rate), DcBlocker::new(rate)],
        }
    }

    /// Installs a slot, its level settled for `mode`, its engines fresh.
    fn install(
        &mut self,
        slot: Option<Box<ModelSlot>>,
        mode: OutputMode,
    ) -> Option<Box<ModelSlot>> {
        let old = std::mem::replace(&mut self.slot, slot);
        self.level = GainSmoother::new(self.rate, level_gain(self.slot.as_deref(), mode));
        self.owed = [0, 0];
        for d in &mut self.dc {
            d.reset(self.rate);
        }
        old
    }

    fn latency(&self) -> usize {
        self.slot.as_ref().map_or(0, |s| s.latency())
    }

    fn owe_silence(&mut self, side: Side) {
        self.owed[side as usize] = self.slot.as_ref().map_or(0, |s| s.settle_samples());
    }

    /// Feeds up to `n` samples of owed silence to an idle engine, so that it resumes clean.
    fn settle(&mut self, side: Side, n: usize) {
        let owed = self.owed[side as usize];
        if owed == 0 {
            return;
        }
        let k = owed.min(n).min(self.scratch.len());
        if let Some(slot) = self.slot.as_deref_mut() {
            let buf = &mut self.scratch[..k];
            buf.fill(0.0);
            slot.process(side, buf);
        }
        self.owed[side as usize] = owed - k;
    }

    /// This block's output into `out`: side A on `a_in`; side B on `right` in dual mono,
    /// its output reaching the right channel along `dual_w` while the mode changes.
    fn run(&mut self, a_in: &[f32], right: &[f32], dual_on: bool, dual_w: Option<&[f32]>) {
        let n = a_in.len();
        self.out[0][..n].copy_from_slice(a_in);
        if let Some(slot) = self.slot.as_deref_mut() {
            slot.process(Side::A, &mut self.out[0][..n]);
        }
        self.owed[Side::A as usize] = 0;
        if dual_on {
            self.out[1][..n].copy_from_slice(right);
            if let Some(slot) = self.slot.as_deref_mut() {
                slot.process(Side::B, &mut self.out[1][..n]);
            }
            self.owed[Side::B as usize] = 0;
            if let Some(w) = dual_w {
                let [a, b] = &mut self.out;
                blend_into_first(&mut b[..n], &a[..n], w, true);
            }
        } else {
            self.settle(Side::B, n);
        }
        if self.slot.is_some() {
            self.dc[0].process(&mut self.out[0][..n]);
            if dual_on {
                self.dc[1].process(&mut self.out[1][..n]);
            } else {
                // Kept in step, so that dual mono starts from the same filter state.
                let [a, b] = &mut self.dc;
                b.clone_from(a);
            }
        }
        self.gains[..n].fill(1.0);
        self.level.apply(&mut self.gains[..n]);
        let [a, b] = &mut self.out;
        for (x, g) in a[..n].iter_mut().zip(&self.gains[..n]) {
            *x *= g;
        }
        if dual_on {
            for (x, g) in b[..n].iter_mut().zip(&self.gains[..n]) {
                *x *= g;
            }
        } else {
            b[..n].copy_from_slice(&a[..n]);
        }
    }
}

fn level_gain(slot: Option<&ModelSlot>, mode: OutputMode) -> f32 {
    slot.map_or(1.0, |s| {
        db_to_gain(model_level_db(mode, s.loudness_db()) as f32)
    })
}

/// `a = a + w * (b - a)` per sample, exact at w = 0 and w = 1. With `from_b` the roles are
/// reversed: `a` holds the destination signal and `b` the origin (`a = b + w * (a - b)`).
fn blend_into_first(a: &mut [f32], b: &[f32], w: &[f32], from_b: bool) {
    for ((a, b), &w) in a.iter_mut().zip(b).zip(w) {
        let (from, to) = if from_b { (*b, *a) } else { (*a, *b) };
        *a = if w >= 1.0 {
            to
        } else if w <= 0.0 {
            from
        } else {
            from + w * (to - from)
        };
    }
}

pub struct Chain {
    rate: f64,
    max_block: usize,
    settings: ChainSettings,
    in_gain: GainSmoother,
    out_gain: GainSmoother,
    lanes: [Lane; 2],
    /// The lane that plays; during a swap the other one fades in.
    cur: usize,
    swapping: bool,
    /// The newest offer while a crossfade is still running; it goes next.
    pending: Option<Option<Box<ModelSlot>>>,
    swap: Ramp,
    dual: Ramp,
    bypass: Ramp,
    dry: [Delay; 2],
    retired: [Option<Box<ModelSlot>>; RETIRED_CAP],
    // Scratch, each `max_block` long.
    left: Vec<f32>,
    right: Vec<f32>,
    mono: Vec<f32>,
    gains: Vec<f32>,
    model_in: Vec<f32>,
    dual_w: Vec<f32>,
    mix_w: Vec<f32>,
    wet: [Vec<f32>; 2],
    dry_buf: [Vec<f32>; 2],
}

impl Chain {
    /// Allocates everything, settled at `settings`, with no model (audio passes through).
    pub fn new(sample_rate: f64, max_block: usize, settings: ChainSettings) -> Chain {
        let rate = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate
        } else {
            48_000.0
        };
        let max_block = max_block.clamp(1, tubeless_nam::limits::MAX_BLOCK_LIMIT);
        let buf = || vec![0.0f32; max_block];
        let on = |b: bool| if b { 1.0 } else { 0.0 };
        Chain {
            rate,
            max_block,
            settings,
            in_gain: GainSmoother::new(rate, db_to_gain(settings.input_gain_db)),
            out_gain: GainSmoother::new(rate, db_to_gain(settings.output_gain_db)),
            lanes: [Lane::new(rate, max_block), Lane::new(rate, max_block)],
            cur: 0,
            swapping: false,
            pending: None,
            swap: Ramp::new(rate, SWAP_FADE_MS, 0.0),
            dual: Ramp::new(
                rate,
                MODE_FADE_MS,
                on(settings.channel_mode == ChannelMode::DualMono),
            ),
            bypass: Ramp::new(rate, BYPASS_FADE_MS, on(settings.bypass)),
            dry: [Delay::new(MAX_LATENCY), Delay::new(MAX_LATENCY)],
            retired: Default::default(),
            left: buf(),
            right: buf(),
            mono: buf(),
            gains: buf(),
            model_in: buf(),
            dual_w: buf(),
            mix_w: buf(),
            wet: [buf(), buf()],
            dry_buf: [buf(), buf()],
        }
    }

    pub fn sample_rate(&self) -> f64 {
        self.rate
    }

    pub fn max_block(&self) -> usize {
        self.max_block
    }

    /// Puts a model in place at once, without a crossfade: for a chain that has not played
    /// yet (the CLI, a plugin just activated). Ends any swap. Returns what played before,
    /// to be dropped by the caller (this is not for the audio thread).
    pub fn place(&mut self, slot: Option<Box<ModelSlot>>) -> Vec<Box<ModelSlot>> {
        let mut old: Vec<Box<ModelSlot>> = Vec::new();
        old.extend(self.pending.take().flatten());
        let other = 1 - self.cur;
        old.extend(self.lanes[other].install(None, self.settings.output_mode));
        old.extend(self.lanes[self.cur].install(slot, self.settings.output_mode));
        old.extend(self.retired.iter_mut().filter_map(Option::take));
        self.swapping = false;
        self.sync_dry_delay();
        old
    }

    /// Starts a crossfade to `slot` (`None`: no model, audio passes through). Real-time safe.
    /// While a crossfade runs, the newest offer waits its turn and an older waiting one is
    /// retired. `Err` hands the slot back when the retired list is full: keep it, drain
    /// [`Chain::take_retired`], and offer it again.
    pub fn offer(&mut self, slot: Option<Box<ModelSlot>>) -> Result<(), Option<Box<ModelSlot>>> {
        if !self.swapping {
            self.start_swap(slot);
            return Ok(());
        }
        if let Some(Some(old)) = self.pending.take() {
            if let Err(old) = self.retire(old) {
                self.pending = Some(Some(old));
                return Err(slot);
            }
        }
        self.pending = Some(slot);
        Ok(())
    }

    /// Replaces what plays at once, without a crossfade: for a session restored before
    /// anything was heard, or an offline render, where a fade would be heard as a dry
    /// start. Ends any swap. Real-time safe; `Err` hands the slot back when the retired
    /// list has no room for what it replaces.
    pub fn offer_now(
        &mut self,
        slot: Option<Box<ModelSlot>>,
    ) -> Result<(), Option<Box<ModelSlot>>> {
        let displaced = self.lanes.iter().filter(|l| l.slot.is_some()).count()
            + usize::from(matches!(self.pending, Some(Some(_))));
        if self.retired.iter().filter(|r| r.is_none()).count() < displaced {
            return Err(slot);
        }
        if let Some(Some(old)) = self.pending.take() {
            let _ = self.retire(old).map_err(std::mem::forget);
        }
        let mode = self.settings.output_mode;
        for k in 0..2 {
            if let Some(old) = self.lanes[k].install(None, mode) {
                // Room was checked above.
                let _ = self.retire(old).map_err(std::mem::forget);
            }
        }
        self.swapping = false;
        self.lanes[self.cur].install(slot, mode);
        self.sync_dry_delay();
        Ok(())
    }

    /// A slot that no longer plays, to be dropped off the audio thread. Real-time safe.
    pub fn take_retired(&mut self) -> Option<Box<ModelSlot>> {
        self.retired.iter_mut().find_map(Option::take)
    }

    /// True while a crossfade runs or waits.
    pub fn is_swapping(&self) -> bool {
        self.swapping || self.pending.is_some()
    }

    /// The model that plays (or fades in).
    pub fn model(&self) -> Option<&ModelSlot> {
        self.lanes[self.target_lane()].slot.as_deref()
    }

    /// The delay the chain adds, in samples: the incoming model's once a swap has begun.
    pub fn latency(&self) -> usize {
        self.lanes[self.target_lane()].latency()
    }

    fn target_lane(&self) -> usize {
        if self.swapping {
            1 - self.cur
        } else {
            self.cur
        }
    }

    /// New targets; everything glides there. Real-time safe.
    pub fn set_settings(&mut self, s: ChainSettings) {
        let on = |b: bool| if b { 1.0 } else { 0.0 };
        self.in_gain.set_target(db_to_gain(s.input_gain_db));
        self.out_gain.set_target(db_to_gain(s.output_gain_db));
        self.dual
            .set_target(on(s.channel_mode == ChannelMode::DualMono));
        self.bypass.set_target(on(s.bypass));
        if s.output_mode != self.settings.output_mode {
            for lane in &mut self.lanes {
                lane.level
                    .set_target(level_gain(lane.slot.as_deref(), s.output_mode));
            }
        }
        self.settings = s;
    }

    /// Lands every glide on its target at once: for settings that change while nothing
    /// plays (before the first block after a reset), where a glide would only be heard.
    /// Real-time safe.
    pub fn snap_glides(&mut self) {
        self.in_gain.snap();
        self.out_gain.snap();
        self.dual.snap();
        self.bypass.snap();
        for lane in &mut self.lanes {
            lane.level.snap();
        }
    }

    pub fn settings(&self) -> ChainSettings {
        self.settings
    }

    /// Back to the state of a chain that has not played: filters and delays cleared, every
    /// glide and crossfade on its target, engines as freshly built, so that the same input
    /// gives the same output again (an offline render, a host that resets before a bounce).
    /// Real-time safe, but it costs a prewarm of the model's compute.
    pub fn reset(&mut self) {
        self.snap_glides();
        while self.swapping {
            if !self.finish_swap() {
                break;
            }
        }
        for lane in &mut self.lanes {
            lane.owed = [0, 0];
            for d in &mut lane.dc {
                d.reset(self.rate);
            }
        }
        if let Some(slot) = self.lanes[self.cur].slot.as_deref_mut() {
            slot.reset();
        }
        for d in &mut self.dry {
            d.clear();
        }
    }

    /// Processes `channels` in place: the first `inputs` (1 or 2) hold the host's input;
    /// every channel gets output. Any length: longer than `max_block` is split here.
    pub fn process(&mut self, channels: &mut [&mut [f32]], inputs: usize) -> Meter {
        let mut meter = Meter::default();
        if channels.is_empty() {
            return meter;
        }
        let len = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        let inputs = inputs.clamp(1, 2).min(channels.len());
        let mut at = 0;
        while at < len {
            let n = (len - at).min(self.max_block);
            self.process_block(channels, inputs, at, n, &mut meter);
            at += n;
        }
        meter
    }

    fn process_block(
        &mut self,
        channels: &mut [&mut [f32]],
        inputs: usize,
        at: usize,
        n: usize,
        meter: &mut Meter,
    ) {
        let stereo_in = inputs >= 2;
        if self.is_steady_mono(stereo_in) {
            self.steady_mono_block(channels, stereo_in, at, n, meter);
            return;
        }
        self.read_input(channels, stereo_in, at, n);
        let dual_now = stereo_in && (self.dual.position() > 0.0 || self.dual.target() > 0.0);
        let fed = if dual_now {
            peak(&self.left[..n]).max(peak(&self.right[..n]))
        } else {
            peak(&self.mono[..n])
        };
        meter.input_peak = meter.input_peak.max(fed);

        let bypassed = self.bypass.is_settled() && self.bypass.position() == 1.0;
        if bypassed {
            self.idle_while_bypassed(n);
        } else {
            self.run_models(n, stereo_in);
            self.finish_wet(n);
        }
        let [wet_l, wet_r] = &mut self.wet;
        let [dry_l, dry_r] = &self.dry_buf;
        if bypassed {
            wet_l[..n].copy_from_slice(&dry_l[..n]);
            wet_r[..n].copy_from_slice(&dry_r[..n]);
        } else if !self.bypass.is_settled() {
            for w in &mut self.mix_w[..n] {
                *w = Ramp::weight(self.bypass.advance());
            }
            blend_into_first(&mut wet_l[..n], &dry_l[..n], &self.mix_w[..n], false);
            blend_into_first(&mut wet_r[..n], &dry_r[..n], &self.mix_w[..n], false);
            if self.bypass.is_settled() && self.bypass.position() == 1.0 {
                // Unheard from now on: settle the engines on silence and clear the
                // filters, so that leaving bypass sounds like a freshly loaded model.
                for lane in &mut self.lanes {
                    lane.owe_silence(Side::A);
                    lane.owe_silence(Side::B);
                    for d in &mut lane.dc {
                        d.reset(self.rate);
                    }
                }
            }
        }
        meter.output_peak = meter
            .output_peak
            .max(peak(&wet_l[..n]).max(peak(&wet_r[..n])));
        for (k, ch) in channels.iter_mut().enumerate() {
            let src = if k == 0 { &wet_l[..n] } else { &wet_r[..n] };
            ch[at..at + n].copy_from_slice(src);
        }
    }

    /// Nothing moves: no glide, no crossfade, mono, not bypassed, no latency to match.
    /// Most blocks of a session are like this.
    fn is_steady_mono(&self, stereo_in: bool) -> bool {
        let lane = &self.lanes[self.cur];
        !self.swapping
            && self.pending.is_none()
            && self.in_gain.is_settled()
            && self.out_gain.is_settled()
            && lane.level.is_settled()
            && (!stereo_in || (self.dual.is_settled() && self.dual.position() == 0.0))
            && self.bypass.is_settled()
            && self.bypass.position() == 0.0
            && self.dry[0].delay() == 0
    }

    /// The general path in one pass in and one pass out, with the same arithmetic in the
    /// same order (so a split of the stream between the two paths changes no sample).
    fn steady_mono_block(
        &mut self,
        channels: &mut [&mut [f32]],
        stereo_in: bool,
        at: usize,
        n: usize,
        meter: &mut Meter,
    ) {
        let g = self.in_gain.target();
        let lane = &mut self.lanes[self.cur];
        let buf = &mut lane.out[0][..n];
        let mut fed = 0.0f32;
        if stereo_in {
            let (l, r) = (&channels[0][at..at + n], &channels[1][at..at + n]);
            for ((b, l), r) in buf.iter_mut().zip(l).zip(r) {
                let m = (clean(*l) + clean(*r)) * 0.5 * g;
                fed = fed.max(m.abs());
                *b = m;
            }
        } else {
            for (b, x) in buf.iter_mut().zip(&channels[0][at..at + n]) {
                let m = clean(*x) * g;
                fed = fed.max(m.abs());
                *b = m;
            }
        }
        meter.input_peak = meter.input_peak.max(fed);
        if let Some(slot) = lane.slot.as_deref_mut() {
            slot.process(Side::A, buf);
            let [dc_a, dc_b] = &mut lane.dc;
            dc_a.process(buf);
            dc_b.clone_from(dc_a);
        }
        lane.owed[Side::A as usize] = 0;
        let (level, out) = (lane.level.target(), self.out_gain.target());
        let mut peak_out = 0.0f32;
        let (first, rest) = channels.split_first_mut().expect("at least one channel");
        for (y, b) in first[at..at + n].iter_mut().zip(lane.out[0][..n].iter()) {
            let v = b * level * out;
            peak_out = peak_out.max(v.abs());
            *y = v;
        }
        for ch in rest {
            ch[at..at + n].copy_from_slice(&first[at..at + n]);
        }
        meter.output_peak = meter.output_peak.max(peak_out);
        lane.settle(Side::B, n);
    }

    /// Copies the host's input into `left`, `right` and `mono` (non-finite samples, a
    /// damaged stream, and denormals become silence before they reach anything with
    /// memory), keeps the
    /// dry signal for bypass, and applies the input gain.
    fn read_input(&mut self, channels: &[&mut [f32]], stereo_in: bool, at: usize, n: usize) {
        for (d, s) in self.left[..n].iter_mut().zip(&channels[0][at..at + n]) {
            *d = clean(*s);
        }
        if stereo_in {
            for (d, s) in self.right[..n].iter_mut().zip(&channels[1][at..at + n]) {
                *d = clean(*s);
            }
            let (l, r) = (&self.left[..n], &self.right[..n]);
            for ((m, l), r) in self.mono[..n].iter_mut().zip(l).zip(r) {
                *m = (l + r) * 0.5;
            }
        } else {
            self.right[..n].copy_from_slice(&self.left[..n]);
            self.mono[..n].copy_from_slice(&self.left[..n]);
        }
        let [dl, dr] = &mut self.dry_buf;
        dl[..n].copy_from_slice(&self.left[..n]);
        dr[..n].copy_from_slice(&self.right[..n]);
        self.dry[0].process(&mut dl[..n]);
        self.dry[1].process(&mut dr[..n]);

        // One gain trajectory for every input signal.
        self.gains[..n].fill(1.0);
        self.in_gain.apply(&mut self.gains[..n]);
        for buf in [&mut self.left, &mut self.right, &mut self.mono] {
            for (x, g) in buf[..n].iter_mut().zip(&self.gains[..n]) {
                *x *= g;
            }
        }
    }

    /// Runs the playing model (and the incoming one during a swap) into `wet`.
    fn run_models(&mut self, n: usize, stereo_in: bool) {
        if !stereo_in {
            self.dual.snap();
        }
        let moving = !self.dual.is_settled();
        let at = self.dual.position();
        if moving {
            for w in &mut self.dual_w[..n] {
                *w = Ramp::weight(self.dual.advance());
            }
        }
        let dual_on = stereo_in && (moving || at > 0.0);

        // Side A hears the mono sum, the left channel, or a glide between them.
        if !dual_on {
            self.model_in[..n].copy_from_slice(&self.mono[..n]);
        } else if !moving {
            self.model_in[..n].copy_from_slice(&self.left[..n]);
        } else {
            self.model_in[..n].copy_from_slice(&self.left[..n]);
            blend_into_first(
                &mut self.model_in[..n],
                &self.mono[..n],
                &self.dual_w[..n],
                true,
            );
        }
        let dual_w = moving.then_some(&self.dual_w[..n]);
        let (a_in, right) = (&self.model_in[..n], &self.right[..n]);
        self.lanes[self.cur].run(a_in, right, dual_on, dual_w);
        if self.swapping {
            self.lanes[1 - self.cur].run(a_in, right, dual_on, dual_w);
        }
        if moving && self.dual.is_settled() && self.dual.position() == 0.0 {
            // Back in mono: side B idles after the silence that makes it resume clean.
            for lane in &mut self.lanes {
                lane.owe_silence(Side::B);
            }
        }

        let [wl, wr] = &mut self.wet;
        let cur = &self.lanes[self.cur];
        wl[..n].copy_from_slice(&cur.out[0][..n]);
        wr[..n].copy_from_slice(&cur.out[1][..n]);
        if self.swapping {
            for w in &mut self.mix_w[..n] {
                *w = Ramp::weight(self.swap.advance());
            }
            let inc = &self.lanes[1 - self.cur];
            blend_into_first(&mut wl[..n], &inc.out[0][..n], &self.mix_w[..n], false);
            blend_into_first(&mut wr[..n], &inc.out[1][..n], &self.mix_w[..n], false);
            if self.swap.is_settled() {
                self.finish_swap();
            }
        }
    }

    /// Output gain on the wet signal.
    fn finish_wet(&mut self, n: usize) {
        let [wl, wr] = &mut self.wet;
        self.gains[..n].fill(1.0);
        self.out_gain.apply(&mut self.gains[..n]);
        for buf in [wl, wr] {
            for (x, g) in buf[..n].iter_mut().zip(&self.gains[..n]) {
                *x *= g;
            }
        }
    }

    /// Fully bypassed: the engines get the silence they owe, then cost nothing.
    fn idle_while_bypassed(&mut self, n: usize) {
        while self.swapping {
            if !self.finish_swap() {
                break;
            }
        }
        if !self.dual.is_settled() {
            self.dual.snap();
        }
        let lane = &mut self.lanes[self.cur];
        lane.settle(Side::A, n);
        lane.settle(Side::B, n);
    }

    fn start_swap(&mut self, slot: Option<Box<ModelSlot>>) {
        let other = 1 - self.cur;
        // The other lane is empty here: `finish_swap` retired its slot.
        debug_assert!(self.lanes[other].slot.is_none());
        let mode = self.settings.output_mode;
        if let Some(stale) = self.lanes[other].install(slot, mode) {
            // Unreachable by construction; never drop on this thread.
            let _ = self.retire(stale).map_err(std::mem::forget);
        }
        self.swapping = true;
        self.swap.jump_to(0.0);
        self.swap.set_target(1.0);
        self.sync_dry_delay();
    }

    /// Ends a crossfade: the incoming lane plays, the old slot is retired. `false` when the
    /// retired list is full (the crossfade then holds at its end until there is room).
    fn finish_swap(&mut self) -> bool {
        let old_lane = self.cur;
        if let Some(old) = self.lanes[old_lane].slot.take() {
            if let Err(old) = self.retire(old) {
                self.lanes[old_lane].slot = Some(old);
                self.swap.jump_to(1.0);
                return false;
            }
        }
        self.cur = 1 - old_lane;
        self.swapping = false;
        if let Some(next) = self.pending.take() {
            self.start_swap(next);
        }
        self.sync_dry_delay();
        true
    }

    fn retire(&mut self, slot: Box<ModelSlot>) -> Result<(), Box<ModelSlot>> {
        match self.retired.iter_mut().find(|r| r.is_none()) {
            Some(place) => {
                *place = Some(slot);
                Ok(())
            }
            None => Err(slot),
        }
    }

    fn sync_dry_delay(&mut self) {
        let d = self.latency();
        for line in &mut self.dry {
            line.set_delay(d);
        }
    }
}

fn peak(b: &[f32]) -> f32 {
    b.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}
