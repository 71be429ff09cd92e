/* wasm3 settings for a microcontroller, included before wasm3's own m3_config.h (whose values are defaults
 * guarded by #ifndef). Stack height 128 is what the Arduino / PlatformIO / Mbed ports of wasm3 ship. */
#ifndef EDGEC_WASM3_CONFIG_H
#define EDGEC_WASM3_CONFIG_H
#ifndef d_m3MaxFunctionStackHeight
#define d_m3MaxFunctionStackHeight 128
#endif
/* compiled code pages: 1 KiB granules instead of 32 KiB (0.9.0) / 4 KiB (0.5.0) */
#define d_m3CodePageAlignSize 1024
#define d_m3VerboseErrorMessages 1
#define d_m3LogOutput 0
#endif
