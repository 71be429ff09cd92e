/* edgec on wasm3 without WASI (see edgec-host.h): load the runtime, hand it the bundle, move bytes in and
 * out through exported pointers. Every pointer is an offset into linear memory; the memory base is read
 * again after every call because a call may grow (and so move) it. */
#include <stdio.h>
#include <string.h>
#include "edgec-host.h"
#include "m3_env.h" /* IM3Runtime->memoryLimit: allocate only what the model needs */

/* wasm3's message, with the wasm function it was compiling or running when the module has names */
static const char *fail(edgec_host *h, const char *what, M3Result r) {
    M3ErrorInfo info;
    const char *fn = NULL;
    memset(&info, 0, sizeof info);
    if (h->rt) m3_GetErrorInfo(h->rt, &info);
    if (info.function) fn = m3_GetFunctionName(info.function);
    snprintf(h->error, sizeof h->error, "%s: %s%s%s", what, r, fn ? " in " : "", fn ? fn : "");
    return h->error;
}

static M3Result call_u32(IM3Function f, uint32_t *ret, int argc, uint32_t a, uint32_t b) {
    M3Result r = argc == 0 ? m3_CallV(f) : argc == 1 ? m3_CallV(f, a) : m3_CallV(f, a, b);
    if (r || !ret) return r;
    return m3_GetResultsV(f, ret);
}

static uint8_t *memory(edgec_host *h) {
    uint32_t size = 0;
    return m3_GetMemory(h->rt, &size, 0);
}

static const char *runtime_error(edgec_host *h, const char *what) {
    uint32_t p = 0, n = 0;
    if (call_u32(h->err_ptr, &p, 0, 0, 0) || call_u32(h->err_len, &n, 0, 0, 0)) n = 0;
    snprintf(h->error, sizeof h->error, "%s: %.*s", what, (int)n, (const char *)memory(h) + p);
    return h->error;
}

/* Sum of the sizes of every input (or output) of one sample. */
static M3Result total_bytes(IM3Function count, IM3Function size, uint32_t *total) {
    uint32_t n = 0, s = 0;
    M3Result r = call_u32(count, &n, 0, 0, 0);
    *total = 0;
    for (uint32_t i = 0; !r && i < n; i++) {
        r = call_u32(size, &s, 1, i, 0);
        *total += s;
    }
    return r;
}

/* The runtime wasm + a bundle: copy the bundle into linear memory and decode it there. */
static const char *load_bundle(edgec_host *h, const edgec_host_config *c) {
    M3Result r;
    IM3Function load, verify, alloc;
    uint32_t status = 1, ptr = 0, len = c->bundle_len;
    if (m3_FindFunction(&load, h->rt, "edgec_load"))
        return fail(h, "bundle", "this wasm has no edgec_load: an `edgec compile --mcu` image holds its model (give none)");
    if ((r = m3_FindFunction(&verify, h->rt, "edgec_verify_checksum"))) return fail(h, "edgec_verify_checksum", r);
    if ((r = m3_CallV(verify, (uint32_t)(c->verify_checksum != 0)))) return fail(h, "edgec_verify_checksum", r);
    if ((r = m3_FindFunction(&alloc, h->rt, "edgec_alloc"))) return fail(h, "edgec_alloc", r);
    if ((r = call_u32(alloc, &ptr, 1, len, 0))) return fail(h, "edgec_alloc", r);
    memcpy(memory(h) + ptr, c->bundle, len);
    if ((r = call_u32(load, &status, 2, ptr, len))) return fail(h, "edgec_load", r);
    if (status != 0) return runtime_error(h, "bundle refused");
    return NULL;
}

const char *edgec_host_open(edgec_host *h, const edgec_host_config *c) {
    M3Result r;
    memset(h, 0, sizeof *h);
    h->env = m3_NewEnvironment();
    if (!h->env) return fail(h, "wasm3", "cannot allocate the environment");
    h->rt = m3_NewRuntime(h->env, c->stack_bytes, NULL);
    if (!h->rt) return fail(h, "wasm3", "cannot allocate the runtime");
    h->rt->memoryLimit = c->memory_bytes;
    if ((r = m3_ParseModule(h->env, &h->mod, c->wasm, c->wasm_len))) return fail(h, "parse", r);
    if ((r = m3_LoadModule(h->rt, h->mod))) return fail(h, "load", r);

    static const char *const names[] = {"edgec_run",        "edgec_input_count", "edgec_input_ptr",
                                        "edgec_input_size", "edgec_output_count", "edgec_output_ptr",
                                        "edgec_output_size", "edgec_error_ptr",   "edgec_error_len"};
    IM3Function *fns[] = {&h->run,      &h->in_count, &h->in_ptr,  &h->in_size, &h->out_count,
                          &h->out_ptr,  &h->out_size, &h->err_ptr, &h->err_len};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((r = m3_FindFunction(fns[i], h->rt, names[i]))) return fail(h, names[i], r);

    if (c->bundle) {
        const char *e = load_bundle(h, c);
        if (e) return e;
    } else {
        /* an `edgec compile --mcu` image: loaded already; its linear memory must fit what it declares */
        IM3Global need = m3_FindGlobal(h->mod, "edgec_memory_bytes");
        M3TaggedValue v;
        if (!need || m3_GetGlobal(need, &v) || v.type != c_m3Type_i32)
            return fail(h, "image", "no edgec_memory_bytes: not an `edgec compile --mcu` image (give the bundle)");
        if (c->memory_bytes && c->memory_bytes < v.value.i32) {
            snprintf(h->error, sizeof h->error, "image: memory_bytes %lu is below the %lu bytes it needs",
                     (unsigned long)c->memory_bytes, (unsigned long)v.value.i32);
            return h->error;
        }
    }
    if ((r = total_bytes(h->in_count, h->in_size, &h->in_bytes))) return fail(h, "inputs", r);
    if ((r = total_bytes(h->out_count, h->out_size, &h->out_bytes))) return fail(h, "outputs", r);
    return NULL;
}

const char *edgec_host_run(edgec_host *h, const uint8_t *in, uint8_t *out) {
    M3Result r;
    uint32_t n = 0, p = 0, s = 0, status = 1;
    if ((r = call_u32(h->in_count, &n, 0, 0, 0))) return fail(h, "inputs", r);
    for (uint32_t i = 0; i < n; i++, in += s) {
        if ((r = call_u32(h->in_ptr, &p, 1, i, 0)) || (r = call_u32(h->in_size, &s, 1, i, 0))) return fail(h, "input", r);
        memcpy(memory(h) + p, in, s);
    }
    if ((r = call_u32(h->run, &status, 0, 0, 0))) return fail(h, "edgec_run", r);
    if (status != 0) return runtime_error(h, "edgec_run");
    if ((r = call_u32(h->out_count, &n, 0, 0, 0))) return fail(h, "outputs", r);
    for (uint32_t i = 0; i < n; i++, out += s) {
        if ((r = call_u32(h->out_ptr, &p, 1, i, 0)) || (r = call_u32(h->out_size, &s, 1, i, 0))) return fail(h, "output", r);
        memcpy(out, memory(h) + p, s);
    }
    return NULL;
}

void edgec_host_close(edgec_host *h) {
    if (h->rt) m3_FreeRuntime(h->rt);
    if (h->env) m3_FreeEnvironment(h->env);
    h->rt = NULL;
    h->env = NULL;
}
