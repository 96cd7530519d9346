//! Migrations of the whole saved state, in one place: nice-plug hands every state to
//! `Plugin::filter_state` before applying it, with the version of the plugin that saved
//! it. The `model` and `ir` fields migrate themselves (`tubeless_dsp::source::migrate`).
//!
//! - 0.1.0: the first format (parameters by the ids in `tubeless_dsp::preset::ids`; the
//!   fields `model`, `ir`, `editor_size`).

use nice_plug::prelude::PluginState;

/// Brings a state saved by any earlier version to this one. Nothing to do yet: parameter
/// ids have been stable since the first release. A rename goes here as
/// `if older_than(state, "0.2.0") { rename(state, "old", "new") }`.
pub fn migrate_plugin_state(_state: &mut PluginState) {}
