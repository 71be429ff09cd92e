/* The runtime wasm, the bundle and the input samples, linked into flash as they are (paths from the Makefile).
 * Without BUNDLE_FILE the wasm is an `edgec compile --mcu` image that holds its model. */
    .section .rodata.edgec, "a"
    .balign 16
    .global edgec_wasm, edgec_wasm_end, edgec_bundle, edgec_bundle_end, edgec_input, edgec_input_end
edgec_wasm:
    .incbin WASM_FILE
edgec_wasm_end:
    .balign 16
edgec_bundle:
#ifdef BUNDLE_FILE
    .incbin BUNDLE_FILE
#endif
edgec_bundle_end:
    .balign 16
edgec_input:
    .incbin INPUT_FILE
edgec_input_end:
