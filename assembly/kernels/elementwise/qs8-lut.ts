// Lut_QS8: an int8 → int8 lookup, y[i] = table[x[i] + 128], over the whole tensor. The compiler fills the 256-byte
// table as TFLite's LUTPopulate does for int8 LOGISTIC and TANH (compiler/ir/ops/unary.ts), so the run is integer-only
// and gives TFLite's bytes. Four elements per step (the table stays in L1), the rest one by one; exact by definition.

export function lutQs8(x: usize, table: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = load<u32>(x + <usize>i);
    const b0 = <u32>load<u8>(table + <usize>((w & 0xff) ^ 0x80)),
      b1 = <u32>load<u8>(table + <usize>(((w >> 8) & 0xff) ^ 0x80)),
      b2 = <u32>load<u8>(table + <usize>(((w >> 16) & 0xff) ^ 0x80)),
      b3 = <u32>load<u8>(table + <usize>((w >> 24) ^ 0x80));
    store<u32>(y + <usize>i, b0 | (b1 << 8) | (b2 << 16) | (b3 << 24));
  }
  for (; i < n; i++) store<u8>(y + <usize>i, load<u8>(table + <usize>(<i32>load<i8>(x + <usize>i) + 128)));
}
