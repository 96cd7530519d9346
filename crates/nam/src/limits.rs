//! Hard limits a `.nam` file must stay within. They sit far above every model in the wild
//! (the largest real captures have 32 channels, kernel 3, dilation 512, 20 layers) and far
//! below what would let a hostile file exhaust memory or stall a loader for minutes.

/// Largest `.nam` file read (JSON text). Real captures are under 2 MB.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Channels of a layer array, head width, LSTM input.
pub const MAX_CHANNELS: usize = 256;
pub const MAX_KERNEL_SIZE: usize = 64;
pub const MAX_DILATION: usize = 65_536;
/// Layers over all layer arrays of one WaveNet.
pub const MAX_LAYERS: usize = 256;
pub const MAX_ARRAYS: usize = 16;
/// Bounds the prewarm (which runs this many samples of silence) to about 5 s at 48 kHz.
pub const MAX_RECEPTIVE_FIELD: usize = 262_144;
pub const MAX_LSTM_HIDDEN: usize = 1024;
pub const MAX_LSTM_LAYERS: usize = 16;
/// Engine memory (weights, histories, scratch) for one model.
pub const MAX_ENGINE_BYTES: u64 = 256 * 1024 * 1024;
pub const MIN_SAMPLE_RATE: f64 = 8_000.0;
pub const MAX_SAMPLE_RATE: f64 = 768_000.0;
/// Largest block the engine runs in one pass; longer buffers are split.
pub const MAX_BLOCK_LIMIT: usize = 65_536;
/// Models inside models: container submodels, sequential stages, condition DSPs. Real
/// files nest two deep (a container of WaveNets with a condition DSP).
pub const MAX_NESTING_DEPTH: usize = 6;
/// Submodels of one container, stages of one sequential model.
pub const MAX_SUBMODELS: usize = 16;
