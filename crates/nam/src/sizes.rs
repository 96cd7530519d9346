//! The size control of a model with size steps (a SlimmableContainer's submodels, a
//! slimmable WaveNet's channel counts): every step is built up front; switching is
//! allocation-free, lock-free and click-free, in two phases.
//!
//! 1. Catch-up: the incoming step is cleared and fed the recent input (kept in a ring)
//!    from `warm` samples back, at up to [`CATCH_UP`] extra samples per live sample, until
//!    it is in step with the live input. For every architecture but the LSTM its state is
//!    then exactly what it would be had it run all along (the state is a function of the
//!    last `receptive_field - 1` inputs); an LSTM gets half a second of real history.
//!    The active step stays audible meanwhile.
//! 2. Crossfade: both run on the live input for [`FADE_SECONDS`] while the output moves
//!    linearly from one to the other, so the step between two samples at a switch is at
//!    most the larger of the two models' own steps plus `max |a - b| / fade_len`.
//!
//! A new size asked for while catching up restarts the catch-up (or cancels it, if the
//! active step is asked for again); one asked for while fading waits for the fade to end.

use crate::model::{step_for, SizeStep};
use crate::net::Net;

/// Extra samples of history the incoming step processes per live sample while it
/// catches up (so the CPU cost of a switch is bounded: at most `1 + CATCH_UP` times the
/// incoming step's cost per sample, for `warm / CATCH_UP` samples).
pub const CATCH_UP: usize = 2;

/// Length of the crossfade at a switch.
pub const FADE_SECONDS: f64 = 0.02;

/// Input the ring keeps for `steps`: the longest catch-up plus one block.
pub(crate) fn ring_len(steps: &[SizeStep], max_block: usize) -> usize {
    steps
        .iter()
        .map(|s| s.model.warm_samples())
        .max()
        .unwrap_or(0)
        + max_block
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// `lag` samples of input not yet consumed by the incoming step.
    CatchUp { lag: usize },
    /// `done` samples of the crossfade already played.
    Fade { done: usize },
}

#[derive(Debug, Clone, Copy)]
struct Incoming {
    step: usize,
    phase: Phase,
}

pub(crate) struct Sizes {
    nets: Vec<Net>,
    /// Samples of history that settle each step.
    warm: Vec<usize>,
    below: Vec<f64>,
    /// The step being heard.
    active: usize,
    /// The step asked for.
    target: usize,
    size: f32,
    incoming: Option<Incoming>,
    /// The most recent input, oldest overwritten first.
    ring: Vec<f32>,
    /// Where the next input sample goes in `ring`.
    head: usize,
    fade_len: usize,
    /// This block's input (the nets run in place).
    dry: Vec<f32>,
    /// The incoming step's output, or history being fed to it.
    other: Vec<f32>,
}

impl Sizes {
    pub fn new(
        steps: &[SizeStep],
        mut nets: Vec<Net>,
        size: f32,
        max_block: usize,
        rate: f64,
    ) -> Self {
        // Every step's first prewarm here, at build: it is the one that takes the
        // snapshot later resets restore (and the only one that allocates).
        for n in &mut nets {
            n.prewarm();
        }
        let below: Vec<f64> = steps.iter().map(|s| s.below).collect();
        let target = step_for(size as f64, &below);
        Sizes {
            nets,
            warm: steps.iter().map(|s| s.model.warm_samples()).collect(),
            below,
            active: target,
            target,
            size,
            incoming: None,
            ring: vec![0.0; ring_len(steps, max_block)],
            head: 0,
            fade_len: ((FADE_SECONDS * rate).round() as usize).max(1),
            dry: vec![0.0; max_block],
            other: vec![0.0; max_block],
        }
    }

    pub fn steps(&self) -> usize {
        self.nets.len()
    }

    /// Each step's upper bound (the last step also takes every size above its own).
    pub fn below(&self) -> &[f64] {
        &self.below
    }

    pub fn breakpoints(&self) -> &[f64] {
        &self.below[..self.below.len() - 1]
    }

    pub fn size(&self) -> f32 {
        self.size
    }

    pub fn target(&self) -> usize {
        self.target
    }

    pub fn active(&self) -> usize {
        self.active
    }

    /// Whether the last block was returned without computing.
    pub fn idle(&self) -> bool {
        self.incoming.is_none() && self.nets[self.active].idle()
    }

    /// Whether a switch is under way.
    pub fn switching(&self) -> bool {
        self.incoming.is_some()
    }

    /// Real-time safe: records the size; the switch happens in the next blocks.
    pub fn set_size(&mut self, size: f32) {
        if !size.is_finite() {
            return;
        }
        self.size = size.clamp(0.0, 1.0);
        self.target = step_for(self.size as f64, &self.below);
    }

    /// Back to silence at the asked-for step, prewarmed; any switch is finished at once.
    pub fn reset(&mut self) {
        self.incoming = None;
        self.active = self.target;
        self.ring.fill(0.0);
        self.head = 0;
        self.nets[self.active].prewarm();
    }

    /// Runs one block (at most `max_block` samples) in place.
    pub fn process_block(&mut self, io: &mut [f32]) {
        let n = io.len();
        self.remember(io);
        self.dry[..n].copy_from_slice(io);
        self.start_or_cancel();
        self.nets[self.active].process_block(io);
        let Some(mut inc) = self.incoming else { return };
        if let Phase::CatchUp { lag } = inc.phase {
            let unconsumed = lag + n;
            let budget = (1 + CATCH_UP) * n;
            if unconsumed > budget {
                self.feed(inc.step, unconsumed, budget);
                inc.phase = Phase::CatchUp {
                    lag: unconsumed - budget,
                };
                self.incoming = Some(inc);
                return;
            }
            // In step after the history before this block; this block is the first
            // whose output is heard.
            self.feed(inc.step, unconsumed, unconsumed - n);
            inc.phase = Phase::Fade { done: 0 };
        }
        let Phase::Fade { done } = inc.phase else {
            return;
        };
        let other = &mut self.other[..n];
        other.copy_from_slice(&self.dry[..n]);
        self.nets[inc.step].process_block(other);
        let len = self.fade_len as f32;
        for (t, (y, b)) in io.iter_mut().zip(other.iter()).enumerate() {
            let g = ((done + t + 1) as f32 / len).min(1.0);
            *y += g * (b - *y);
        }
        if done + n >= self.fade_len {
            self.active = inc.step;
            self.incoming = None;
        } else {
            inc.phase = Phase::Fade { done: done + n };
            self.incoming = Some(inc);
        }
    }

    fn remember(&mut self, x: &[f32]) {
        let cap = self.ring.len();
        let first = x.len().min(cap - self.head);
        self.ring[self.head..self.head + first].copy_from_slice(&x[..first]);
        self.ring[..x.len() - first].copy_from_slice(&x[first..]);
        self.head = (self.head + x.len()) % cap;
    }

    /// Feeds `count` samples of the ring, starting `back` samples before the newest
    /// input, to `step` (outputs discarded).
    fn feed(&mut self, step: usize, back: usize, count: usize) {
        let cap = self.ring.len();
        let mut at = (self.head + cap - back) % cap;
        let mut left = count;
        while left > 0 {
            let m = left.min(self.other.len()).min(cap - at);
            self.other[..m].copy_from_slice(&self.ring[at..at + m]);
            self.nets[step].process_block(&mut self.other[..m]);
            at = (at + m) % cap;
            left -= m;
        }
    }

    fn start_or_cancel(&mut self) {
        match self.incoming {
            None if self.target != self.active => self.start(self.target),
            Some(Incoming {
                step,
                phase: Phase::CatchUp { .. },
            }) if step != self.target => {
                if self.target == self.active {
                    self.incoming = None;
                } else {
                    self.start(self.target);
                }
            }
            _ => {}
        }
    }

    fn start(&mut self, step: usize) {
        self.nets[step].clear();
        self.incoming = Some(Incoming {
            step,
            phase: Phase::CatchUp {
                lag: self.warm[step],
            },
        });
    }
}
