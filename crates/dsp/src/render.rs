//! Offline rendering (reamping): a whole recording through a model, at the recording's
//! own rate and length, aligned sample for sample with it. The CLI's engine room; kept in
//! the library so tests can hold it to the same contract.

use crate::db_to_gain;
use crate::dc_blocker::DcBlocker;
use crate::resample::Resampler;
use crate::wav::Audio;
use tubeless_nam::{ActivationMode, BuildOptions, Engine, NamFile, Result};

/// The level the reference plugin's "Normalized" output mode brings a model to.
pub const NORMALIZED_LOUDNESS_DB: f64 = -18.0;

#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// The engine alone: no input/output gain, no normalization, no DC blocker.
    pub raw: bool,
    pub activations: ActivationMode,
    pub input_db: f32,
    pub output_db: f32,
    /// Bring the model's output to -18 dB loudness when its metadata says how loud it is.
    pub normalize: bool,
    /// Seconds of silence after the input, so the amp can ring out.
    pub tail_seconds: f64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            raw: false,
            activations: ActivationMode::Accurate,
            input_db: 0.0,
            output_db: 0.0,
            normalize: true,
            tail_seconds: 0.0,
        }
    }
}

/// Gain applied after the model, in dB: the output trim plus normalization if asked for
/// and possible.
pub fn output_gain_db(file: &NamFile, opts: &RenderOptions) -> f64 {
    if opts.raw {
        return 0.0;
    }
    let norm = match (opts.normalize, file.metadata.loudness) {
        (true, Some(l)) => NORMALIZED_LOUDNESS_DB - l,
        _ => 0.0,
    };
    opts.output_db as f64 + norm
}

/// Renders `audio` through the model. Several input channels are averaged to mono, as the
/// plugin does, and the result goes to every output channel. `progress` is called with
/// increments of processed input frames.
pub fn render(
    file: &NamFile,
    audio: &Audio,
    opts: &RenderOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Audio> {
    let rate = audio.sample_rate as f64;
    let frames = audio.frames();
    let tail = (opts.tail_seconds.max(0.0) * rate).round() as usize;
    let len = frames + tail;
    let n_ch = audio.channels.len().max(1);

    let mut mono = vec![0.0f32; len];
    for ch in &audio.channels {
        for (m, x) in mono.iter_mut().zip(ch) {
            // A non-finite sample is a damaged file, not audio: silence it here, before
            // the resampler would smear it over its neighbours.
            *m += if x.is_finite() { *x } else { 0.0 };
        }
    }
    let mut in_gain = 1.0 / n_ch as f32;
    if !opts.raw {
        in_gain *= db_to_gain(opts.input_db);
    }
    mono.iter_mut().for_each(|x| *x *= in_gain);

    let mut engine = Engine::build(
        file,
        BuildOptions {
            activations: opts.activations,
            ..BuildOptions::default()
        },
    )?;
    let model_rate = file.sample_rate;
    let mut y = if (model_rate - rate).abs() < 1e-6 {
        for chunk in mono.chunks_mut(8192) {
            engine.process_buffer(chunk);
            progress(chunk.len());
        }
        mono
    } else {
        run_resampled(&mut engine, &mono, rate, model_rate, progress)
    };

    if !opts.raw {
        DcBlocker::new(rate).process(&mut y);
        let g = db_to_gain(output_gain_db(file, opts) as f32);
        y.iter_mut().for_each(|x| *x *= g);
    }
    Ok(Audio {
        sample_rate: audio.sample_rate,
        channels: vec![y; n_ch],
    })
}

/// Converts to the model's rate, runs the model, converts back. Both conversions are
/// zero-phase, and the model sees the conversion's pre-ringing before time 0, so the
/// result lines up with the input exactly and its first samples are as exact as the rest.
fn run_resampled(
    engine: &mut Engine,
    x: &[f32],
    rate: f64,
    model_rate: f64,
    progress: &mut dyn FnMut(usize),
) -> Vec<f32> {
    let up = Resampler::new(rate, model_rate);
    let down = Resampler::new(model_rate, rate);
    let r = model_rate / rate;
    let len = x.len();
    // Model-rate samples needed: from where the way back starts looking, to where it
    // stops; the way there is zero before -(its reach).
    let back_reach = down.half_width();
    let first = -((up.half_width() * r + back_reach).ceil() as isize) - 2;
    let last = ((len.saturating_sub(1)) as f64 * r + back_reach).ceil() as isize + 2;
    let count = (last - first + 1) as usize;

    let mut ym = Vec::with_capacity(count);
    let mut block = vec![0.0f32; 4096];
    let mut done_model = 0usize;
    let mut reported = 0usize;
    let mut i = first;
    while i <= last {
        let n = ((last - i + 1) as usize).min(block.len());
        for (j, b) in block[..n].iter_mut().enumerate() {
            *b = up.output_sample(x, 0, (i + j as isize) as i64);
        }
        engine.process_buffer(&mut block[..n]);
        ym.extend_from_slice(&block[..n]);
        i += n as isize;
        done_model += n;
        let now = (done_model as f64 / count as f64 * len as f64) as usize;
        progress(now.saturating_sub(reported));
        reported = reported.max(now);
    }
    (0..len as i64)
        .map(|m| down.output_sample(&ym, first, m))
        .collect()
}
