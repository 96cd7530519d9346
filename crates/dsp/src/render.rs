//! Offline rendering (reamping): a whole recording through the same [`Chain`] the plugin
//! runs, at the recording's own rate and length, aligned sample for sample with it. The
//! CLI's engine room; kept in the library so tests can hold it to the same contract.

use tubeless_nam::{ActivationMode, BuildOptions, Engine, NamFile};

use crate::chain::{Chain, ChainSettings};
use crate::ir::{IrFile, IrOptions, IrSlot};
use crate::levels::{
    input_calibration_availability, input_calibration_gain_db, output_mode_availability,
    output_mode_gain_db, OutputMode,
};
use crate::model_slot::{levels_of, ModelSlot, SlotError, SlotSpec};
use crate::stream_resample::{Quality, ResamplerPair};
use crate::wav::Audio;

/// Samples per chain call: the "host block" of an offline render.
pub const RENDER_BLOCK: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// The engine alone: no gain, level, DC blocker or channel handling but the mono sum.
    pub raw: bool,
    pub activations: ActivationMode,
    /// The chain's settings (bypass is ignored).
    pub chain: ChainSettings,
    /// How a cabinet IR's level is set.
    pub ir_options: IrOptions,
    /// The resamplers' quality when the file's rate is not the model's.
    pub quality: Quality,
    /// Seconds of silence after the input, so the amp can ring out.
    pub tail_seconds: f64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            raw: false,
            activations: ActivationMode::Accurate,
            chain: ChainSettings::default(),
            ir_options: IrOptions::default(),
            quality: Quality::default(),
            tail_seconds: 0.0,
        }
    }
}

/// Why the output level is what it is, for the CLI to tell the user.
pub fn level_note(file: &NamFile, opts: &RenderOptions) -> Option<String> {
    if opts.raw {
        return None;
    }
    let c = &opts.chain;
    let levels = levels_of(file);
    let mode_db = output_mode_gain_db(c.output_mode, Some(&levels), c.input_calibration_dbu as f64);
    let total = mode_db + c.output_gain_db as f64;
    let mut notes = Vec::new();
    match output_mode_availability(c.output_mode, Some(&levels)) {
        Err(why) => notes.push(format!(
            "output mode {}: {why}; playing raw (output gain {total:+.1} dB)",
            c.output_mode.name()
        )),
        Ok(()) if c.output_mode != OutputMode::Raw => notes.push(format!(
            "output mode {}: {mode_db:+.1} dB (output gain {total:+.1} dB)",
            c.output_mode.name()
        )),
        Ok(()) => {}
    }
    if c.input_calibration {
        match input_calibration_availability(Some(&levels)) {
            Err(why) => notes.push(format!("input calibration: {why}; not calibrated")),
            Ok(()) => notes.push(format!(
                "input calibrated: {:+.1} dB",
                input_calibration_gain_db(true, Some(&levels), c.input_calibration_dbu as f64)
            )),
        }
    }
    (!notes.is_empty()).then(|| notes.join("\n"))
}

/// Renders `audio` through the model. Two channels go to the chain as the plugin's stereo
/// input (averaged, or each through its own engine in dual mono); more are averaged to
/// mono first. The output has as many channels as the input (at least two through a
/// stereo cabinet IR). `progress` is called with
/// increments of processed input frames.
pub fn render(
    file: &NamFile,
    ir: Option<&IrFile>,
    audio: &Audio,
    opts: &RenderOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Audio, SlotError> {
    let rate = audio.sample_rate as f64;
    let frames = audio.frames();
    let tail = (opts.tail_seconds.max(0.0) * rate).round() as usize;
    let len = frames + tail;
    let n_ch = audio.channels.len().max(1);
    let clean = |x: &f32| if x.is_finite() { *x } else { 0.0 };
    let padded = |ch: &Vec<f32>| -> Vec<f32> {
        let mut v: Vec<f32> = ch.iter().map(clean).collect();
        v.resize(len, 0.0);
        v
    };
    // The chain's inputs: L and R of a stereo file (averaged or dual mono, as the plugin
    // would), else one mono sum of all channels.
    let stereo_in = !opts.raw && n_ch == 2;
    let mut inputs: Vec<Vec<f32>> = if stereo_in {
        audio.channels.iter().map(padded).collect()
    } else {
        let mut mono = vec![0.0f32; len];
        for ch in &audio.channels {
            for (m, x) in mono.iter_mut().zip(ch) {
                *m += clean(x);
            }
        }
        let inv = 1.0 / n_ch as f32;
        mono.iter_mut().for_each(|x| *x *= inv);
        vec![mono]
    };
    let n_in = inputs.len();
    if !opts.raw && n_in == 1 {
        // A right output buffer for a stereo cabinet.
        inputs.push(vec![0.0; inputs[0].len()]);
    }

    let mut stereo_out = false;
    let latency;
    if opts.raw {
        let mut engine = Engine::build(
            file,
            BuildOptions {
                activations: opts.activations,
                max_block: RENDER_BLOCK,
                size: opts.chain.size,
                ..BuildOptions::default()
            },
        )
        .map_err(SlotError::from)?;
        let mut pair = ResamplerPair::new(rate, file.sample_rate, RENDER_BLOCK, opts.quality)
            .map_err(SlotError::from)?;
        latency = pair.latency();
        pad(&mut inputs, latency);
        run_in_blocks(&mut inputs, len, progress, |bufs| {
            pair.process(bufs[0], |m| engine.process_buffer(m));
        });
    } else {
        let slot = ModelSlot::build(
            file,
            SlotSpec {
                host_rate: rate,
                max_block: RENDER_BLOCK,
                activations: opts.activations,
                size: opts.chain.size,
                quality: opts.quality,
            },
        )?;
        let settings = ChainSettings {
            bypass: false,
            ..opts.chain
        };
        let mut chain = Chain::new(rate, RENDER_BLOCK, settings);
        chain.place(Some(Box::new(slot)));
        chain.place_ir(ir.map(|f| IrSlot::build(f, rate, opts.ir_options)));
        stereo_out = chain.ir().is_some_and(|c| c.is_stereo()) && settings.cab_enabled;
        latency = chain.latency();
        pad(&mut inputs, latency);
        run_in_blocks(&mut inputs, len, progress, |bufs| {
            chain.process(bufs, n_in);
        });
    }
    // What a DAW with delay compensation records: the resamplers' delay removed, so the
    // output lines up with the input sample for sample.
    for ch in inputs.iter_mut() {
        ch.drain(..latency);
    }
    // As many channels as the input (two for a mono file through a stereo cab): the left
    // result on the first, the right one on the second, the left again on any more.
    let out_ch = if stereo_out { n_ch.max(2) } else { n_ch };
    let distinct = stereo_out || n_in == 2;
    let channels = (0..out_ch)
        .map(|k| {
            if distinct && k == 1 {
                inputs[1].clone()
            } else {
                inputs[0].clone()
            }
        })
        .collect();
    Ok(Audio {
        sample_rate: audio.sample_rate,
        channels,
    })
}

/// `latency` samples of silence after every channel, to push the last input through.
fn pad(chans: &mut [Vec<f32>], latency: usize) {
    for c in chans {
        c.resize(c.len() + latency, 0.0);
    }
}

/// Feeds equal-length channels to `f` in blocks of [`RENDER_BLOCK`], reporting progress in
/// input frames (`frames` of them in all).
fn run_in_blocks(
    chans: &mut [Vec<f32>],
    frames: usize,
    progress: &mut dyn FnMut(usize),
    mut f: impl FnMut(&mut [&mut [f32]]),
) {
    let total = chans[0].len();
    let mut reported = 0usize;
    let mut at = 0;
    while at < total {
        let n = (total - at).min(RENDER_BLOCK);
        let mut views: Vec<&mut [f32]> = chans.iter_mut().map(|c| &mut c[at..at + n]).collect();
        f(&mut views);
        at += n;
        let now = (at as f64 / total as f64 * frames as f64) as usize;
        progress(now.saturating_sub(reported));
        reported = reported.max(now);
    }
}
