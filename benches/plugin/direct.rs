//! The plugin driven as nice-plug's wrappers drive it, without a wrapper: `activate`,
//! then `process` on a `Buffer` holding the host's block (the input already copied to
//! the outputs, as the wrappers do). What `process()` itself costs, apart from the
//! wrapper's own per-call work (events, buffer setup, the denormal guard).

use std::time::Duration;

use nice_plug::context::process::SendEventError;
use nice_plug::prelude::*;
use tubeless::Tubeless;

/// The contexts a wrapper passes: nothing to report, no events.
struct Context {
    transport: Transport,
}

impl ActivateContext<Tubeless> for Context {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _task: ()) {}
    fn set_latency_samples(&self, _samples: u32) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

impl ProcessContext<Tubeless> for Context {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute_background(&self, _task: ()) {}
    fn execute_gui(&self, _task: ()) {}
    fn transport(&self) -> &Transport {
        &self.transport
    }
    fn next_event(&mut self) -> Option<PluginNoteEvent<Tubeless>> {
        None
    }
    fn try_send_event(
        &mut self,
        event: PluginNoteEvent<Tubeless>,
    ) -> Result<(), (PluginNoteEvent<Tubeless>, SendEventError)> {
        Err((event, SendEventError::NoOutputBuffer))
    }
    fn set_latency_samples(&self, _samples: u32) {}
    fn request_restart(&self) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

/// One instance, stereo in and out, active at 48 kHz for `block`, with `model` loaded
/// (waited for) or none.
pub struct Direct {
    plugin: Tubeless,
    context: Context,
    buffer: Buffer<'static>,
    /// The host's output buffers (one block each), which nice-plug fills with the input
    /// before `process`.
    l: Vec<f32>,
    r: Vec<f32>,
}

impl Direct {
    pub fn new(rate: f64, block: usize, model: Option<&std::path::Path>) -> Direct {
        tubeless::set_startup_files(model.map(|p| p.to_path_buf()), None);
        let mut plugin = Tubeless::default();
        let mut context = Context {
            transport: Transport::new(rate as f32),
        };
        let config = BufferConfig {
            sample_rate: rate as f32,
            min_buffer_size: None,
            max_buffer_size: block as u32,
            process_mode: ProcessMode::Realtime,
        };
        assert!(plugin.activate(&Tubeless::AUDIO_IO_LAYOUTS[0], &config, &mut context));
        let mut direct = Direct {
            plugin,
            context,
            buffer: Buffer::default(),
            l: vec![0.0; block],
            r: vec![0.0; block],
        };
        // The loader builds the model again for the configuration `activate` set: play
        // silence until that one is in the chain, so that no timed block runs without it.
        let start = std::time::Instant::now();
        let silence = vec![0.0f32; block];
        while direct.plugin.is_loading()
            || (model.is_some() && direct.plugin.playing_engine().is_none())
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the model did not load"
            );
            std::thread::sleep(Duration::from_millis(1));
            direct.play(&silence, block);
        }
        direct
    }

    /// The engine the plugin plays, alone: each block of `input` copied into one reused
    /// buffer (what the wrapper does with the host's) and run there in place.
    pub fn play_engine(&mut self, input: &[f32], block: usize) {
        let buf = &mut self.l;
        let engine = self.plugin.playing_engine().expect("a model is playing");
        for c in input.chunks(block) {
            let b = &mut buf[..c.len()];
            b.copy_from_slice(c);
            engine.process_buffer(b);
        }
    }

    /// `input` on both channels, in blocks of `block`.
    pub fn play(&mut self, input: &[f32], block: usize) {
        for c in input.chunks(block) {
            let k = c.len();
            self.l[..k].copy_from_slice(c);
            self.r[..k].copy_from_slice(c);
            let (l, r) = (self.l.as_mut_ptr(), self.r.as_mut_ptr());
            // SAFETY: the slices point into `self.l` / `self.r`, which outlive the call
            // and are not touched while `buffer` holds them; `set_slices` keeps the
            // vector's capacity, so after the first block it does not allocate.
            unsafe {
                self.buffer.set_slices(k, |s| {
                    s.clear();
                    s.push(std::slice::from_raw_parts_mut(l, k));
                    s.push(std::slice::from_raw_parts_mut(r, k));
                });
            }
            let mut aux = AuxiliaryBuffers {
                inputs: &mut [],
                outputs: &mut [],
            };
            self.plugin
                .process(&mut self.buffer, &mut aux, &mut self.context);
        }
    }
}
