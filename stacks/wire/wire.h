/* The driver protocol's C side (docs/driver-protocol.md), shared by the C shims in stacks/.
 *
 * A shim reads one JSON object per line on stdin and writes exactly one reply line on
 * stdout. Requests are flat objects of strings and integers, so a key lookup is all the
 * parsing they need: no JSON library is pulled into a shim's build. What the stack sends
 * is queued here (time and hex) until `collect`; user notifications until `events`.
 * Header-only: each shim is one translation unit built by its setup.sh.
 */
#ifndef SYNACK_WIRE_H
#define SYNACK_WIRE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where `"key":` starts its value in `line`, or NULL. */
static const char *wire_value(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    for (const char *p = strstr(line, pat); p; p = strstr(p + 1, pat)) {
        const char *q = p + strlen(pat);
        while (*q == ' ') q++;
        if (*q != ':') continue;
        q++;
        while (*q == ' ') q++;
        return q;
    }
    return NULL;
}

/* The integer value of `key`; 0 and *ok = 0 when absent or not an integer. */
static long wire_int(const char *line, const char *key, int *ok)
{
    const char *v = wire_value(line, key);
    char *end;
    long n;
    if (!v || !(*v == '-' || (*v >= '0' && *v <= '9'))) {
        if (ok) *ok = 0;
        return 0;
    }
    n = strtol(v, &end, 10);
    if (ok) *ok = end != v;
    return n;
}

/* The string value of `key` copied to out (NUL-terminated; no escapes are expected in
 * requests); 0 when absent or too long. */
static int wire_str(const char *line, const char *key, char *out, size_t n)
{
    const char *v = wire_value(line, key), *e;
    if (!v || *v != '"') return 0;
    v++;
    e = strchr(v, '"');
    if (!e || (size_t)(e - v) >= n) return 0;
    memcpy(out, v, (size_t)(e - v));
    out[e - v] = 0;
    return 1;
}

/* The hex string value of `key` decoded into a fresh buffer (*len its size), or NULL. */
static uint8_t *wire_hex(const char *line, const char *key, size_t *len)
{
    const char *v = wire_value(line, key), *e;
    uint8_t *buf;
    size_t n;
    if (!v || *v != '"') return NULL;
    v++;
    e = strchr(v, '"');
    if (!e || (e - v) % 2) return NULL;
    n = (size_t)(e - v) / 2;
    buf = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        if (sscanf(v + 2 * i, "%2x", &b) != 1) {
            free(buf);
            return NULL;
        }
        buf[i] = (uint8_t)b;
    }
    *len = n;
    return buf;
}

/* One reply line: the caller's printf-style JSON object. */
static void wire_reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static void wire_error(const char *err) { wire_reply("{\"ok\":false,\"error\":\"%s\"}", err); }

/* ----------------------------------------------------------- what the stack sent */
struct wire_pkt { uint64_t t_ms; size_t len; uint8_t *data; };
static struct wire_pkt *wire_out;
static size_t wire_nout, wire_capout;

/* Queue one IPv4 datagram the stack sent at t_ms (copied). */
static void wire_sent(uint64_t t_ms, const void *data, size_t len)
{
    if (wire_nout == wire_capout) {
        wire_capout = wire_capout ? 2 * wire_capout : 64;
        wire_out = realloc(wire_out, wire_capout * sizeof *wire_out);
    }
    wire_out[wire_nout].t_ms = t_ms;
    wire_out[wire_nout].len = len;
    wire_out[wire_nout].data = malloc(len ? len : 1);
    memcpy(wire_out[wire_nout].data, data, len);
    wire_nout++;
}

/* The `collect` reply: everything queued since the last one. */
static void wire_collect(void)
{
    fputs("{\"ok\":true,\"out\":[", stdout);
    for (size_t i = 0; i < wire_nout; i++) {
        printf("%s{\"t_ms\":%llu,\"ip\":\"", i ? "," : "", (unsigned long long)wire_out[i].t_ms);
        for (size_t j = 0; j < wire_out[i].len; j++) printf("%02x", wire_out[i].data[j]);
        fputs("\"}", stdout);
        free(wire_out[i].data);
    }
    wire_nout = 0;
    fputs("]}\n", stdout);
    fflush(stdout);
}

/* ----------------------------------------------------------- user notifications */
struct wire_event { int sock; uint64_t t_ms; const char *kind; };
static struct wire_event *wire_ev;
static size_t wire_nev, wire_capev;

/* Queue one notification; `kind` is one of the protocol's EVENT_KINDS (a literal). */
static void wire_event(int sock, uint64_t t_ms, const char *kind)
{
    if (wire_nev == wire_capev) {
        wire_capev = wire_capev ? 2 * wire_capev : 64;
        wire_ev = realloc(wire_ev, wire_capev * sizeof *wire_ev);
    }
    wire_ev[wire_nev++] = (struct wire_event){sock, t_ms, kind};
}

static void wire_events(void)
{
    fputs("{\"ok\":true,\"events\":[", stdout);
    for (size_t i = 0; i < wire_nev; i++)
        printf("%s{\"sock\":%d,\"t_ms\":%llu,\"kind\":\"%s\"}", i ? "," : "", wire_ev[i].sock,
               (unsigned long long)wire_ev[i].t_ms, wire_ev[i].kind);
    wire_nev = 0;
    fputs("]}\n", stdout);
    fflush(stdout);
}

/* The next request line (a buffer the caller must not free), or NULL at end of input. */
static char *wire_next(void)
{
    static char *line;
    static size_t cap;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) return NULL;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    return line;
}

/* ----------------------------------------------------------- the request loop */
struct wire_op {
    const char *name;
    void (*run)(const char *line);
};

/* Serve requests until `quit` or the end of input: `init` first (other ops before it get
 * ENOTCONN until `ready()` says so), then the shim's ops from `ops` (ended by a NULL name);
 * `collect`, `events` and `quit` are answered here, anything else "unsupported". */
static void wire_serve(void (*init)(const char *line), int (*ready)(void), const struct wire_op *ops)
{
    char op[32];
    char *line;
    while ((line = wire_next())) {
        const struct wire_op *o;
        if (!wire_str(line, "op", op, sizeof op)) {
            wire_error("EINVAL");
            continue;
        }
        if (!strcmp(op, "quit")) {
            wire_reply("{\"ok\":true}");
            return;
        }
        if (!strcmp(op, "init")) {
            init(line);
            continue;
        }
        if (!ready()) {
            wire_error("ENOTCONN");
            continue;
        }
        if (!strcmp(op, "collect")) {
            wire_collect();
            continue;
        }
        if (!strcmp(op, "events")) {
            wire_events();
            continue;
        }
        for (o = ops; o->name && strcmp(o->name, op); o++)
            ;
        if (o->name) o->run(line);
        else wire_error("unsupported");
    }
}

#endif
