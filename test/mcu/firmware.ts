// Builds examples/mcu's firmware (make + arm-none-eabi-gcc) and runs it in qemu-system-arm with semihosting and
// -icount shift=0, returning the output bytes it printed and its measurements (examples/mcu/firmware/main.c).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, vendorDir, type Wasm3Version } from './wasm3.ts';

export function firmwareMissing(): string {
  if (spawnSync('arm-none-eabi-gcc', ['--version']).status !== 0)
    return 'arm-none-eabi-gcc: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi';
  if (spawnSync('qemu-system-arm', ['--version']).status !== 0)
    return 'qemu-system-arm: apt-get install qemu-system-arm';
  return '';
}

export interface FirmwareBuild {
  elf: string;
  cpu: 'm4' | 'm3';
  /** text + data: what the part's flash holds */
  flash: number;
}

export function buildFirmware(o: {
  dir: string;
  cpu: 'm4' | 'm3';
  version: Wasm3Version;
  wasm: string;
  bundle?: string;
  input: string;
  memoryBytes?: number;
  ramSize?: number;
}): FirmwareBuild {
  const out = join(o.dir, `fw-${o.cpu}`);
  const vars = [
    `WASM3=${join(vendorDir(), `wasm3-${o.version}`, 'source')}`,
    `CPU=${o.cpu}`,
    `OUT=${out}`,
    `WASM=${o.wasm}`,
    `BUNDLE=${o.bundle ?? ''}`,
    `INPUT=${o.input}`,
    `MEMORY_BYTES=${o.memoryBytes ?? 0}`,
    `RAM_SIZE=${o.ramSize ?? 0x400000}`,
  ];
  const r = spawnSync('make', ['-s', '-B', '-C', join(REPO_ROOT, 'examples', 'mcu'), ...vars], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`firmware build failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  // arm-none-eabi-size: "text data bss dec hex filename"
  const row = r.stdout.trim().split('\n').pop()!.trim().split(/\s+/).map(Number);
  return { elf: join(out, 'edgec.elf'), cpu: o.cpu, flash: row[0]! + row[1]! };
}

export interface FirmwareRun {
  output: Uint8Array;
  samples: number;
  flash: number;
  loadInsns: number;
  runInsns: number;
  staticRam: number;
  heapPeak: number;
  stackPeak: number;
  /** .data + .bss + heap peak + stack peak */
  ramPeak: number;
  /** where the heap goes, as the firmware printed it (examples/mcu/heap-stats.c): `linear_memory=… code_pages=…` */
  heap: string;
}

export function runFirmware(fw: FirmwareBuild, timeoutMs = 120_000): FirmwareRun {
  const machine = fw.cpu === 'm4' ? 'mps2-an386' : 'mps2-an385';
  const r = spawnSync(
    'qemu-system-arm',
    [
      '-M',
      machine,
      '-nographic',
      '-monitor',
      'none',
      '-serial',
      'none',
      '-icount',
      'shift=0',
      '-semihosting-config',
      'enable=on,target=native',
      '-kernel',
      fw.elf,
    ],
    { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`firmware exited ${r.status}: ${r.stdout}${r.stderr}${r.error ?? ''}`);
  const bytes: number[] = [];
  for (const line of r.stdout.split('\n'))
    if (line.startsWith('out ')) for (const h of line.slice(4).trim().match(/../g) ?? []) bytes.push(parseInt(h, 16));
  const stats = Object.fromEntries(
    [...(r.stdout.match(/^stats (.*)$/m)?.[1] ?? '').matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1], Number(x[2])]),
  );
  const n = (k: string) => {
    if (stats[k] === undefined) throw new Error(`firmware printed no ${k}: ${r.stdout}`);
    return stats[k]!;
  };
  return {
    output: Uint8Array.from(bytes),
    samples: n('samples'),
    flash: fw.flash,
    loadInsns: n('load_insns'),
    runInsns: n('run_insns'),
    staticRam: n('static_ram'),
    heapPeak: n('heap_peak'),
    stackPeak: n('stack_peak'),
    ramPeak: n('static_ram') + n('heap_peak') + n('stack_peak'),
    heap: r.stdout.match(/^heap (.*)$/m)?.[1] ?? '',
  };
}
