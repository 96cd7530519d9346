//! A whole-sample delay line, so that a dry path lines up with a wet path that has latency
//! (bypass must not move the audio in time).

/// Delays by `delay` samples (0 ..= capacity). `new` allocates; the rest is real-time safe.
#[derive(Debug, Clone)]
pub struct Delay {
    buf: Vec<f32>,
    write: usize,
    delay: usize,
}

impl Delay {
    pub fn new(capacity: usize) -> Self {
        Delay {
            buf: vec![0.0; capacity + 1],
            write: 0,
            delay: 0,
        }
    }

    /// Changes the delay (clamped to the capacity). The history is kept, so a change jumps
    /// in time; callers change it only while the delayed signal is faded out or unused.
    pub fn set_delay(&mut self, delay: usize) {
        self.delay = delay.min(self.buf.len() - 1);
    }

    pub fn delay(&self) -> usize {
        self.delay
    }

    pub fn clear(&mut self) {
        self.buf.fill(0.0);
    }

    pub fn process(&mut self, x: &mut [f32]) {
        if self.delay == 0 {
            return;
        }
        let len = self.buf.len();
        for s in x.iter_mut() {
            self.buf[self.write] = *s;
            let read = (self.write + len - self.delay) % len;
            *s = self.buf[read];
            self.write = (self.write + 1) % len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_by_whole_samples_across_blocks() {
        let mut d = Delay::new(100);
        d.set_delay(37);
        let input: Vec<f32> = (0..500).map(|i| i as f32).collect();
        let mut out = input.clone();
        for chunk in out.chunks_mut(13) {
            d.process(chunk);
        }
        for (i, y) in out.iter().enumerate() {
            let want = if i >= 37 { (i - 37) as f32 } else { 0.0 };
            assert_eq!(*y, want);
        }
    }
}
