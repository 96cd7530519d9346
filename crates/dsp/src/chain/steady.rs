//! The usual block: nothing glides, fades, waits or is bypassed, and no tone stack or
//! cabinet is in the way, so only the gate and the model change anything. The chain
//! remembers that it is there (`Chain::steady`, worked out after every other block and
//! cleared by every call that could change it) and runs this short path, which asks one
//! question where the full one asks twenty: on a light model (an LSTM of 16) the
//! plugin's own share of a block is a few percent, and these questions were a tenth
//! of it.

use super::lane::Input;
use super::{Chain, Meter};

impl Chain {
    /// Whether `steady_block` does what `any_block` would (for at most two channels, and
    /// dual mono off where the input is stereo).
    pub(super) fn steady_now(&self) -> bool {
        self.bypass.is_off()
            && !self.in_gain.is_smoothing()
            && !self.out_gain.is_smoothing()
            && self.dry[0].delay() == 0
            && !self.is_swapping()
            && self.tone[0].is_transparent()
            && self.cab[0].is_transparent()
    }

    /// Whether a block of `channels` channels takes the short path: the usual block, at
    /// most two channels, dual mono off where the input is stereo. (The one place that
    /// says so: `steady_call` and `process_block` both ask it.)
    #[inline(always)]
    pub(super) fn takes_short_path(&self, channels: usize, stereo_in: bool) -> bool {
        self.steady && channels <= 2 && (!stereo_in || self.dual.is_off())
    }

    /// Whether a whole call is one usual block (the host's block within `max_block`, at
    /// most two channels, dual mono off where the input is stereo): whether the input is
    /// stereo, and the length.
    #[inline(always)]
    pub(super) fn steady_call(
        &self,
        channels: &[&mut [f32]],
        inputs: usize,
    ) -> Option<(bool, usize)> {
        let stereo_in = inputs >= 2 && channels.len() >= 2;
        let n = match channels {
            [l] => l.len(),
            [l, r] => l.len().min(r.len()),
            _ => return None,
        };
        (n > 0 && n <= self.max_block && self.takes_short_path(channels.len(), stereo_in))
            .then_some((stereo_in, n))
    }

    /// The call as one usual block, in a function of its own: the full path's build
    /// is one large function whose setup (its spills and hoisted addresses) cost the
    /// usual block a hundred instructions it never used.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn steady_avx2(
        &mut self,
        channels: &mut [&mut [f32]],
        stereo_in: bool,
        n: usize,
    ) -> Meter {
        let mut meter = Meter::default();
        self.steady_block(channels, stereo_in, 0, n, &mut meter);
        meter.gate_db = self.gate.reduction_db();
        meter
    }

    /// `any_block` where `steady_now` holds: the input stage, the gate's detector, the
    /// model in place, the gate's gain, and the DC blocker writing the host's channels
    /// with the model's level and the output gain, measuring on the way. The same steps
    /// as `any_block` takes there, without its questions.
    #[inline(always)]
    pub(super) fn steady_block(
        &mut self,
        channels: &mut [&mut [f32]],
        stereo_in: bool,
        at: usize,
        n: usize,
        meter: &mut Meter,
    ) {
        debug_assert!(self.steady_now(), "a change did not clear `steady`");
        if !stereo_in {
            self.dual.snap();
        }
        let (c0, c1) = match channels {
            [l, r, ..] if stereo_in => (&l[at..at + n], Some(&r[at..at + n])),
            [l, ..] => (&l[at..at + n], None),
            [] => return,
        };
        let weights = self.gate.block_weights(n);
        let mono = &mut self.mono[..n];
        let (peak, sum) = self.simd.mix_in(mono, c0, c1, self.in_gain.gain(), weights);
        meter.input_peak = meter.input_peak.max(peak);
        if weights.is_some() {
            self.gate.detect_open(mono, sum, peak);
        } else {
            self.gate.detect_summed(mono, None);
        }
        let defer = self.gate.is_unity();
        let lane = &mut self.lanes[self.cur];
        std::mem::swap(&mut self.mono, &mut lane.out[0]);
        let level = lane.run(Input::InPlace(n), None, self.settings.size, defer);
        std::mem::swap(&mut self.wet[0], &mut lane.out[0]);
        self.gate.apply(&mut self.wet[0][..n]);
        self.dc_out(channels, at, n, level, false, meter);
    }
}

#[cfg(test)]
mod tests {
    use crate::chain::{ChainSettings, ChannelMode, Meter};
    use crate::model_slot::{ModelSlot, SlotSpec};
    use crate::Chain;
    use tubeless_nam::{ActivationMode, NamFile};

    /// The usual block's short path gives the bits of the long one, through everything
    /// that leaves it and comes back to it: gain glides, bypass, the gate closing and
    /// opening, dual mono, a model swap, mono and stereo input, odd block lengths.
    #[test]
    fn the_steady_block_gives_the_full_blocks_bits() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../nam/tests/fixtures/lstm_feather_v070.nam");
        let file = NamFile::from_path(&path).unwrap();
        let spec = SlotSpec {
            host_rate: 48_000.0,
            max_block: 256,
            activations: ActivationMode::Accurate,
            size: 1.0,
            quality: Default::default(),
        };
        let slot = || Some(Box::new(ModelSlot::build(&file, spec).unwrap()));
        let base = ChainSettings::default();
        let mut chains = [0, 1].map(|_| {
            let mut c = Chain::new(spec.host_rate, spec.max_block, base);
            drop(c.place(slot()));
            c
        });
        let mut steady_blocks = 0;
        let mut at = 0usize;
        for step in 0..400 {
            let mut s = base;
            match step / 40 {
                1 => s.input_gain_db = 6.0,
                2 => s.bypass = true,
                3 => s.gate.threshold_db = -10.0,
                4 => s.channel_mode = ChannelMode::DualMono,
                5 => s.output_gain_db = -12.0,
                _ => {}
            }
            let n = [64, 1, 7, 256, 100][step % 5];
            let inputs = if step % 80 < 70 { 2 } else { 1 };
            let quiet = step % 50 >= 45;
            let signal = |side: f32| -> Vec<f32> {
                (0..n)
                    .map(|i| {
                        let t = (at + i) as f32 / 48_000.0;
                        let a = if quiet { 1e-4 } else { 0.4 };
                        a * (2.0 * std::f32::consts::PI * (110.0 + 30.0 * side) * t).sin()
                    })
                    .collect()
            };
            let mut outs = [0, 1].map(|_| (signal(0.0), signal(1.0)));
            let mut meters = [Meter::default(); 2];
            for (k, chain) in chains.iter_mut().enumerate() {
                chain.set_settings(s);
                if step == 250 {
                    chain.offer(slot()).map_err(|_| ()).unwrap();
                }
                if k == 0 && chain.steady {
                    steady_blocks += 1;
                }
                if k == 1 {
                    chain.steady = false;
                }
                let (l, r) = &mut outs[k];
                meters[k] = chain.process(&mut [&mut l[..], &mut r[..]], inputs);
                while chain.take_retired().is_some() {}
            }
            assert_eq!(meters[0], meters[1], "meters, step {step}");
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&outs[0].0), bits(&outs[1].0), "left, step {step}");
            assert_eq!(bits(&outs[0].1), bits(&outs[1].1), "right, step {step}");
            at += n;
        }
        assert!(
            steady_blocks > 100,
            "the short path ran {steady_blocks} times"
        );
    }
}
