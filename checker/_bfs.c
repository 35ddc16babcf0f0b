/* The checker's breadth-first core in C: state storage, the visited set, the network's
 * moves (deliver, lose, duplicate over bounded multiset or FIFO channels), the graph the
 * liveness analyses read, and those analyses. It knows nothing of TCP: what an endpoint
 * does on a delivery, a call or a timer, and what the properties say about it, comes from
 * the Python callback `ask` (System's own successor code over the spec table), memoized
 * here per (move, side, everything but the channels). See checker/native.py.
 *
 * A state is W = 9 + 2C 16-bit words: core (A, B, pc A, pc B, dups, epoch, inc A, inc B,
 * ghost bits), then channel A->B and channel B->A, each C words of segment id + 1, sorted
 * ascending (FIFO: in arrival order), zeros after the last segment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint16_t F;
typedef int (*ask_fn)(int kind, int side, const F *core, int arg, int quiet, int32_t *buf, int cap);

enum { NCORE = 9, KA = 0, KB = 1, KPC = 2, KDUP = 4, KEPOCH = 5, KINC = 6, KBITS = 8 };
enum { Q_DELIVER = 0, Q_LOCAL = 1, Q_STATE = 2 };
enum { FAIR = 0, LOSS = 1 };
enum { MKEY = 10, BUFCAP = 1 << 16, LOSSY_BOTH = 3 };

typedef struct {
    int C, W, fifo, loss, graph, bounded, deadlock;
    ask_fn ask;
    F *st; uint64_t nst, capst;
    int32_t *parent;
    uint8_t *flags;                     /* per state: 1 terminal, 2 progress goal, 4 close goal */
    uint32_t *ht; uint64_t hcap;        /* visited set: state index + 1, 0 = empty */
    uint32_t *start; uint64_t capstart;
    uint32_t *succ; uint8_t *cls; uint64_t nsucc, capsucc;
    uint32_t *bsrc, *bdst; uint64_t nb, capb;
    uint32_t *mkeys; int64_t *mval; uint32_t *mht; uint64_t mn, mcap, mhcap;
    int32_t *pool; uint64_t npool, cappool;
    int32_t buf[BUFCAP];
    uint64_t i, transitions, depth, depth_end;
    int64_t found_state[32]; int32_t found_move[32]; uint32_t found_mask;
    int64_t unspec_state, deadlock_state;
    int error;                          /* 1: out of memory, 2: the callback failed, 3: field overflow */
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

static uint64_t hash_words(const F *s, int w) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    int k = 0;
    for (; k + 4 <= w; k += 4) {
        uint64_t v; memcpy(&v, s + k, 8);
        h = mix(h ^ v) + k;
    }
    uint64_t v = 0;
    for (int j = 0; k < w; k++, j++) v |= (uint64_t)s[k] << (16 * j);
    return mix(h ^ v ^ (uint64_t)w);
}

E *bfs_new(int C, int fifo, int loss, int graph, int bounded, int deadlock, ask_fn ask) {
    E *e = calloc(1, sizeof(E));
    if (!e) return NULL;
    e->C = C; e->W = NCORE + 2 * C; e->fifo = fifo; e->loss = loss; e->graph = graph;
    e->bounded = bounded; e->deadlock = deadlock; e->ask = ask;
    e->hcap = 1 << 16; e->ht = calloc(e->hcap, 4);
    e->mhcap = 1 << 12; e->mht = calloc(e->mhcap, 4);
    e->unspec_state = e->deadlock_state = -1;
    e->depth_end = 1;
    if (!e->ht || !e->mht) { free(e->ht); free(e->mht); free(e); return NULL; }
    return e;
}

void bfs_free(E *e) {
    if (!e) return;
    free(e->st); free(e->parent); free(e->flags); free(e->ht); free(e->start); free(e->succ); free(e->cls);
    free(e->bsrc); free(e->bdst); free(e->mkeys); free(e->mval); free(e->mht); free(e->pool);
    free(e->rstart); free(e->rev); free(e->ok); free(e->indeg);
    free(e);
}

static int rehash(E *e) {
    uint64_t cap = e->hcap * 2;
    uint32_t *t = calloc(cap, 4);
    if (!t) return -1;
    for (uint64_t j = 0; j < e->nst; j++) {
        uint64_t h = hash_words(e->st + j * e->W, e->W) & (cap - 1);
        while (t[h]) h = (h + 1) & (cap - 1);
        t[h] = (uint32_t)(j + 1);
    }
    free(e->ht); e->ht = t; e->hcap = cap;
    return 0;
}

/* The index of state s, added (with parent p) when new; -1 when out of memory. */
static int64_t intern(E *e, const F *s, int64_t p) {
    uint64_t mask = e->hcap - 1, h = hash_words(s, e->W) & mask;
    size_t bytes = (size_t)e->W * sizeof(F);
    for (;;) {
        uint32_t x = e->ht[h];
        if (!x) break;
        if (!memcmp(e->st + (uint64_t)(x - 1) * e->W, s, bytes)) return x - 1;
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
    e->ht[h] = (uint32_t)(j + 1);
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

static uint64_t key_hash(const uint32_t *key) {
    uint64_t h = 0x51ed27ULL;
    for (int k = 0; k < MKEY; k++) h = mix(h ^ key[k]) + k;
    return h;
}

/* The callback's answer for (kind, side, quiet, arg, core without dups), memoized: an offset
 * into the pool, or -2 with e->error set. */
static int64_t memo(E *e, int kind, int side, int quiet, int arg, const F *core) {
    uint32_t key[MKEY] = {(uint32_t)(kind | side << 4 | quiet << 5), (uint32_t)arg};
    for (int k = 0, j = 2; k < NCORE; k++) if (k != KDUP) key[j++] = core[k];
    uint64_t mask = e->mhcap - 1, h = key_hash(key) & mask;
    for (;;) {
        uint32_t x = e->mht[h];
        if (!x) break;
        if (!memcmp(e->mkeys + (uint64_t)(x - 1) * MKEY, key, sizeof key)) return e->mval[x - 1];
        h = (h + 1) & mask;
    }
    int n = e->ask(kind, side, core, arg, quiet, e->buf, BUFCAP);
    int64_t off = -1;
    if (n < 0) { e->error = n == -3 ? 3 : 2; return -2; }
    {
        if (e->npool + n > e->cappool) {
            uint64_t cap = e->cappool ? e->cappool * 2 : 1 << 14;
            while (cap < e->npool + n) cap *= 2;
            int32_t *q = realloc(e->pool, cap * 4);
            if (!q) { e->error = 1; return -2; }
            e->pool = q; e->cappool = cap;
        }
        memcpy(e->pool + e->npool, e->buf, (size_t)n * 4);
        off = (int64_t)e->npool;
        e->npool += n;
    }
    uint64_t m = e->mn;
    if (m + 1 > e->mcap) {
        uint64_t cap = e->mcap ? e->mcap * 2 : 1 << 10;
        uint32_t *k2 = realloc(e->mkeys, cap * MKEY * 4);
        if (!k2) { e->error = 1; return -2; }
        e->mkeys = k2;
        int64_t *v2 = realloc(e->mval, cap * 8);
        if (!v2) { e->error = 1; return -2; }
        e->mval = v2; e->mcap = cap;
    }
    memcpy(e->mkeys + m * MKEY, key, sizeof key);
    e->mval[m] = off;
    e->mht[h] = (uint32_t)(m + 1);
    e->mn = m + 1;
    if (2 * e->mn > e->mhcap) {
        uint64_t cap = e->mhcap * 2;
        uint32_t *t = calloc(cap, 4);
        if (!t) { e->error = 1; return -2; }
        for (uint64_t j = 0; j < e->mn; j++) {
            uint64_t g = key_hash(e->mkeys + j * MKEY) & (cap - 1);
            while (t[g]) g = (g + 1) & (cap - 1);
            t[g] = (uint32_t)(j + 1);
        }
        free(e->mht); e->mht = t; e->mhcap = cap;
    }
    return off;
}

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

/* One move from state i: store the child, the edge, the violations. 0, or -1 on error. */
static int emit(E *e, uint32_t i, const F *child, int edge, uint32_t viol, int sub, int ordinal) {
    int64_t j = intern(e, child, i);
    if (j < 0) { e->error = 1; return -1; }
    if (e->graph && push_edge(e, (uint32_t)j, edge)) { e->error = 1; return -1; }
    if (sub && e->bounded && push_sub(e, i, (uint32_t)j)) { e->error = 1; return -1; }
    viol &= ~e->found_mask;
    for (int b = 0; viol; b++, viol >>= 1)
        if (viol & 1) {
            e->found_mask |= 1u << b;
            e->found_state[b] = i;
            e->found_move[b] = ordinal;
        }
    return 0;
}

/* Apply the answer at pool[off] (count, stop, then each outcome) to `base` for `side`. Returns
 * 1 when the state's remaining moves are not explored (the table has no row: Unspecified),
 * 0, or -1 on error. */
static int outcomes(E *e, uint32_t i, const F *base, int side, int64_t off, int *n) {
    int C = e->C, outc = NCORE + side * C;
    int32_t count = e->pool[off], stop = e->pool[off + 1];
    off += 2;
    F child[NCORE + 16];
    for (int r = 0; r < count; r++) {
        const int32_t *o = e->pool + off;
        memcpy(child, base, (size_t)e->W * sizeof(F));
        child[side] = (F)o[0];
        child[KPC + side] = (F)o[1];
        child[KEPOCH] = (F)o[2];
        child[KINC + side] = (F)o[3];
        child[KBITS] = (F)o[4];
        int nsend = o[8];
        for (int k = 0; k < nsend; k++)
            if (!chan_add(child + outc, C, e->fifo, (F)(o[9 + k] + 1))) child[KBITS] |= LOSSY_BOTH;
        if (emit(e, i, child, o[5], (uint32_t)o[6], o[7], (*n)++)) return -1;
        off += 9 + nsend;
    }
    return stop ? 1 : 0;
}

/* Explore until `until` states have been expanded or none is left. 0, or -1 on error. */
int bfs_run(E *e, uint64_t until) {
    int C = e->C, W = e->W;
    F cur[NCORE + 16], child[NCORE + 16];
    while (e->i < e->nst && e->i < until) {
        uint32_t i = (uint32_t)e->i;
        if (e->i == e->depth_end) { e->depth++; e->depth_end = e->nst; }
        memcpy(cur, e->st + (uint64_t)i * W, (size_t)W * sizeof(F));
        int quiet = !cur[NCORE] && !cur[NCORE + C];
        int n = 0, stop = 0;
        for (int side = 0; side < 2 && !stop; side++) {
            int inc_ = NCORE + (1 - side) * C;
            F *in = cur + inc_;
            int len = chan_len(in, C);
            F prev = 0;
            for (int idx = 0; idx < len; idx++) {          /* deliveries */
                if (e->fifo && idx > 0) break;
                F x = in[idx];
                if (x == prev) continue;
                prev = x;
                int64_t off = memo(e, Q_DELIVER, side, 0, x - 1, cur);
                if (off < 0) return -1;
                memcpy(child, cur, (size_t)W * sizeof(F));
                chan_remove(child + inc_, C, idx);
                if ((stop = outcomes(e, i, child, side, off, &n)) < 0) return -1;
                if (stop) break;
            }
            if (stop) break;
            for (int idx = 0; idx < len; idx++) {          /* losses and duplications */
                F x = in[idx];
                int again = 0;
                for (int k = 0; k < idx; k++) again |= in[k] == x;
                if (again) continue;
                if (e->loss) {
                    memcpy(child, cur, (size_t)W * sizeof(F));
                    chan_remove(child + inc_, C, idx);
                    child[KBITS] |= LOSSY_BOTH;
                    if (emit(e, i, child, LOSS, 0, 1, n++)) return -1;
                }
                if (cur[KDUP] > 0 && len < C) {
                    memcpy(child, cur, (size_t)W * sizeof(F));
                    chan_add(child + inc_, C, e->fifo, x);
                    child[KDUP]--;
                    if (emit(e, i, child, FAIR, 0, 0, n++)) return -1;
                }
            }
            int64_t off = memo(e, Q_LOCAL, side, quiet, 0, cur);  /* user calls, timers */
            if (off < 0) return -1;
            if ((stop = outcomes(e, i, cur, side, off, &n)) < 0) return -1;
        }
        if (stop && e->unspec_state < 0) e->unspec_state = i;
        e->transitions += n;
        if (e->graph) {
            if (grow((void **)&e->start, &e->capstart, (uint64_t)i + 2, 4)) { e->error = 1; return -1; }
            if (i == 0) e->start[0] = 0;
            e->start[i + 1] = (uint32_t)e->nsucc;
        }
        int64_t off = memo(e, Q_STATE, 0, quiet, 0, cur);
        if (off < 0) return -1;
        e->flags[i] = (uint8_t)e->pool[off];
        if (n == 0 && e->deadlock && e->deadlock_state < 0 && !(e->flags[i] & 1)) e->deadlock_state = i;
        e->i++;
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
        for (uint64_t k = 0; k < e->nsucc; k++) if (e->cls[k] == fair) e->rstart[e->succ[k] + 1]++;
        for (uint64_t v = 0; v < n; v++) e->rstart[v + 1] += e->rstart[v];
        e->rev = malloc((e->rstart[n] + 1) * 4);
        uint32_t *fill = malloc((n + 1) * 4);
        if (!e->rev || !fill) { free(fill); e->error = 1; return -2; }
        memcpy(fill, e->rstart, (n + 1) * 4);
        for (uint64_t u = 0; u < n; u++)
            for (uint32_t k = e->start[u]; k < e->start[u + 1]; k++)
                if (e->cls[k] == fair) e->rev[fill[e->succ[k]]++] = (uint32_t)u;
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

/* Kahn's algorithm on the retransmit-and-lose subgraph: indeg[v] > 0 afterwards for the
 * states on or behind a cycle. Returns how many such states there are. */
int64_t bfs_kahn(E *e) {
    uint64_t n = e->nst, m = e->nb;
    free(e->indeg);
    e->indeg = calloc(n + 1, 4);
    uint32_t *ostart = calloc(n + 1, 4), *out = malloc((m + 1) * 4), *stack = malloc((n + 1) * 4);
    uint8_t *in_src = calloc(n + 1, 1);
    if (!e->indeg || !ostart || !out || !stack || !in_src) {
        free(ostart); free(out); free(stack); free(in_src); e->error = 1; return -2;
    }
    for (uint64_t k = 0; k < m; k++) { e->indeg[e->bdst[k]]++; ostart[e->bsrc[k]]++; in_src[e->bsrc[k]] = 1; }
    uint32_t acc = 0;
    for (uint64_t v = 0; v < n; v++) { uint32_t c = ostart[v]; ostart[v] = acc; acc += c; }
    ostart[n] = acc;
    uint32_t *fill = malloc((n + 1) * 4);
    if (!fill) { free(ostart); free(out); free(stack); free(in_src); e->error = 1; return -2; }
    memcpy(fill, ostart, (n + 1) * 4);
    for (uint64_t k = 0; k < m; k++) out[fill[e->bsrc[k]]++] = e->bdst[k];
    free(fill);
    uint64_t sp = 0;
    for (uint64_t v = 0; v < n; v++) if (in_src[v] && e->indeg[v] == 0) stack[sp++] = (uint32_t)v;
    while (sp) {
        uint32_t u = stack[--sp];
        for (uint32_t k = ostart[u]; k < ostart[u + 1]; k++)
            if (--e->indeg[out[k]] == 0) stack[sp++] = out[k];
    }
    int64_t left = 0;
    for (uint64_t v = 0; v < n; v++) left += e->indeg[v] > 0;
    free(ostart); free(out); free(stack); free(in_src);
    return left;
}

/* Accessors for checker/native.py (ctypes reads these arrays in place). */
#define GET(name, type) type bfs_##name(E *e) { return e->name; }
GET(nst, uint64_t) GET(i, uint64_t) GET(transitions, uint64_t) GET(depth, uint64_t) GET(nsucc, uint64_t)
GET(nb, uint64_t) GET(error, int) GET(unspec_state, int64_t) GET(deadlock_state, int64_t) GET(found_mask, uint32_t)
GET(st, F *) GET(parent, int32_t *) GET(start, uint32_t *) GET(succ, uint32_t *) GET(cls, uint8_t *)
GET(bsrc, uint32_t *) GET(bdst, uint32_t *) GET(ok, uint8_t *) GET(indeg, uint32_t *) GET(flags, uint8_t *)
int64_t bfs_found_state(E *e, int b) { return e->found_state[b]; }
int bfs_found_move(E *e, int b) { return e->found_move[b]; }
uint64_t bfs_bytes(E *e) {
    return e->capst * ((uint64_t)e->W * sizeof(F) + 5) + e->hcap * 4 + e->capsucc * 5 + e->capstart * 4
           + e->capb * 8 + e->cappool * 4 + e->mcap * (MKEY * 4 + 8) + e->mhcap * 4;
}

/* Add the initial state; 0 or -1. */
int bfs_init(E *e, const F *s) { return intern(e, s, -1) < 0 ? -1 : 0; }
