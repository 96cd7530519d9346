//! The one streaming signal chain that the plugin's `process()` and the CLI's `render`
//! both drive, in the reference plugin's order:
//!
//! ```text
//! input (mono sum, or L/R in dual mono) -> input gain (+ input calibration)
//!   -> gate detector -> model -> model level (output mode) -> gate gain -> tone stack
//!   -> cabinet IR -> DC blocker -> output gain -> bypass mix -> every output channel
//! ```
//!
//! Built off the audio thread ([`Chain::new`] allocates every buffer); everything else is
//! real-time safe: no allocation, free, lock or panic, on any block length and any input.
//! Every change is a glide: gains glide in dB, a model or IR swap crossfades, the channel
//! mode and bypass crossfade, so nothing the user or the host does clicks. Slots the chain
//! stops playing wait in [`Chain::take_retired`], to be dropped elsewhere.

mod lane;
mod settings;
mod steady;

use crate::dc_blocker::DcBlocker;
use crate::delay::Delay;
use crate::gate::NoiseGate;
use crate::ir::{Cabinet, Convolver, IrSlot};
use crate::levels::input_calibration_gain_db;
use crate::model_slot::{ModelSlot, Side};
use crate::simd::Simd;
use crate::smoother::{GainSmoother, Ramp};
use crate::tone_stack::ToneStack;
use crate::{clean, sanitize_rate};
use lane::{Input, Lane};

pub use crate::levels::OutputMode;
pub use settings::{ChainSettings, ChannelMode, GateSettings, ToneSettings};

/// Crossfade length when one model replaces another: long enough that two different amps
/// blend rather than click, short enough to feel instant under the fingers.
pub const SWAP_FADE_MS: f64 = 30.0;
/// Crossfade between mono and dual mono.
pub const MODE_FADE_MS: f64 = 30.0;
/// Crossfade in and out of bypass.
pub const BYPASS_FADE_MS: f64 = 20.0;
/// Glide of the input and output gains.
pub const GAIN_GLIDE_MS: f64 = 20.0;
/// The largest latency the bypass path can match (a resampler pair at the highest quality).
pub const MAX_LATENCY: usize = 16_384;
/// Slots waiting to be handed back for dropping off the audio thread.
const RETIRED_CAP: usize = 8;

/// Something the chain no longer plays, to be dropped off the audio thread.
pub enum Retired {
    Model(Box<ModelSlot>),
    Ir(Box<Convolver>),
}

/// Peaks of one `process` call, for meters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Meter {
    /// After the input gain: what the gate and the model hear.
    pub input_peak: f32,
    pub output_peak: f32,
    /// The gate's reduction at the end of the call, dB (0: open).
    pub gate_db: f32,
}

pub struct Chain {
    rate: f64,
    max_block: usize,
    settings: ChainSettings,
    /// The gate release in samples (part of `tail_samples`), worked out when it changes.
    release_tail: usize,
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
    /// Side B ran last block (dual mono was on, not bypassed).
    dual_last: bool,
    bypass: Ramp,
    gate: NoiseGate,
    /// Left (or mono) and right tone stacks.
    tone: [ToneStack; 2],
    /// `main` takes the left (or mono) signal and gives both sides; `side` takes the right
    /// signal of dual mono.
    cab: [Cabinet; 2],
    dc: [DcBlocker; 2],
    /// The right DC blocker has been idle (the right channel was the left's): it takes
    /// the left's state when it is next needed.
    dc_r_follows: bool,
    dry: [Delay; 2],
    retired: [Option<Retired>; RETIRED_CAP],
    /// How many of `retired` hold something: most blocks none does, and the audio thread
    /// asks every block.
    retired_count: usize,
    // Scratch, each `max_block` long.
    left: Vec<f32>,
    right: Vec<f32>,
    mono: Vec<f32>,
    gains: Vec<f32>,
    model_in: Vec<f32>,
    dual_w: Vec<f32>,
    mix_w: Vec<f32>,
    wet: [Vec<f32>; 2],
    wet_b: Vec<f32>,
    spare: Vec<f32>,
    dry_buf: [Vec<f32>; 2],
    /// With AVX2 and FMA `process` runs its 256-bit build.
    simd: Simd,
    /// Nothing glides, fades, waits or is bypassed, no tone stack or cabinet is in the
    /// way: the usual block, where only the gate and the model change anything. Worked
    /// out after each other block and cleared by every call that could change it, so
    /// that the usual block asks one question instead of twenty (see `steady_block`).
    steady: bool,
}

fn on(b: bool) -> f32 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl Chain {
    /// Allocates everything, settled at `settings`, with no model and no IR.
    pub fn new(sample_rate: f64, max_block: usize, settings: ChainSettings) -> Chain {
        let rate = sanitize_rate(sample_rate);
        let max_block = max_block.clamp(1, tubeless_nam::limits::MAX_BLOCK_LIMIT);
        let buf = || vec![0.0f32; max_block];
        let mut chain = Chain {
            rate,
            max_block,
            settings,
            release_tail: 0,
            in_gain: GainSmoother::new(rate, GAIN_GLIDE_MS, settings.input_gain_db),
            out_gain: GainSmoother::new(rate, GAIN_GLIDE_MS, settings.output_gain_db),
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
            dual_last: false,
            bypass: Ramp::new(rate, BYPASS_FADE_MS, on(settings.bypass)),
            gate: NoiseGate::new(rate, max_block),
            tone: [ToneStack::new(rate), ToneStack::new(rate)],
            cab: [Cabinet::new(rate, max_block), Cabinet::new(rate, max_block)],
            dc: [DcBlocker::new(rate), DcBlocker::new(rate)],
            dc_r_follows: true,
            dry: [Delay::new(MAX_LATENCY), Delay::new(MAX_LATENCY)],
            retired: Default::default(),
            retired_count: 0,
            left: buf(),
            right: buf(),
            mono: buf(),
            gains: buf(),
            model_in: buf(),
            dual_w: buf(),
            mix_w: buf(),
            wet: [buf(), buf()],
            wet_b: buf(),
            spare: buf(),
            dry_buf: [buf(), buf()],
            simd: Simd::detect(),
            steady: false,
        };
        chain.apply_block_settings(&settings);
        chain.snap_glides();
        chain
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
        self.steady = false;
        let (mode, cal) = self.level_settings();
        let mut old: Vec<Box<ModelSlot>> = Vec::new();
        old.extend(self.pending.take().flatten());
        let other = 1 - self.cur;
        old.extend(self.lanes[other].install(None, mode, cal));
        old.extend(self.lanes[self.cur].install(slot, mode, cal));
        for r in self.retired.iter_mut() {
            if let Some(Retired::Model(m)) = r.take() {
                old.push(m);
            }
        }
        self.retired_count = 0;
        self.swapping = false;
        self.in_gain.reset_db(self.input_db());
        self.sync_dry_delay();
        old
    }

    /// Puts an IR in place at once (`None`: no cab), for a chain that has not played yet.
    /// Returns what was there, to be dropped by the caller.
    pub fn place_ir(&mut self, ir: Option<IrSlot>) -> Vec<Box<Convolver>> {
        self.steady = false;
        let mut old = Vec::new();
        let (main, side) = match ir {
            Some(s) => (Some(s.main), Some(s.side)),
            None => (None, None),
        };
        old.extend(self.cab[0].set_ir(main));
        old.extend(self.cab[1].set_ir(side));
        for cab in &mut self.cab {
            cab.reset();
            old.extend(std::iter::from_fn(|| cab.take_retired()));
        }
        old
    }

    /// Starts a crossfade to `slot` (`None`: no model, audio passes through). Real-time safe.
    /// While a crossfade runs, the newest offer waits its turn and an older waiting one is
    /// retired. `Err` hands the slot back when the retired list is full: keep it, drain
    /// [`Chain::take_retired`], and offer it again.
    pub fn offer(&mut self, slot: Option<Box<ModelSlot>>) -> Result<(), Option<Box<ModelSlot>>> {
        self.steady = false;
        if !self.swapping {
            self.start_swap(slot);
            return Ok(());
        }
        if let Some(Some(old)) = self.pending.take() {
            if let Err(Retired::Model(old)) = self.retire(Retired::Model(old)) {
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
        self.steady = false;
        let displaced = self.lanes.iter().filter(|l| l.slot.is_some()).count()
            + usize::from(matches!(self.pending, Some(Some(_))));
        if self.free_retired() < displaced {
            return Err(slot);
        }
        let (mode, cal) = self.level_settings();
        let mut out: [Option<Box<ModelSlot>>; 3] = Default::default();
        out[0] = self.pending.take().flatten();
        out[1] = self.lanes[0].install(None, mode, cal);
        out[2] = self.lanes[1].install(None, mode, cal);
        for m in out.into_iter().flatten() {
            // Room was checked above; never drop on this thread.
            let _ = self.retire(Retired::Model(m)).map_err(std::mem::forget);
        }
        self.swapping = false;
        self.lanes[self.cur].install(slot, mode, cal);
        self.in_gain.reset_db(self.input_db());
        self.sync_dry_delay();
        Ok(())
    }

    /// Crossfades to a new cabinet IR (`None`: no cab). Real-time safe. An IR that was
    /// still waiting for its turn is retired.
    pub fn offer_ir(&mut self, ir: Option<IrSlot>) -> Result<(), Option<IrSlot>> {
        self.steady = false;
        // Each cabinet may hand back one waiting convolver, and one finished fade each
        // may need a place later: keep room for all.
        if self.free_retired() < 2 {
            return Err(ir);
        }
        let (main, side) = match ir {
            Some(s) => (Some(s.main), Some(s.side)),
            None => (None, None),
        };
        for (k, c) in [main, side].into_iter().enumerate() {
            if let Some(waiting) = self.cab[k].set_ir(c) {
                let _ = self.retire(Retired::Ir(waiting)).map_err(std::mem::forget);
            }
        }
        Ok(())
    }

    /// Puts a cabinet IR in place at once, without a crossfade (a session restored before
    /// anything was heard, an offline render). Real-time safe.
    pub fn offer_ir_now(&mut self, ir: Option<IrSlot>) -> Result<(), Option<IrSlot>> {
        self.offer_ir(ir)?;
        for c in &mut self.cab {
            c.reset();
        }
        Ok(())
    }

    /// Something no longer played, to be dropped off the audio thread. Real-time safe.
    pub fn take_retired(&mut self) -> Option<Retired> {
        if self.retired_count > 0 {
            if let Some(r) = self.retired.iter_mut().find_map(Option::take) {
                self.retired_count -= 1;
                return Some(r);
            }
        }
        self.cab
            .iter_mut()
            .find_map(|c| c.take_retired())
            .map(Retired::Ir)
    }

    /// Whether [`Chain::take_retired`] has something to hand out. Real-time safe.
    #[inline]
    pub fn has_retired(&self) -> bool {
        self.retired_count > 0 || self.cab.iter().any(|c| c.has_retired())
    }

    /// True while a model crossfade runs or waits.
    pub fn is_swapping(&self) -> bool {
        self.swapping || self.pending.is_some()
    }

    /// The model that plays (or fades in).
    pub fn model(&self) -> Option<&ModelSlot> {
        self.lanes[self.target_lane()].slot.as_deref()
    }

    /// The model that plays (or fades in), for benchmarks: see [`ModelSlot::engine_mut`].
    #[doc(hidden)]
    pub fn model_mut(&mut self) -> Option<&mut ModelSlot> {
        let lane = self.target_lane();
        self.lanes[lane].slot.as_deref_mut()
    }

    /// The cabinet IR that plays (or fades in).
    pub fn ir(&self) -> Option<&Convolver> {
        self.cab[0].ir()
    }

    /// The delay the chain adds, in samples: the incoming model's once a swap has begun.
    pub fn latency(&self) -> usize {
        self.lanes[self.target_lane()].latency()
    }

    /// How long, in samples, the output can keep sounding after the input stops: the
    /// model's history and delay, the cab IR's length, the gate's release.
    pub fn tail_samples(&self) -> usize {
        let model = self.lanes[self.target_lane()]
            .slot
            .as_ref()
            .map_or(0, |s| s.tail_samples());
        let ir = self.cab[0].ir().map_or(0, |c| c.len());
        model + ir + self.release_tail
    }

    fn target_lane(&self) -> usize {
        if self.swapping {
            1 - self.cur
        } else {
            self.cur
        }
    }

    fn level_settings(&self) -> (OutputMode, f32) {
        (
            self.settings.output_mode,
            self.settings.input_calibration_dbu,
        )
    }

    /// The input gain in dB: the knob plus the incoming model's input calibration.
    fn input_db(&self) -> f32 {
        let s = &self.settings;
        let levels = self.model().map(|m| m.levels());
        s.input_gain_db
            + input_calibration_gain_db(
                s.input_calibration,
                levels.as_ref(),
                s.input_calibration_dbu as f64,
            ) as f32
    }

    /// New targets; everything glides there. Real-time safe.
    pub fn set_settings(&mut self, s: ChainSettings) {
        if s == self.settings {
            // The usual block: every target is already where these settings put it (a
            // model or IR change sets the targets that depend on it itself).
            return;
        }
        self.steady = false;
        self.settings = s;
        self.apply_block_settings(&s);
    }

    fn apply_block_settings(&mut self, s: &ChainSettings) {
        self.in_gain.set_target_db(self.input_db());
        self.out_gain.set_target_db(s.output_gain_db);
        self.dual
            .set_target(on(s.channel_mode == ChannelMode::DualMono));
        self.bypass.set_target(on(s.bypass));
        for k in 0..2 {
            let db = self.lanes[k].level_db(s.output_mode, s.input_calibration_dbu);
            self.lanes[k].level.set_target_db(db);
        }
        let g = &s.gate;
        self.gate.set_enabled(g.enabled);
        self.gate.set_threshold_db(g.threshold_db);
        self.gate.set_attack_ms(g.attack_ms);
        self.gate.set_hold_ms(g.hold_ms);
        self.gate.set_release_ms(g.release_ms);
        self.release_tail = (g.release_ms as f64 * 1e-3 * self.rate).ceil() as usize;
        for t in &mut self.tone {
            t.set_enabled(s.tone.enabled);
            t.set_bass(s.tone.bass);
            t.set_middle(s.tone.middle);
            t.set_treble(s.tone.treble);
        }
        for c in &mut self.cab {
            c.set_enabled(s.cab_enabled);
        }
    }

    pub fn settings(&self) -> ChainSettings {
        self.settings
    }

    /// Lands every glide on its target at once: for settings that change while nothing
    /// plays (before the first block after a reset), where a glide would only be heard.
    /// Real-time safe.
    pub fn snap_glides(&mut self) {
        self.steady = false;
        self.in_gain.reset_db(self.input_db());
        self.out_gain.reset_db(self.settings.output_gain_db);
        self.dual.snap();
        self.bypass.snap();
        for lane in &mut self.lanes {
            lane.level.reset_db(f32::NAN);
        }
        for t in &mut self.tone {
            t.reset();
        }
    }

    /// Back to the state of a chain that has not played: filters, gate, cabinets and
    /// delays cleared, every glide and crossfade on its target, engines as freshly built,
    /// so that the same input gives the same output again (an offline render, a host that
    /// resets before a bounce). Real-time safe, but it costs a prewarm of the model.
    pub fn reset(&mut self) {
        self.steady = false;
        while self.swapping {
            if !self.finish_swap() {
                break;
            }
        }
        self.snap_glides();
        for lane in &mut self.lanes {
            lane.owed = [0, 0];
        }
        if let Some(slot) = self.lanes[self.cur].slot.as_deref_mut() {
            slot.reset();
        }
        self.gate.reset();
        for c in &mut self.cab {
            c.reset();
        }
        for d in &mut self.dc {
            d.reset(self.rate);
        }
        for d in &mut self.dry {
            d.clear();
        }
    }

    /// Processes `channels` in place: the first `inputs` (1 or 2) hold the host's input;
    /// every channel gets output. Any length: longer than `max_block` is split here.
    pub fn process(&mut self, channels: &mut [&mut [f32]], inputs: usize) -> Meter {
        #[cfg(target_arch = "x86_64")]
        if self.simd.fma() {
            if let Some((stereo_in, n)) = self.steady_call(channels, inputs) {
                // SAFETY: as below.
                return unsafe { self.steady_avx2(channels, stereo_in, n) };
            }
            // SAFETY: `fma` is set only where the CPU has AVX2 and FMA.
            return unsafe { self.process_avx2(channels, inputs) };
        }
        self.process_portable(channels, inputs)
    }

    /// Out of line, so that its large frame is not set up on the way to the others.
    #[inline(never)]
    fn process_portable(&mut self, channels: &mut [&mut [f32]], inputs: usize) -> Meter {
        self.process_any(channels, inputs)
    }

    /// The same code with 256-bit vectors for its loops, and FMA so that the blocks'
    /// AVX2 kernels inline here. Rust never fuses a multiply and an add by itself, so the
    /// chain's own loops give the portable build's bits; only the DC blocker's kernel
    /// fuses (see `dc_blocker`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn process_avx2(&mut self, channels: &mut [&mut [f32]], inputs: usize) -> Meter {
        self.process_any(channels, inputs)
    }

    #[inline(always)]
    fn process_any(&mut self, channels: &mut [&mut [f32]], inputs: usize) -> Meter {
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
        meter.gate_db = self.gate.reduction_db();
        meter
    }

    #[inline(always)]
    fn process_block(
        &mut self,
        channels: &mut [&mut [f32]],
        inputs: usize,
        at: usize,
        n: usize,
        meter: &mut Meter,
    ) {
        let stereo_in = inputs >= 2;
        if self.takes_short_path(channels.len(), stereo_in) {
            self.steady_block(channels, stereo_in, at, n, meter);
        } else {
            self.any_block(channels, inputs, at, n, meter);
            self.steady = self.steady_now();
        }
    }

    /// The usual block's end: the DC blocker writes the output, with the model's level
    /// (`level`, when it was deferred) and the output gain, to the host's channels and
    /// measures it on the way.
    #[inline(always)]
    fn dc_out(
        &mut self,
        channels: &mut [&mut [f32]],
        at: usize,
        n: usize,
        level: f32,
        dual_on: bool,
        meter: &mut Meter,
    ) {
        self.dc_r_follows = true;
        self.dual_last = dual_on;
        let (first, rest) = channels.split_at_mut(1);
        let peak = self.dc[0].process_out(
            &mut self.wet[0][..n],
            level,
            self.out_gain.gain(),
            &mut first[0][at..at + n],
            rest.first_mut().map(|c| &mut c[at..at + n]),
        );
        meter.output_peak = meter.output_peak.max(peak);
    }

    #[inline(always)]
    fn any_block(
        &mut self,
        channels: &mut [&mut [f32]],
        inputs: usize,
        at: usize,
        n: usize,
        meter: &mut Meter,
    ) {
        let stereo_in = inputs >= 2;
        if !stereo_in {
            self.dual.snap();
        }
        let dual_on = stereo_in && !self.dual.is_off();
        let (mono_peak, summed) = self.read_input(channels, stereo_in, dual_on, at, n);
        let fed = if dual_on {
            self.simd
                .peak(&self.left[..n])
                .max(self.simd.peak(&self.right[..n]))
        } else {
            mono_peak
        };
        meter.input_peak = meter.input_peak.max(fed);

        let bypassed = self.bypass.is_on();
        let right_differs = if bypassed {
            self.idle_while_bypassed(n);
            let [wl, wr] = &mut self.wet;
            wl[..n].copy_from_slice(&self.dry_buf[0][..n]);
            wr[..n].copy_from_slice(&self.dry_buf[1][..n]);
            true
        } else {
            self.gate.detect_summed(&self.mono[..n], summed);
            let plain_out =
                self.bypass.is_settled() && !self.out_gain.is_smoothing() && channels.len() <= 2;
            // Where nothing between the model and the DC blocker changes the signal, the
            // model's level is applied as the DC blocker reads it (one pass less).
            let defer_level = plain_out
                && !dual_on
                && !self.swapping
                && self.gate.is_unity()
                && self.tone[0].is_transparent()
                && self.cab[0].is_transparent();
            let level = self.run_models(n, dual_on, defer_level);
            let differs = self.after_model(n, dual_on);
            if plain_out && !differs {
                self.dc_out(channels, at, n, level, dual_on, meter);
                return;
            }
            self.dc_stage(n, differs);
            self.output_and_bypass(n, differs)
        };
        self.dual_last = dual_on && !bypassed;

        let [wl, wr] = &self.wet;
        let mut out_peak = 0.0f32;
        for (k, ch) in channels.iter_mut().enumerate() {
            let src = if k == 0 || !right_differs {
                &wl[..n]
            } else {
                &wr[..n]
            };
            let dst = &mut ch[at..at + n];
            if k == 0 || (k == 1 && right_differs) {
                // Each distinct signal is measured as it is copied out.
                out_peak = out_peak.max(self.simd.copy_peak(dst, src));
            } else {
                dst.copy_from_slice(src);
            }
        }
        meter.output_peak = meter.output_peak.max(out_peak);
    }

    /// The host's input into `mono` (and `left` / `right` when dual mono is on), cleaned
    /// (non-finite samples and denormals are silence) and with the input gain; keeps the
    /// dry signal for bypass when it may be heard. Returns the largest magnitude in
    /// `mono`, and the gate's block sum over it when the gate takes that path.
    #[inline(always)]
    fn read_input(
        &mut self,
        channels: &[&mut [f32]],
        stereo_in: bool,
        dual_on: bool,
        at: usize,
        n: usize,
    ) -> (f32, Option<(f64, f32)>) {
        let c0 = &channels[0][at..at + n];
        let c1 = stereo_in.then(|| &channels[1][at..at + n]);
        let dry_heard = !self.bypass.is_off();
        if !dual_on && !dry_heard && self.dry[0].delay() == 0 && !self.in_gain.is_smoothing() {
            // The usual block: mix, gain, peak and the gate's sum in one pass.
            let weights = self.gate.block_weights(n);
            let (peak, sum) =
                self.simd
                    .mix_in(&mut self.mono[..n], c0, c1, self.in_gain.gain(), weights);
            return (peak, weights.is_some().then_some((sum, peak)));
        }
        let mono_peak = self.simd.mix_peak(&mut self.mono[..n], c0, c1);
        if dual_on {
            for (d, s) in self.left[..n].iter_mut().zip(c0) {
                *d = clean(*s);
            }
            for (d, s) in self.right[..n].iter_mut().zip(&channels[1][at..at + n]) {
                *d = clean(*s);
            }
        }
        if dry_heard || self.dry[0].delay() > 0 {
            let [dl, dr] = &mut self.dry_buf;
            if stereo_in {
                for (d, s) in dl[..n].iter_mut().zip(c0) {
                    *d = clean(*s);
                }
                for (d, s) in dr[..n].iter_mut().zip(&channels[1][at..at + n]) {
                    *d = clean(*s);
                }
            } else {
                dl[..n].copy_from_slice(&self.mono[..n]);
                dr[..n].copy_from_slice(&self.mono[..n]);
            }
            self.dry[0].process(&mut dl[..n]);
            self.dry[1].process(&mut dr[..n]);
        }
        let bufs: &mut [&mut Vec<f32>] = if dual_on {
            &mut [&mut self.mono, &mut self.left, &mut self.right]
        } else {
            &mut [&mut self.mono]
        };
        let peak = if self.in_gain.is_smoothing() {
            self.in_gain.fill(&mut self.gains[..n]);
            for b in bufs.iter_mut() {
                for (x, g) in b[..n].iter_mut().zip(&self.gains[..n]) {
                    *x *= g;
                }
            }
            self.simd.peak(&self.mono[..n])
        } else {
            let g = self.in_gain.gain();
            if g != 1.0 {
                for b in bufs.iter_mut() {
                    b[..n].iter_mut().for_each(|x| *x *= g);
                }
            }
            // Rounding is monotone: the largest |g x| is g times the largest |x|, exactly.
            if g == 1.0 {
                mono_peak
            } else {
                mono_peak * g.abs()
            }
        };
        (peak, None)
    }

    /// Runs the playing model (and the incoming one during a swap) into `wet[0]` (side A)
    /// and, in dual mono, `wet_b` (side B). With `defer_level` (mono, no swap) the
    /// lane's level may come back to be applied later: the gain still owed, else 1.
    #[inline(always)]
    fn run_models(&mut self, n: usize, dual_on: bool, defer_level: bool) -> f32 {
        let moving = !self.dual.is_settled();
        if moving {
            for w in &mut self.dual_w[..n] {
                *w = Ramp::weight(self.dual.advance());
            }
        }
        let size = self.settings.size;
        let level = if !dual_on && !self.swapping {
            // One lane on the mono sum: the lane takes the buffer rather than a copy (the
            // mono buffer is written afresh every block).
            std::mem::swap(&mut self.mono, &mut self.lanes[self.cur].out[0]);
            self.lanes[self.cur].run(Input::InPlace(n), None, size, defer_level)
        } else {
            self.run_lanes_on_copies(n, dual_on);
            1.0
        };
        if moving && self.dual.is_off() {
            // Back in mono: side B idles after the silence that makes it resume clean.
            for lane in &mut self.lanes {
                lane.owe_silence(Side::B);
            }
        }
        self.take_wet(n, dual_on);
        level
    }

    /// Both lanes during a swap, or dual mono: each lane copies what it hears.
    fn run_lanes_on_copies(&mut self, n: usize, dual_on: bool) {
        // Side A hears the mono sum, the left channel, or a glide between them.
        let a_in: &[f32] = if !dual_on {
            &self.mono[..n]
        } else if self.dual.is_on() {
            &self.left[..n]
        } else {
            self.model_in[..n].copy_from_slice(&self.left[..n]);
            blend(
                &mut self.model_in[..n],
                &self.mono[..n],
                &self.dual_w[..n],
                true,
            );
            &self.model_in[..n]
        };
        let b_in = dual_on.then_some(&self.right[..n]);
        let size = self.settings.size;
        self.lanes[self.cur].run(Input::Copy(a_in), b_in, size, false);
        if self.swapping {
            self.lanes[1 - self.cur].run(Input::Copy(a_in), b_in, size, false);
        }
    }

    /// The playing lane's output becomes `wet` (mixed with the incoming one's during a
    /// swap).
    #[inline(always)]
    fn take_wet(&mut self, n: usize, dual_on: bool) {
        // The playing lane's output becomes `wet`: the buffers trade places (the lane
        // overwrites its own next block), which costs no copy.
        let cur = &mut self.lanes[self.cur];
        std::mem::swap(&mut self.wet[0], &mut cur.out[0]);
        if dual_on {
            std::mem::swap(&mut self.wet_b, &mut cur.out[1]);
        }
        if self.swapping {
            for w in &mut self.mix_w[..n] {
                *w = Ramp::weight(self.swap.advance());
            }
            let inc = &self.lanes[1 - self.cur];
            blend(
                &mut self.wet[0][..n],
                &inc.out[0][..n],
                &self.mix_w[..n],
                false,
            );
            if dual_on {
                blend(
                    &mut self.wet_b[..n],
                    &inc.out[1][..n],
                    &self.mix_w[..n],
                    false,
                );
            }
            if self.swap.is_settled() {
                self.finish_swap();
            }
        }
    }

    /// Gate gain, tone stack and cabinet on the model's output; the right
    /// channel from the cabinet (mono) or side B (dual mono), crossfaded while the mode
    /// changes. Returns whether the right channel differs from the left.
    #[inline(always)]
    fn after_model(&mut self, n: usize, dual_on: bool) -> bool {
        let [wl, wr] = &mut self.wet;
        self.gate.apply(&mut wl[..n]);
        if dual_on {
            self.gate.apply(&mut self.wet_b[..n]);
        }
        let [tone_a, tone_b] = &mut self.tone;
        let [cab_main, cab_side] = &mut self.cab;
        if dual_on && !self.dual_last {
            // Dual mono starts: the right side takes over the left's filter state rather
            // than a stale one, and its cabinet starts from silence.
            tone_b.clone_from(tone_a);
            cab_side.reset();
        }
        tone_a.process(&mut wl[..n]);
        if dual_on {
            tone_b.process(&mut self.wet_b[..n]);
        }
        if dual_on || !cab_main.is_transparent() {
            cab_main.process(&mut wl[..n], &mut wr[..n]);
        }
        // (Else the right channel is unused: the left one goes to every output.)
        let stereo_cab = cab_main.is_stereo();
        if dual_on {
            cab_side.process(&mut self.wet_b[..n], &mut self.spare[..n]);
            let settled_dual = self.dual.is_on();
            if settled_dual {
                wr[..n].copy_from_slice(&self.wet_b[..n]);
            } else {
                // The right channel: from the mono configuration's towards side B's.
                blend(&mut wr[..n], &self.wet_b[..n], &self.dual_w[..n], false);
            }
        }
        dual_on || stereo_cab
    }

    /// The DC blockers on `wet`: the right one only when the right channel differs.
    #[inline(always)]
    fn dc_stage(&mut self, n: usize, differs: bool) {
        let [wl, wr] = &mut self.wet;
        let [dc_l, dc_r] = &mut self.dc;
        if differs && self.dc_r_follows {
            // A stereo cab or dual mono starts: the right filter from the left's state.
            dc_r.clone_from(dc_l);
            self.dc_r_follows = false;
        }
        dc_l.process(&mut wl[..n]);
        if differs {
            dc_r.process(&mut wr[..n]);
        } else {
            self.dc_r_follows = true;
        }
    }

    /// Output gain and the bypass crossfade on `wet`. Returns whether the right channel
    /// differs from the left.
    #[inline(always)]
    fn output_and_bypass(&mut self, n: usize, differs: bool) -> bool {
        let sides = if differs { 2 } else { 1 };
        if self.out_gain.is_smoothing() {
            self.out_gain.fill(&mut self.gains[..n]);
            for w in &mut self.wet[..sides] {
                for (x, g) in w[..n].iter_mut().zip(&self.gains[..n]) {
                    *x *= g;
                }
            }
        } else {
            let g = self.out_gain.gain();
            if g != 1.0 {
                for w in &mut self.wet[..sides] {
                    w[..n].iter_mut().for_each(|x| *x *= g);
                }
            }
        }
        if self.bypass.is_settled() {
            return differs;
        }
        if !differs {
            let [wl, wr] = &mut self.wet;
            wr[..n].copy_from_slice(&wl[..n]);
        }
        for w in &mut self.mix_w[..n] {
            *w = Ramp::weight(self.bypass.advance());
        }
        let [wl, wr] = &mut self.wet;
        blend(&mut wl[..n], &self.dry_buf[0][..n], &self.mix_w[..n], false);
        blend(&mut wr[..n], &self.dry_buf[1][..n], &self.mix_w[..n], false);
        if self.bypass.is_on() {
            // Unheard from now on: the engines settle on silence and the filters clear,
            // so that leaving bypass sounds like a freshly loaded model.
            for lane in &mut self.lanes {
                lane.owe_silence(Side::A);
                lane.owe_silence(Side::B);
            }
            for d in &mut self.dc {
                d.reset(self.rate);
            }
            self.gate.reset();
            for c in &mut self.cab {
                c.reset();
            }
        }
        true
    }

    /// Fully bypassed: the engines get the silence they owe, then cost nothing.
    fn idle_while_bypassed(&mut self, n: usize) {
        while self.swapping {
            if !self.finish_swap() {
                break;
            }
        }
        self.dual.snap();
        let lane = &mut self.lanes[self.cur];
        lane.settle(Side::A, n);
        lane.settle(Side::B, n);
    }

    fn start_swap(&mut self, slot: Option<Box<ModelSlot>>) {
        let other = 1 - self.cur;
        let (mode, cal) = self.level_settings();
        if let Some(stale) = self.lanes[other].install(slot, mode, cal) {
            // Unreachable by construction (`finish_swap` empties it); never drop here.
            let _ = self.retire(Retired::Model(stale)).map_err(std::mem::forget);
        }
        self.swapping = true;
        self.swap.jump_to(0.0);
        self.swap.set_target(1.0);
        // The input calibration follows the incoming model.
        self.in_gain.set_target_db(self.input_db());
        self.sync_dry_delay();
    }

    /// Ends a crossfade: the incoming lane plays, the old slot is retired. `false` when the
    /// retired list is full (the crossfade then holds at its end until there is room).
    fn finish_swap(&mut self) -> bool {
        let old_lane = self.cur;
        if let Some(old) = self.lanes[old_lane].slot.take() {
            if let Err(Retired::Model(old)) = self.retire(Retired::Model(old)) {
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

    fn free_retired(&self) -> usize {
        self.retired.iter().filter(|r| r.is_none()).count()
    }

    fn retire(&mut self, item: Retired) -> Result<(), Retired> {
        match self.retired.iter_mut().find(|r| r.is_none()) {
            Some(place) => {
                *place = Some(item);
                self.retired_count += 1;
                Ok(())
            }
            None => Err(item),
        }
    }

    fn sync_dry_delay(&mut self) {
        let d = self.latency();
        for line in &mut self.dry {
            line.set_delay(d);
        }
    }
}

/// `a` becomes `a + w * (b - a)` per sample, exact at w = 0 and w = 1. With `from_b` the
/// roles swap: `a` holds the destination and `b` the origin (`a = b + w * (a - b)`).
fn blend(a: &mut [f32], b: &[f32], w: &[f32], from_b: bool) {
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
