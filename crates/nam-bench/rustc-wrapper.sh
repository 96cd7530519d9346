#!/bin/sh
# RUSTC_WRAPPER for run.sh: lets NeuralAmpModeler-rs 1.0.1 (crate neural_amp_modeler_rs)
# build on stable by enabling the three unstable std APIs it uses; every other crate is
# compiled by plain stable rustc.
rustc="$1"
shift
case " $* " in
*" --crate-name neural_amp_modeler_rs "*)
    RUSTC_BOOTSTRAP=neural_amp_modeler_rs exec "$rustc" "$@" \
        "-Zcrate-attr=feature(int_format_into,box_as_ptr,layout_for_ptr)" ;;
*) exec "$rustc" "$@" ;;
esac
