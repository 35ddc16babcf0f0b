/* The checker's breadth-first core in C: state storage, the visited set, the network's
 * moves (deliver, lose, duplicate over bounded multiset or FIFO channels), the graph the
 * liveness analyses read, and those analyses. It knows nothing of TCP: what an endpoint
 * does on a delivery, a call or a timer, and what the properties say about it, comes from
 * the Python callback `ask` (System's own successor code over the spec table), memoized
 * here. See checker/native.py.
 *
 * A state's "core" is everything but the channels: A, B, pc A, pc B, dups, epoch, inc A,
 * inc B, ghost bits (9 16-bit words). Cores are interned once (a few per cent of the
 * states), and each core remembers its answers: the user's and timers' moves per side and
 * quiet flag, the state flags, its lossy and duplicated variants, and per delivered segment
 * the outcomes with each child's core id already interned. A state is then W = 2 + 2C
 * 16-bit words: the core id (low, high), channel A->B and channel B->A, each C words of
 * segment id + 1, sorted ascending (FIFO: in arrival order), zeros after the last segment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

typedef uint16_t F;
typedef int (*ask_fn)(int kind, int side, const F *core, int arg, int quiet, int32_t *buf, int cap);

enum { NCORE = 9, KA = 0, KB = 1, KPC = 2, KDUP = 4, KEPOCH = 5, KINC = 6, KBITS = 8 };
enum { Q_DELIVER = 0, Q_LOCAL = 1, Q_STATE = 2 };
enum { FAIR = 0, LOSS = 1, SUB = 0x80 };   /* SUB: the edge is in the retransmit-and-lose subgraph */
enum { BUFCAP = 1 << 16, LOSSY_BOTH = 3, MAXW = 2 + 2 * 16, RKEY = 10 };
enum { MAXT = 64, BLOCK = 64, MAXCHUNK = 1 << 16 };
#define UNASKED (-1)

typedef struct {                        /* what a core remembers */
    int64_t local[2][2];                /* [side][quiet]: pool offset of the calls' and timers' outcomes */
    int32_t flags[2];                   /* [quiet]: 1 terminal, 2 progress goal, 4 close goal; -1 unasked */
    uint32_t lossy, dup;                /* core id + 1 with LOSSY bits set, with one duplication spent */
} Core;

/* Children of the states being expanded, in move order: the packed child, its hash, the stored
 * index found by a worker (-1: not yet), edge class, violations, subgraph mark, move ordinal. */
typedef struct {
    F *kid; uint64_t *khash; int64_t *kfound; int32_t *kedge, *ksub, *kord; uint32_t *kviol;
    uint64_t n, cap;
} Buf;

/* A state of a chunk as a worker left it: buffer -1 when the main thread must expand it. */
typedef struct { int32_t buf; uint32_t nk; uint64_t off; int32_t n, stop, fl; } Rec;

typedef struct {
    int C, W, fifo, loss, graph, bounded, deadlock;
    ask_fn ask;
    /* states */
    F *st; uint64_t nst, capst;
    int32_t *parent;
    uint8_t *flags;
    uint64_t *ht; uint64_t hcap;        /* visited set: hash high 32 bits << 32 | state index + 1 */
    /* cores */
    F *cores; Core *cinfo; uint64_t ncore, capcore;
    uint32_t *cht; uint64_t chcap;      /* core id + 1 */
    /* deliveries: key core << 17 | side << 16 | segment -> pool offset */
    uint64_t *dkeys; int64_t *dval; uint64_t dn, dcap;
    /* Python's answers, shared by cores that differ only in dups */
    int32_t *raw; uint64_t nraw, capraw;
    uint32_t *rkeys; int64_t *rval; uint32_t *rht; uint64_t rn, rcap, rhcap;
    /* outcome pool: per answer count, stop, then per outcome core id, lossy core id, edge, viol, sub,
     * nsend, sends */
    int32_t *pool; uint64_t npool, cappool;
    int32_t buf[BUFCAP];
    /* the graph */
    uint32_t *start; uint64_t capstart;
    uint32_t *succ; uint8_t *cls; uint64_t nsucc, capsucc;
    uint32_t *bsrc, *bdst; uint64_t nb, capb;
    /* progress and results */
    uint64_t i, transitions, depth, depth_end;
    int64_t found_state[32]; int32_t found_move[32]; uint32_t found_mask;
    int64_t unspec_state, deadlock_state;
    int error;                          /* 1: out of memory, 2: the callback failed, 3: field overflow */
    F dec[MAXW + NCORE];                /* one decoded state, for native.py */
    /* the current state's children, interned in one batch so that their hash-table slots and
     * stored states are fetched from memory in parallel (prefetch), in move order */
    Buf sb;                             /* this thread's */
    /* threads (bfs_threads): per worker its children, per state of the chunk its record */
    int threads, min_chunk;
    Buf tb[MAXT];
    Rec *rec; uint64_t caprec, c0, c1, next;
    /* CPU ns: workers' sum, per chunk the busiest worker's (summed), the main thread's ordered
     * pass, and states expanded outside chunks; load-independent, unlike wall time */
    uint64_t cpu_ns[4];
    /* analyses */
    uint32_t *rstart, *rev; uint8_t *ok; uint32_t *indeg;
} E;

static int grow(void **p, uint64_t *cap, uint64_t need, size_t size) {
    if (need <= *cap) return 0;
    uint64_t c = *cap ? *cap : 1024;
    while (c < need) c += c / 2 + 1024;
    void *q = realloc(*p, c * size);
    if (!q) return -1;
    *p = q; *cap = c;
    return 0;
}

static inline uint64_t mix(uint64_t h) {
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ULL; h ^= h >> 33;
    return h;
}

static inline uint64_t hash_words(const F *s, int w) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)w;
    int k = 0;
    for (; k + 4 <= w; k += 4) {
        uint64_t v; memcpy(&v, s + k, 8);
        h = (h ^ v) * 0x9fb21c651e98df25ULL;
        h ^= h >> 29;
    }
    uint64_t v = 0;
    for (int j = 0; k < w; k++, j++) v |= (uint64_t)s[k] << (16 * j);
    return mix(h ^ v);
}

E *bfs_new(int C, int fifo, int loss, int graph, int bounded, int deadlock, ask_fn ask) {
    if (C < 1 || C > 16) return NULL;
    E *e = calloc(1, sizeof(E));
    if (!e) return NULL;
    e->C = C; e->W = 2 + 2 * C; e->fifo = fifo; e->loss = loss; e->graph = graph || bounded;
    e->bounded = bounded; e->deadlock = deadlock; e->ask = ask;
    e->hcap = 1 << 16; e->ht = calloc(e->hcap, 8);
    e->chcap = 1 << 12; e->cht = calloc(e->chcap, 4);
    e->dcap = 1 << 12; e->dkeys = malloc(e->dcap * 8); e->dval = malloc(e->dcap * 8);
    e->rhcap = 1 << 12; e->rht = calloc(e->rhcap, 4);
    e->unspec_state = e->deadlock_state = -1;
    e->depth_end = 1;
    e->threads = 1; e->min_chunk = 1;
    if (!e->ht || !e->cht || !e->dkeys || !e->dval || !e->rht) {
        free(e->ht); free(e->cht); free(e->dkeys); free(e->dval); free(e->rht); free(e); return NULL;
    }
    memset(e->dkeys, 0xff, e->dcap * 8);
    return e;
}

void bfs_free(E *e) {
    if (!e) return;
    free(e->st); free(e->parent); free(e->flags); free(e->ht); free(e->cores); free(e->cinfo); free(e->cht);
    free(e->dkeys); free(e->dval); free(e->pool); free(e->raw); free(e->rkeys); free(e->rval); free(e->rht); free(e->start); free(e->succ); free(e->cls);
    free(e->bsrc); free(e->bdst); free(e->rstart); free(e->rev); free(e->ok); free(e->indeg);
    free(e->rec);
    for (int t = 0; t <= MAXT; t++) {
        Buf *b = t < MAXT ? e->tb + t : &e->sb;
        free(b->kid); free(b->khash); free(b->kfound); free(b->kedge); free(b->ksub); free(b->kord); free(b->kviol);
    }
    free(e);
}

/* ------------------------------------------------------------------ cores */

/* The id of core c, interned when new; -1 when out of memory. */
static int64_t core_id(E *e, const F *c) {
    uint64_t mask = e->chcap - 1, h = hash_words(c, NCORE) & mask;
    for (;;) {
        uint32_t x = e->cht[h];
        if (!x) break;
        if (!memcmp(e->cores + (uint64_t)(x - 1) * NCORE, c, NCORE * sizeof(F))) return x - 1;
        h = (h + 1) & mask;
    }
    uint64_t j = e->ncore;
    if (j >= 0xfffffffeULL) return -1;
    if (j + 1 > e->capcore) {
        uint64_t cap = e->capcore ? e->capcore * 2 : 1 << 10;
        F *a = realloc(e->cores, cap * NCORE * sizeof(F));
        if (!a) return -1;
        e->cores = a;
        Core *b = realloc(e->cinfo, cap * sizeof(Core));
        if (!b) return -1;
        e->cinfo = b; e->capcore = cap;
    }
    memcpy(e->cores + j * NCORE, c, NCORE * sizeof(F));
    Core *ci = e->cinfo + j;
    ci->local[0][0] = ci->local[0][1] = ci->local[1][0] = ci->local[1][1] = UNASKED;
    ci->flags[0] = ci->flags[1] = -1;
    ci->lossy = ci->dup = 0;
    e->cht[h] = (uint32_t)(j + 1);
    e->ncore = j + 1;
    if (2 * e->ncore > e->chcap) {
        uint64_t cap = e->chcap * 2;
        uint32_t *t = calloc(cap, 4);
        if (!t) return -1;
        for (uint64_t k = 0; k < e->ncore; k++) {
            uint64_t g = hash_words(e->cores + k * NCORE, NCORE) & (cap - 1);
            while (t[g]) g = (g + 1) & (cap - 1);
            t[g] = (uint32_t)(k + 1);
        }
        free(e->cht); e->cht = t; e->chcap = cap;
    }
    return (int64_t)j;
}

/* Core `id` with its ghost bits OR-ed with `bits` and `dups` lowered by `spent`. */
static int64_t core_variant(E *e, uint64_t id, int bits, int spent) {
    F c[NCORE];
    memcpy(c, e->cores + id * NCORE, sizeof c);
    c[KBITS] |= (F)bits;
    c[KDUP] -= (F)spent;
    return core_id(e, c);
}

static uint64_t key_hash(const uint32_t *key) {
    uint64_t h = 0x51ed27ULL;
    for (int k = 0; k < RKEY; k++) h = mix(h ^ key[k]) + k;
    return h;
}

/* Python's answer for (kind, side, quiet, arg, core but dups), which no answer reads: cores that
 * differ only in duplications left share it. Its offset in the raw pool, or -2. */
static int64_t raw_answer(E *e, int kind, int side, int quiet, int arg, const F *core) {
    uint32_t key[RKEY] = {(uint32_t)(kind | side << 4 | quiet << 5), (uint32_t)arg};
    for (int k = 0, j = 2; k < NCORE; k++) if (k != KDUP) key[j++] = core[k];
    uint64_t mask = e->rhcap - 1, h = key_hash(key) & mask;
    for (;;) {
        uint32_t x = e->rht[h];
        if (!x) break;
        if (!memcmp(e->rkeys + (uint64_t)(x - 1) * RKEY, key, sizeof key)) return e->rval[x - 1];
        h = (h + 1) & mask;
    }
    int n = e->ask(kind, side, core, arg, quiet, e->buf, BUFCAP);
    if (n < 0) { e->error = n == -3 ? 3 : 2; return -2; }
    if (grow((void **)&e->raw, &e->capraw, e->nraw + (uint64_t)n, 4)) { e->error = 1; return -2; }
    memcpy(e->raw + e->nraw, e->buf, (size_t)n * 4);
    int64_t off = (int64_t)e->nraw;
    e->nraw += (uint64_t)n;
    uint64_t m = e->rn, capk = e->rcap * RKEY, capv = e->rcap;
    if (grow((void **)&e->rkeys, &capk, (m + 1) * RKEY, 4) || grow((void **)&e->rval, &capv, m + 1, 8)) {
        e->error = 1; return -2;
    }
    e->rcap = capv < capk / RKEY ? capv : capk / RKEY;
    memcpy(e->rkeys + m * RKEY, key, sizeof key);
    e->rval[m] = off;
    e->rht[h] = (uint32_t)(m + 1);
    e->rn = m + 1;
    if (2 * e->rn > e->rhcap) {
        uint64_t cap = e->rhcap * 2;
        uint32_t *t = calloc(cap, 4);
        if (!t) { e->error = 1; return -2; }
        for (uint64_t j = 0; j < e->rn; j++) {
            uint64_t g = key_hash(e->rkeys + j * RKEY) & (cap - 1);
            while (t[g]) g = (g + 1) & (cap - 1);
            t[g] = (uint32_t)(j + 1);
        }
        free(e->rht); e->rht = t; e->rhcap = cap;
    }
    return off;
}

/* The answer for core `id`, translated to child core ids, in the pool. Offset or -2. */
static int64_t ask(E *e, int kind, int side, uint64_t id, int arg, int quiet) {
    F base[NCORE];
    memcpy(base, e->cores + id * NCORE, sizeof base);
    int64_t roff = raw_answer(e, kind, side, quiet, arg, base);
    if (roff < 0) return roff;
    const int32_t *raw = e->raw + roff;
    int n = kind == Q_STATE ? 1 : 2;
    for (int r = 0, p = 2; kind != Q_STATE && r < raw[0]; r++) { int k = 9 + raw[p + 8]; n += k; p += k; }
    if (e->npool + (uint64_t)n + 16 > e->cappool) {
        uint64_t cap = e->cappool ? e->cappool * 2 : 1 << 14;
        while (cap < e->npool + (uint64_t)n + 16) cap *= 2;
        int32_t *q = realloc(e->pool, cap * 4);
        if (!q) { e->error = 1; return -2; }
        e->pool = q; e->cappool = cap;
    }
    int64_t off = (int64_t)e->npool;
    int32_t *out = e->pool + off;
    if (kind == Q_STATE) { out[0] = raw[0]; e->npool += 1; return off; }
    int32_t count = raw[0];
    out[0] = count; out[1] = raw[1];
    const int32_t *in = raw + 2;
    int32_t *o = out + 2;
    for (int r = 0; r < count; r++) {      /* in: ep, pc, epoch, inc, bits, edge, viol, sub, nsend, sends */
        F c[NCORE];
        memcpy(c, base, sizeof c);
        c[side] = (F)in[0]; c[KPC + side] = (F)in[1]; c[KEPOCH] = (F)in[2]; c[KINC + side] = (F)in[3];
        c[KBITS] = (F)in[4];
        int64_t plain = core_id(e, c);
        c[KBITS] |= LOSSY_BOTH;
        int64_t lossy = core_id(e, c);
        if (plain < 0 || lossy < 0) { e->error = 1; return -2; }
        int nsend = in[8];
        o[0] = (int32_t)plain; o[1] = (int32_t)lossy; o[2] = in[5]; o[3] = in[6]; o[4] = in[7]; o[5] = nsend;
        for (int k = 0; k < nsend; k++) o[6 + k] = in[9 + k] + 1;
        o += 6 + nsend; in += 9 + nsend;
    }
    e->npool += (uint64_t)(o - out);
    return off;
}

static int64_t local_moves(E *e, uint64_t id, int side, int quiet) {
    int64_t off = e->cinfo[id].local[side][quiet];
    if (off == UNASKED) {
        off = ask(e, Q_LOCAL, side, id, 0, quiet);
        if (off >= 0) e->cinfo[id].local[side][quiet] = off;   /* cinfo may have moved: index again */
    }
    return off;
}

static int32_t state_flags(E *e, uint64_t id, int quiet) {
    int32_t f = e->cinfo[id].flags[quiet];
    if (f < 0) {
        int64_t off = ask(e, Q_STATE, 0, id, 0, quiet);
        if (off < 0) return -1;
        f = e->cinfo[id].flags[quiet] = e->pool[off];
    }
    return f;
}

/* The memoized answer for a delivery, or MISS (read-only). */
static int64_t delivery_find(const E *e, uint64_t id, int side, int x) {
    uint64_t key = id << 17 | (uint64_t)side << 16 | (uint64_t)x, mask = e->dcap - 1;
    uint64_t h = mix(key) & mask;
    while (e->dkeys[h] != UINT64_MAX) {
        if (e->dkeys[h] == key) return e->dval[h];
        h = (h + 1) & mask;
    }
    return -4;
}

static int64_t delivery(E *e, uint64_t id, int side, int x) {
    uint64_t key = id << 17 | (uint64_t)side << 16 | (uint64_t)x, mask = e->dcap - 1;
    uint64_t h = mix(key) & mask;
    while (e->dkeys[h] != UINT64_MAX) {
        if (e->dkeys[h] == key) return e->dval[h];
        h = (h + 1) & mask;
    }
    int64_t off = ask(e, Q_DELIVER, side, id, x, 0);
    if (off < 0) return off;
    e->dkeys[h] = key; e->dval[h] = off;
    if (2 * ++e->dn > e->dcap) {
        uint64_t cap = e->dcap * 2;
        uint64_t *k2 = malloc(cap * 8); int64_t *v2 = malloc(cap * 8);
        if (!k2 || !v2) { free(k2); free(v2); e->error = 1; return -2; }
        memset(k2, 0xff, cap * 8);
        for (uint64_t j = 0; j < e->dcap; j++) {
            if (e->dkeys[j] == UINT64_MAX) continue;
            uint64_t g = mix(e->dkeys[j]) & (cap - 1);
            while (k2[g] != UINT64_MAX) g = (g + 1) & (cap - 1);
            k2[g] = e->dkeys[j]; v2[g] = e->dval[j];
        }
        free(e->dkeys); free(e->dval); e->dkeys = k2; e->dval = v2; e->dcap = cap;
    }
    return off;
}

/* ------------------------------------------------------------------ states */

static int rehash(E *e) {
    uint64_t cap = e->hcap * 2;
    uint64_t *t = calloc(cap, 8);
    if (!t) return -1;
    for (uint64_t j = 0; j < e->hcap; j++) {
        uint64_t x = e->ht[j];
        if (!x) continue;
        uint64_t i = (x & 0xffffffffULL) - 1;
        uint64_t h = hash_words(e->st + i * e->W, e->W);
        uint64_t g = h & (cap - 1);
        while (t[g]) g = (g + 1) & (cap - 1);
        t[g] = x;
    }
    free(e->ht); e->ht = t; e->hcap = cap;
    return 0;
}

/* The index of state s (whose hash_words is `hash`), added with parent p when new; -1 when out
 * of memory. */
static int64_t intern(E *e, const F *s, uint64_t hash, int64_t p) {
    uint64_t mask = e->hcap - 1, h = hash & mask, tag = hash >> 32 << 32;
    size_t bytes = (size_t)e->W * sizeof(F);
    for (;;) {
        uint64_t x = e->ht[h];
        if (!x) break;
        if ((x & ~0xffffffffULL) == tag) {
            uint64_t i = (x & 0xffffffffULL) - 1;
            const F *t = e->st + i * e->W;
            int k = 0;
            while (k < e->W && t[k] == s[k]) k++;
            if (k == e->W) return (int64_t)i;
        }
        h = (h + 1) & mask;
    }
    uint64_t j = e->nst;
    if (j >= 0xfffffffeULL) return -1;
    if (j + 1 > e->capst) {
        uint64_t cap = e->capst ? e->capst + e->capst / 2 : 1 << 14;
        F *st = realloc(e->st, cap * bytes);
        if (!st) return -1;
        e->st = st;
        int32_t *par = realloc(e->parent, cap * 4);
        if (!par) return -1;
        e->parent = par;
        uint8_t *fl = realloc(e->flags, cap);
        if (!fl) return -1;
        e->flags = fl;
        e->capst = cap;
    }
    memcpy(e->st + j * e->W, s, bytes);
    e->parent[j] = (int32_t)p;
    e->flags[j] = 0;
    e->ht[h] = tag | (j + 1);
    e->nst = j + 1;
    if (2 * e->nst > e->hcap && rehash(e)) return -1;
    return (int64_t)j;
}

static inline int chan_len(const F *c, int C) {
    int n = 0;
    while (n < C && c[n]) n++;
    return n;
}

static inline void chan_remove(F *c, int C, int idx) {
    for (int k = idx; k < C - 1; k++) c[k] = c[k + 1];
    c[C - 1] = 0;
}

/* Insert x (id + 1); 0 when the channel is full and the segment is lost. */
static inline int chan_add(F *c, int C, int fifo, F x) {
    int n = chan_len(c, C);
    if (n >= C) return 0;
    int k = n;
    if (!fifo) while (k > 0 && c[k - 1] > x) { c[k] = c[k - 1]; k--; }
    c[k] = x;
    return 1;
}

static inline void set_core(F *s, uint64_t id) { s[0] = (F)(id & 0xffff); s[1] = (F)(id >> 16); }
static inline uint64_t get_core(const F *s) { return (uint64_t)s[0] | (uint64_t)s[1] << 16; }

static int push_edge(E *e, uint32_t j, int edge) {
    if (e->nsucc + 1 > e->capsucc) {
        uint64_t cap = e->capsucc ? e->capsucc + e->capsucc / 2 : 1 << 16;
        uint32_t *s = realloc(e->succ, cap * 4);
        if (!s) return -1;
        e->succ = s;
        uint8_t *c = realloc(e->cls, cap);
        if (!c) return -1;
        e->cls = c; e->capsucc = cap;
    }
    e->succ[e->nsucc] = j;
    e->cls[e->nsucc++] = (uint8_t)edge;
    return 0;
}

static int push_sub(E *e, uint32_t i, uint32_t j) {
    if (e->nb + 1 > e->capb) {
        uint64_t cap = e->capb ? e->capb * 2 : 1 << 14;
        uint32_t *a = realloc(e->bsrc, cap * 4);
        if (!a) return -1;
        e->bsrc = a;
        uint32_t *b = realloc(e->bdst, cap * 4);
        if (!b) return -1;
        e->bdst = b; e->capb = cap;
    }
    e->bsrc[e->nb] = i;
    e->bdst[e->nb++] = j;
    return 0;
}

/* ------------------------------------------------------------------ children */

static int buf_grow(Buf *b, int W) {
    uint64_t cap = b->cap ? b->cap * 2 : 1024;
    F *kid = realloc(b->kid, cap * (uint64_t)W * sizeof(F));
    if (!kid) return -1;
    b->kid = kid;
#define G(f, t) { t *q = realloc(b->f, cap * sizeof(t)); if (!q) return -1; b->f = q; }
    G(khash, uint64_t) G(kfound, int64_t) G(kedge, int32_t) G(ksub, int32_t) G(kord, int32_t) G(kviol, uint32_t)
#undef G
    b->cap = cap;
    return 0;
}

/* The next child's slot in b (filled by the caller, then kept by emit); NULL when out of memory. */
static inline F *slot(E *e, Buf *b) {
    if (b->n >= b->cap && buf_grow(b, e->W)) { e->error = 1; return NULL; }
    return b->kid + b->n * (uint64_t)e->W;
}

static inline void emit(Buf *b, int edge, uint32_t viol, int sub, int ordinal) {
    uint64_t k = b->n++;
    b->kedge[k] = edge; b->kviol[k] = viol; b->ksub[k] = sub; b->kord[k] = ordinal; b->kfound[k] = -1;
}

/* Hash the children b[from, to) and, with `look`, find those already stored (kfound; -1 when
 * not yet): read-only, so that worker threads may do it while no state is added. */
static void probe(const E *e, Buf *b, uint64_t from, uint64_t to, int look) {
    int W = e->W;
    uint64_t mask = e->hcap - 1;
    for (uint64_t k = from; k < to; k++) {
        b->khash[k] = hash_words(b->kid + k * W, W);
        __builtin_prefetch(e->ht + (b->khash[k] & mask));
    }
    for (uint64_t k = from; k < to; k++) {          /* the likely stored match, fetched ahead */
        uint64_t x = e->ht[b->khash[k] & mask];
        if (x) __builtin_prefetch(e->st + ((x & 0xffffffffULL) - 1) * W);
    }
    if (!look) return;
    for (uint64_t k = from; k < to; k++) {
        uint64_t h = b->khash[k] & mask, tag = b->khash[k] >> 32 << 32;
        const F *s = b->kid + k * W;
        b->kfound[k] = -1;
        for (;;) {
            uint64_t x = e->ht[h];
            if (!x) break;
            if ((x & ~0xffffffffULL) == tag) {
                uint64_t j = (x & 0xffffffffULL) - 1;
                if (!memcmp(e->st + j * W, s, (size_t)W * sizeof(F))) { b->kfound[k] = (int64_t)j; break; }
            }
            h = (h + 1) & mask;
        }
    }
}

/* Store the children b[from, to) of state i in move order (interning those not found by probe);
 * record edges and violations. */
static int commit(E *e, uint32_t i, Buf *b, uint64_t from, uint64_t to) {
    int W = e->W;
    for (uint64_t k = from; k < to; k++) {
        int64_t j = b->kfound[k];
        if (j < 0) j = intern(e, b->kid + k * W, b->khash[k], i);
        if (j < 0) { e->error = 1; return -1; }
        if (e->graph && push_edge(e, (uint32_t)j, b->kedge[k] | (b->ksub[k] && e->bounded ? SUB : 0))) {
            e->error = 1; return -1;
        }
        uint32_t viol = b->kviol[k] & ~e->found_mask;
        for (int bit = 0; viol; bit++, viol >>= 1)
            if (viol & 1) {
                e->found_mask |= 1u << bit;
                e->found_state[bit] = i;
                e->found_move[bit] = b->kord[k];
            }
    }
    return 0;
}

/* Apply the answer at pool[off] to `base` for `side`, children into b. Returns 1 when the
 * state's remaining moves are not explored (the table has no row: Unspecified), 0, or -1. */
static int outcomes(E *e, Buf *b, const F *base, int side, int64_t off, int *n) {
    int C = e->C, outc = 2 + side * C;
    int32_t count = e->pool[off], stop = e->pool[off + 1];
    off += 2;
    for (int r = 0; r < count; r++) {
        const int32_t *o = e->pool + off;          /* core, lossy core, edge, viol, sub, nsend, sends */
        F *child = slot(e, b);
        if (!child) return -1;
        memcpy(child, base, (size_t)e->W * sizeof(F));
        int nsend = o[5], lost = 0;
        for (int k = 0; k < nsend; k++) lost |= !chan_add(child + outc, C, e->fifo, (F)o[6 + k]);
        set_core(child, (uint32_t)(lost ? o[1] : o[0]));
        emit(b, o[2], (uint32_t)o[3], o[4], (*n)++);
        off += 6 + nsend;
    }
    return stop ? 1 : 0;
}

#define MISS (-4)          /* read-only: an answer not memoized yet (only the main thread may ask) */

/* The children of state `src` (packed) into b in move order, its move count into *nmoves and its flags into *fl.
 * `ro`: use memoized answers only and return MISS rather than ask or intern a core (worker
 * threads). Returns 1 when Unspecified stopped the state's moves, 0, -1 on error, or MISS. */
static int gen(E *e, const F *src, Buf *b, int ro, int *nmoves, int32_t *fl) {
    int C = e->C, W = e->W;
    F cur[MAXW], rest[MAXW], *child;
    memcpy(cur, src, (size_t)W * sizeof(F));
    uint64_t id = get_core(cur);
    int quiet = !cur[2] && !cur[2 + C];
    int n = 0, stop = 0;
    for (int side = 0; side < 2 && !stop; side++) {
        int inc_ = 2 + (1 - side) * C;
        F *in = cur + inc_;
        int len = chan_len(in, C);
        F prev = 0;
        for (int idx = 0; idx < len; idx++) {          /* deliveries */
            if (e->fifo && idx > 0) break;
            F x = in[idx];
            if (x == prev) continue;
            prev = x;
            int64_t off = ro ? delivery_find(e, id, side, x - 1) : delivery(e, id, side, x - 1);
            if (off == MISS) return MISS;
            if (off < 0) return -1;
            memcpy(rest, cur, (size_t)W * sizeof(F));
            chan_remove(rest + inc_, C, idx);
            if ((stop = outcomes(e, b, rest, side, off, &n)) < 0) return -1;
            if (stop) break;
        }
        if (stop) break;
        for (int idx = 0; idx < len; idx++) {          /* losses and duplications */
            F x = in[idx];
            int again = 0;
            for (int k = 0; k < idx; k++) again |= in[k] == x;
            if (again) continue;
            if (e->loss) {
                if (!e->cinfo[id].lossy) {
                    if (ro) return MISS;
                    int64_t v = core_variant(e, id, LOSSY_BOTH, 0);
                    if (v < 0) { e->error = 1; return -1; }
                    e->cinfo[id].lossy = (uint32_t)v + 1;
                }
                if (!(child = slot(e, b))) return -1;
                memcpy(child, cur, (size_t)W * sizeof(F));
                chan_remove(child + inc_, C, idx);
                set_core(child, e->cinfo[id].lossy - 1);
                emit(b, LOSS, 0, 1, n++);
            }
            if (e->cores[id * NCORE + KDUP] > 0 && len < C) {
                if (!e->cinfo[id].dup) {
                    if (ro) return MISS;
                    int64_t v = core_variant(e, id, 0, 1);
                    if (v < 0) { e->error = 1; return -1; }
                    e->cinfo[id].dup = (uint32_t)v + 1;
                }
                if (!(child = slot(e, b))) return -1;
                memcpy(child, cur, (size_t)W * sizeof(F));
                chan_add(child + inc_, C, e->fifo, x);
                set_core(child, e->cinfo[id].dup - 1);
                emit(b, FAIR, 0, 0, n++);
            }
        }
        int64_t off = e->cinfo[id].local[side][quiet];  /* user calls, timers */
        if (off == UNASKED) {
            if (ro) return MISS;
            off = local_moves(e, id, side, quiet);
        }
        if (off < 0) return -1;
        if ((stop = outcomes(e, b, cur, side, off, &n)) < 0) return -1;
    }
    int32_t f = e->cinfo[id].flags[quiet];
    if (f < 0) {
        if (ro) return MISS;
        if ((f = state_flags(e, id, quiet)) < 0) return -1;
    }
    *nmoves = n; *fl = f;
    return stop;
}

/* What follows a state's children: counts, the graph's row, flags, a deadlock, an unspecified
 * reception; then the next state. */
static int finish(E *e, uint32_t i, int n, int stop, int32_t fl) {
    if (stop && e->unspec_state < 0) e->unspec_state = i;
    e->transitions += n;
    if (e->graph) {
        if (grow((void **)&e->start, &e->capstart, (uint64_t)i + 2, 4)) { e->error = 1; return -1; }
        if (i == 0) e->start[0] = 0;
        e->start[i + 1] = (uint32_t)e->nsucc;
    }
    e->flags[i] = (uint8_t)fl;
    if (n == 0 && e->deadlock && e->deadlock_state < 0 && !(fl & 1)) e->deadlock_state = i;
    e->i++;
    return 0;
}

/* Expand state e->i on this thread, asking Python for what is not memoized. */
static int step_one(E *e) {
    uint32_t i = (uint32_t)e->i;
    if (e->i == e->depth_end) { e->depth++; e->depth_end = e->nst; }
    Buf *b = &e->sb;
    int n = 0;
    int32_t fl = 0;
    b->n = 0;
    int stop = gen(e, e->st + (uint64_t)i * e->W, b, 0, &n, &fl);
    if (stop < 0) return -1;
    probe(e, b, 0, b->n, 0);
    if (commit(e, i, b, 0, b->n)) return -1;
    return finish(e, i, n, stop, fl);
}

/* ------------------------------------------------------------------ threads
 * A chunk of the frontier [c0, c1) is expanded in two phases. Workers generate each state's
 * children from the memoized answers and look them up in the visited set, both read-only (no
 * state, core or answer is added meanwhile); a state that needs an answer not memoized yet is
 * left to the main thread. Then the main thread walks the chunk in order: it expands the states
 * left to it (asking Python), and stores every child the workers did not find, exactly as the
 * one-thread search does; so states get the same indices, parents and verdicts in the same
 * order, whatever the number of threads. */

typedef struct { E *e; Buf *b; int err; uint64_t ns; } Worker;

static uint64_t thread_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void *work(void *arg) {
    Worker *w = arg;
    E *e = w->e;
    Buf *b = w->b;
    uint64_t t0 = thread_ns();
    b->n = 0;
    for (;;) {
        uint64_t s = __atomic_fetch_add(&e->next, BLOCK, __ATOMIC_RELAXED);
        if (s >= e->c1) break;
        uint64_t end = s + BLOCK < e->c1 ? s + BLOCK : e->c1;
        for (; s < end; s++) {
            Rec *r = e->rec + (s - e->c0);
            uint64_t from = b->n;
            int n = 0;
            int32_t fl = 0;
            int rc = gen(e, e->st + s * e->W, b, 1, &n, &fl);
            if (rc == MISS) { b->n = from; r->buf = -1; continue; }
            if (rc < 0) { w->err = 1; return NULL; }
            probe(e, b, from, b->n, 1);
            r->buf = (int32_t)(w->b - e->tb); r->off = from; r->nk = (uint32_t)(b->n - from);
            r->n = n; r->stop = rc; r->fl = fl;
        }
    }
    w->ns = thread_ns() - t0;
    return NULL;
}

static int run_chunk(E *e, uint64_t c1) {
    uint64_t c0 = e->i, m = c1 - c0;
    if (grow((void **)&e->rec, &e->caprec, m, sizeof(Rec))) { e->error = 1; return -1; }
    e->c0 = c0; e->c1 = c1; e->next = c0;
    int T = e->threads;
    pthread_t tid[MAXT];
    Worker w[MAXT];
    int started = 0;
    for (int t = 0; t < T; t++) {
        w[t].e = e; w[t].b = e->tb + t; w[t].err = 0;
        if (t > 0 && pthread_create(&tid[t], NULL, work, &w[t]) == 0) started = t;
        else if (t > 0) break;
    }
    work(&w[0]);                                    /* the main thread is a worker too */
    for (int t = 1; t <= started; t++) pthread_join(tid[t], NULL);
    uint64_t most = 0;
    for (int t = 0; t <= started; t++) {
        if (w[t].err) { if (!e->error) e->error = 1; return -1; }
        e->cpu_ns[0] += w[t].ns;
        if (w[t].ns > most) most = w[t].ns;
    }
    e->cpu_ns[1] += most;
    uint64_t t1 = thread_ns();
    for (uint64_t s = c0; s < c1; s++) {            /* in order, as one thread would */
        Rec *r = e->rec + (s - c0);
        if (r->buf < 0) { if (step_one(e)) return -1; continue; }
        uint32_t i = (uint32_t)s;
        if (e->i == e->depth_end) { e->depth++; e->depth_end = e->nst; }
        Buf *b = e->tb + r->buf;
        if (commit(e, i, b, r->off, r->off + r->nk)) return -1;
        if (finish(e, i, r->n, r->stop, r->fl)) return -1;
    }
    e->cpu_ns[2] += thread_ns() - t1;
    return 0;
}

/* Use `threads` threads from now on, on chunks of at least `min_chunk` states. */
int bfs_threads(E *e, int threads, int min_chunk) {
    if (threads < 1) threads = 1;
    if (threads > MAXT) threads = MAXT;
    e->threads = threads;
    e->min_chunk = min_chunk < 1 ? 1 : min_chunk;
    return threads;
}

/* Explore until `until` states have been expanded or none is left. 0, or -1 on error. */
int bfs_run(E *e, uint64_t until) {
    while (e->i < e->nst && e->i < until) {
        uint64_t c1 = e->nst < until ? e->nst : until;
        if (c1 - e->i > MAXCHUNK) c1 = e->i + MAXCHUNK;
        if (e->threads > 1 && c1 - e->i >= (uint64_t)e->min_chunk) {
            if (run_chunk(e, c1)) return -1;
        } else {
            uint64_t t0 = thread_ns();
            if (step_one(e)) return -1;
            e->cpu_ns[3] += thread_ns() - t0;
        }
    }
    return 0;
}

/* Backward reachability over fair edges from the states whose flag `bit` is set; ok[v] = 1 for
 * states that reach one. Returns the first state that does not, or -1. */
int64_t bfs_liveness(E *e, int bit, int fair) {
    uint64_t n = e->nst;
    if (!e->rstart) {                       /* the fair edges reversed, CSR */
        e->rstart = calloc(n + 1, 4);
        if (!e->rstart) { e->error = 1; return -2; }
        for (uint64_t k = 0; k < e->nsucc; k++) if ((e->cls[k] & ~SUB) == fair) e->rstart[e->succ[k] + 1]++;
        for (uint64_t v = 0; v < n; v++) e->rstart[v + 1] += e->rstart[v];
        e->rev = malloc((e->rstart[n] + 1) * 4);
        uint32_t *fill = malloc((n + 1) * 4);
        if (!e->rev || !fill) { free(fill); e->error = 1; return -2; }
        memcpy(fill, e->rstart, (n + 1) * 4);
        for (uint64_t u = 0; u < n; u++)
            for (uint32_t k = e->start[u]; k < e->start[u + 1]; k++)
                if ((e->cls[k] & ~SUB) == fair) e->rev[fill[e->succ[k]]++] = (uint32_t)u;
        free(fill);
    }
    free(e->ok);
    e->ok = calloc(n + 1, 1);
    uint32_t *queue = malloc((n + 1) * 4);
    if (!e->ok || !queue) { free(queue); e->error = 1; return -2; }
    uint64_t head = 0, tail = 0;
    for (uint64_t v = 0; v < n; v++) if (e->flags[v] & bit) { e->ok[v] = 1; queue[tail++] = (uint32_t)v; }
    while (head < tail) {
        uint32_t v = queue[head++];
        for (uint32_t k = e->rstart[v]; k < e->rstart[v + 1]; k++) {
            uint32_t u = e->rev[k];
            if (!e->ok[u]) { e->ok[u] = 1; queue[tail++] = u; }
        }
    }
    free(queue);
    for (uint64_t v = 0; v < n; v++) if (!e->ok[v]) return (int64_t)v;
    return -1;
}

/* Kahn's algorithm on the retransmit-and-lose subgraph (edges marked SUB): indeg[v] > 0
 * afterwards for the states on or behind a cycle. Returns how many such states there are, and
 * leaves in bsrc/bdst the subgraph's edges among them, in exploration order. */
int64_t bfs_kahn(E *e) {
    uint64_t n = e->nst;
    free(e->indeg);
    e->indeg = calloc(n + 1, 4);
    uint32_t *stack = malloc((n + 1) * 4);
    if (!e->indeg || !stack) { free(stack); e->error = 1; return -2; }
    for (uint64_t k = 0; k < e->nsucc; k++) if (e->cls[k] & SUB) e->indeg[e->succ[k]]++;
    uint64_t sp = 0;
    for (uint64_t v = 0; v < n; v++) if (!e->indeg[v]) stack[sp++] = (uint32_t)v;
    while (sp) {
        uint32_t u = stack[--sp];
        for (uint32_t k = e->start[u]; k < e->start[u + 1]; k++)
            if (e->cls[k] & SUB && --e->indeg[e->succ[k]] == 0) stack[sp++] = e->succ[k];
    }
    free(stack);
    int64_t left = 0;
    for (uint64_t v = 0; v < n; v++) left += e->indeg[v] > 0;
    e->nb = 0;
    for (uint64_t u = 0; left && u < n; u++) {
        if (!e->indeg[u]) continue;
        for (uint32_t k = e->start[u]; k < e->start[u + 1]; k++)
            if (e->cls[k] & SUB && e->indeg[e->succ[k]] && push_sub(e, (uint32_t)u, e->succ[k])) {
                e->error = 1; return -2;
            }
    }
    return left;
}

/* ------------------------------------------------------------------ partitioned search
 * (checker/partition.py, docs/checker-scale.md): expand states given in portable form (the
 * core's NCORE fields, then both channels; core ids are local to one engine) and return their
 * children in the same form, with each child's owner among `parts` shards (a hash of the
 * portable form, the same in every process). Per child, meta holds source, move ordinal,
 * violations and owner; per state, smeta holds moves, stop (Unspecified) and flags. Returns
 * the number of children, -1 on error, or -5 when out/meta are too small for them. */
int64_t bfs_expand(E *e, const F *in, uint64_t n, int parts, F *out, uint64_t outcap, int32_t *meta,
                   int32_t *smeta) {
    int C = e->C, W = e->W, P = NCORE + 2 * C;
    Buf *b = &e->sb;
    uint64_t total = 0;
    F cur[MAXW];
    for (uint64_t k = 0; k < n; k++) {
        const F *s = in + k * P;
        int64_t id = core_id(e, s);
        if (id < 0) { e->error = 1; return -1; }
        set_core(cur, (uint64_t)id);
        memcpy(cur + 2, s + NCORE, 2 * (size_t)C * sizeof(F));
        int nm = 0;
        int32_t fl = 0;
        b->n = 0;
        int stop = gen(e, cur, b, 0, &nm, &fl);
        if (stop < 0) return -1;
        smeta[3 * k] = nm; smeta[3 * k + 1] = stop; smeta[3 * k + 2] = fl;
        if (total + b->n > outcap) return -5;
        for (uint64_t c = 0; c < b->n; c++, total++) {
            F *o = out + total * P;
            const F *kid = b->kid + c * W;
            memcpy(o, e->cores + get_core(kid) * NCORE, NCORE * sizeof(F));
            memcpy(o + NCORE, kid + 2, 2 * (size_t)C * sizeof(F));
            int32_t *m = meta + 4 * total;
            m[0] = (int32_t)k; m[1] = b->kord[c]; m[2] = (int32_t)b->kviol[c];
            m[3] = (int32_t)(hash_words(o, P) % (uint64_t)(parts > 0 ? parts : 1));
        }
    }
    return (int64_t)total;
}

/* Rename, in place, the endpoint ids (epmap) and channel segment ids (tsmap) of n states in
 * portable form: ids are interned per System, so shards exchange states under global ids;
 * multiset channels are sorted again under the new ids (one state, one form).
 * With `owners`, also each state's owner among `parts` shards, after renaming. */
void bfs_translate(E *e, F *s, uint64_t n, const F *epmap, const F *tsmap, int parts, int32_t *owners) {
    int P = NCORE + 2 * e->C;
    for (uint64_t k = 0; k < n; k++, s += P) {
        s[0] = epmap[s[0]]; s[1] = epmap[s[1]];
        for (int w = NCORE; w < P; w++) if (s[w]) s[w] = (F)(tsmap[s[w] - 1] + 1);
        for (int c = 0; c < 2 && !e->fifo; c++) {     /* a multiset is kept sorted: sort again */
            F *ch = s + NCORE + c * e->C;
            int len = chan_len(ch, e->C);
            for (int a = 1; a < len; a++)
                for (int b = a; b > 0 && ch[b - 1] > ch[b]; b--) { F t = ch[b]; ch[b] = ch[b - 1]; ch[b - 1] = t; }
        }
        if (owners) owners[k] = (int32_t)(hash_words(s, P) % (uint64_t)(parts > 0 ? parts : 1));
    }
}

/* The shard (of `parts`) that owns a state in portable form. */
int bfs_owner(E *e, const F *s, int parts) {
    return (int)(hash_words(s, NCORE + 2 * e->C) % (uint64_t)(parts > 0 ? parts : 1));
}

/* Accessors for checker/native.py (ctypes reads these arrays in place). */
#define GET(name, type) type bfs_##name(E *e) { return e->name; }
GET(nst, uint64_t) GET(i, uint64_t) GET(transitions, uint64_t) GET(depth, uint64_t) GET(nsucc, uint64_t)
GET(nb, uint64_t) GET(error, int) GET(unspec_state, int64_t) GET(deadlock_state, int64_t) GET(found_mask, uint32_t)
GET(st, F *) GET(parent, int32_t *) GET(start, uint32_t *) GET(succ, uint32_t *) GET(cls, uint8_t *)
GET(bsrc, uint32_t *) GET(bdst, uint32_t *) GET(ok, uint8_t *) GET(indeg, uint32_t *) GET(flags, uint8_t *)
int64_t bfs_found_state(E *e, int b) { return e->found_state[b]; }
int bfs_found_move(E *e, int b) { return e->found_move[b]; }
uint64_t bfs_ncore(E *e) { return e->ncore; }
uint64_t bfs_cpu_ns(E *e, int k) { return k >= 0 && k < 4 ? e->cpu_ns[k] : 0; }

/* State i as core fields then both channels (NCORE + 2C words, valid until the next call). */
const F *bfs_decode(E *e, uint64_t i) {
    const F *s = e->st + i * e->W;
    memcpy(e->dec, e->cores + get_core(s) * NCORE, NCORE * sizeof(F));
    memcpy(e->dec + NCORE, s + 2, 2 * e->C * sizeof(F));
    return e->dec;
}

/* Add the initial state (core fields, then both channels); 0 or -1. */
int bfs_init(E *e, const F *s) {
    int64_t id = core_id(e, s);
    if (id < 0) return -1;
    F st[MAXW];
    set_core(st, (uint64_t)id);
    memcpy(st + 2, s + NCORE, 2 * e->C * sizeof(F));
    return intern(e, st, hash_words(st, e->W), -1) < 0 ? -1 : 0;
}
