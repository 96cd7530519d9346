//! Tubeless: a Neural Amp Modeler player.
//!
//! `nam` is the inference library (file parsing, engines); the plugin glue will live here
//! once the plugin lands.

pub mod nam;
