// The threads build's entry (asconfig.json target `threads`): the executor ABI of index.ts plus the thread
// exports of assembly/threads.ts, which the host (runtime/threads.ts) calls; docs/threads.md.
import { setupThreads, enterThread, threadLoop, quitThreads, failThread, runSteps, stepStat } from './threads';
import { model } from './executor';
export * from './index';

/** Main instance: control block + T − 1 worker heap regions (before edgec_load); returns its address. */
export function edgec_threads_setup(T: i32): usize {
  return setupThreads(T);
}
/** Worker instance t: its own heap region (right after instantiation, before anything else). */
export function edgec_thread_enter(ctl: usize, t: i32): void {
  enterThread(ctl, t);
}
/** Worker instance (after edgec_thread_enter): runs split steps until edgec_threads_quit. */
export function edgec_thread_loop(): void {
  threadLoop();
}
export function edgec_threads_quit(): void {
  quitThreads();
}
/** Worker host: its loop trapped (the main instance reports it and stops splitting). */
export function edgec_thread_fail(): void {
  failThread();
}
/** bench/profile.ts --threads: runs steps [from, to) of the loaded model (see runSteps); -1 without a model. */
export function edgec_run_steps(from: i32, to: i32): i32 {
  const m = model;
  return m === null ? -1 : runSteps(m, from, to);
}
/** bench/profile.ts --threads: a number about step i (see stepStat). */
export function edgec_step_stat(i: i32, what: i32): f64 {
  const m = model;
  return m === null ? -1 : stepStat(m, i, what);
}
