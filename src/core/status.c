/* core/status.c — status names, error formatting and the programmer-error abort path. */
#include "soma/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *soma_status_str(int status) {
    switch (status) {
    case SOMA_OK: return "ok";
    case SOMA_E_NOMEM: return "out of memory";
    case SOMA_E_IO: return "input/output error";
    case SOMA_E_FORMAT: return "malformed input";
    case SOMA_E_VERSION: return "unsupported version";
    case SOMA_E_SHAPE: return "shape mismatch";
    case SOMA_E_ARG: return "bad argument";
    case SOMA_E_CHECKSUM: return "checksum mismatch";
    default: return "unknown error";
    }
}

int soma_fail(soma_error *err, int status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

static void (*abort_hook)(const char *msg);

void soma_set_abort_hook(void (*hook)(const char *msg)) { abort_hook = hook; }

void soma_abort(const char *file, int line, const char *fmt, ...) {
    char msg[512];
    int n = snprintf(msg, sizeof msg, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    if (abort_hook) abort_hook(msg);
    fprintf(stderr, "soma: internal error: %s\n", msg);
    abort();
}
