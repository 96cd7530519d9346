//! Tubeless: the VST3 + CLAP plugin. Glue only: the NAM engine is `tubeless-nam`, the
//! signal chain `tubeless-dsp`.
