/* The oracle's native judge: the C half of oracle/native.py.

   It reads a classic pcap file, decodes link, IPv4 and TCP headers (IPv6 frames go back to
   Python's decoder), splits segments into connections by 4-tuple and incarnation as
   oracle/judge.py does, and advances each judged end's monitor by memoized steps.

   It knows no TCP rule. Every step it takes was computed by the Python monitor
   (oracle/monitor.py) and handed over with jd_add_trans, keyed exactly as the monitor keys
   its own memo of whole candidate-set steps. Anything else goes back to Python through the
   callback: a step not memoized, a monitor not in normal form, a verdict.
   tests/oracle/test_native.py checks that it judges exactly as the Python judge. */

#include <math.h>
#include <stddef.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXM 4           /* marks a monitor in C may hold; more and Python keeps it */
#define MAXCROSS 8       /* incoming segments the stack may not have processed (monitor.MAX_CROSSED) */
#define MAXENT (2 * MAXCROSS)
#define SLOTS (MAXENT + 1)
#define MAXFL 3          /* floored timers: keep-alive, FIN-WAIT-2, user timeout */
#define MAXNEED 16
#define MAXAGE 32
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10
#define MAXWIN (1 << 30)
#define DIR_OUT 0
#define DIR_IN 1

enum { M_FREE, M_FAST, M_PY, M_DONE };                /* a monitor's mode */
enum { CB_FEED, CB_FINISH, CB_DECODE, CB_TICK };     /* the callback's questions (TICK: let Python
                                                         run its signal handlers, e.g. Ctrl-C) */
enum { D_TCP, D_NOT_TCP, D_FRAGMENT, D_MALFORMED, D_LOST };  /* what a frame decoded to (LOST: an
                                                         IPv4 TCP frame that cannot be judged, see capture.WHY) */
#define TICK (1 << 16)                                /* frames between two CB_TICKs */
#define BUFSZ (1 << 20)
enum { E_HEADER = 1, E_RECORD, E_CALLBACK, E_MEMORY, E_IO, E_OVERSIZED };
#define MAXREC (1 << 24)     /* capture.MAX_RECORD: a larger record is corrupt */
enum { P_LOCAL = 1, P_PEER = 2, P_FRESH = 4, P_RESET = 8, P_F2 = 16 };
enum { K_KA, K_F2, K_UT };

typedef int (*Callback)(int kind, int a, int b);

typedef struct {            /* one segment as decoded */
    double t;
    uint32_t seq, ack;
    int32_t flags, data, win, wscale, mss, has_ts;
    uint32_t tsval, tsecr;
} Seg;

typedef struct {            /* the current packet (read by Python in callbacks) */
    Seg s;
    uint8_t src[16], dst[16];
    int32_t fam, sport, dport;
    int32_t ign;            /* the options and flags it carried that no rule reads (IGN_* bits) */
    int64_t index;
} Pkt;

/* events.IGNORED's order (IgnoredOptions.add_bits): what a segment may carry that no rule reads,
 * recorded so that the verdict can say so, as capture.py's _options and decode name them */
enum { IGN_SACK_OK = 1, IGN_SACK = 2, IGN_TS = 4, IGN_MD5 = 8, IGN_AO = 16, IGN_MPTCP = 32, IGN_OPTION = 64,
       IGN_ECN = 128, IGN_URG = 256 };

typedef struct {            /* an event since the oldest incoming segment the stack may not have
                               processed, and the state before it (Monitor._crossed) */
    int32_t set;
    uint32_t dl, dp;
    int32_t nm;
    double marks[MAXM];
    Seg ev;
    int32_t dir, wnd;
} Cross;

typedef struct {            /* one judged end's monitor state (native.MON mirrors it from `mode` on) */
    int32_t end, conn, next_free, pad;  /* C's own: which end of which connection */
    int32_t mode, set;
    uint32_t dl, dp;
    int32_t nm, started;
    double marks[MAXM];
    int64_t n;
    int32_t scaled, wscale, peer_wscale, start_closed;
    int32_t f2_known, maxc;
    double ka_floor, f2_floor, t0;     /* NaN: None */
    int32_t chead, ncross, cins, pad2; /* the ring `cross`: first entry, entries, incoming ones */
    int32_t ring, pad4;                /* its pending entries: a ring (Ring) from chead, or -1 */
} Mon;

typedef struct {            /* the entries of one monitor's pending list; one slot more while trimming */
    Cross e[SLOTS];
} Ring;

typedef struct {            /* one incarnation of a 4-tuple (mirrored by native.ConnState) */
    uint8_t addr[2][16];    /* ends[0] is the first packet's source */
    int32_t port[2];
    int32_t fam, incarnation;
    int64_t segments, first;
    double first_t, last_t;
    int32_t ended, same;
    int32_t syn_have[2];
    uint32_t syn_seq[2];
    int32_t mon[2];
    int32_t prev, next, entry, sent;    /* the live list (by activity); sent: bit e set once end e sent a segment */
    int32_t eprev, enext, lost_arg, lost_ends;  /* the ended list; lost_ends: bit per end without a
                                                   verdict when a frame of it was lost */
    int32_t lost_why, pad2;             /* capture.WHY code of the lost frame */
    int64_t lost_frame;                 /* 0: every frame of it was read */
    double min_reply[2];    /* each end's quickest segment after one of its peer's (vantage) */
    double prev_t;          /* the last segment's time, and which end sent it (-1: none yet) */
    int32_t prev_end, pad3;
    int32_t ign[2];         /* IGN_* bits of what each end's segments carried */
    int32_t syn_mss[2];     /* the MSS option of each end's SYN (0: none seen; far-segmentation) */
    uint32_t ts_newest[2];  /* the newest TSval each end sent (judge.py Conn.ts_newest) */
    int32_t ts_have[2];
} Conn;

typedef struct {            /* a 4-tuple: canonical key, incarnations so far, its live connection */
    uint8_t a[16], b[16];
    int32_t pa, pb, fam, incarnations, conn;
    uint32_t hash;
} Entry;

typedef struct {            /* the memo key of a whole candidate-set step (see Monitor._fast) */
    int32_t set;
    uint8_t dir, flags, nm, ws;     /* ws, mss: a SYN's options as Segment carries them */
    uint32_t seq, ack, segwnd, data;
    int32_t wnd;
    int8_t tk[MAXFL], pad2;
    int8_t ages[MAXM];
    uint16_t mss, pad3;
} TKey;

typedef struct {
    int32_t next;
    uint32_t ddl, ddp;
    int8_t nm, mmap[MAXM];
} TVal;

typedef struct {
    /* configuration */
    int link, be, nano, jobs, share, start_mode, limit, floors_move;
    double expire;
    /* a required retransmission's deadline (Monitor._rto_gap): a segment that comes longer than
       this after its connection's previous one is judged in Python, which checks the deadline */
    double rto_gap, gap;
    int nfl, fl_kind[MAXFL], nneed[MAXFL];
    double need[MAXFL][MAXNEED];
    int nages;
    double ages[MAXAGE];
    int iut_fam, iut_port;
    uint8_t iut_addr[16];
    Callback cb;
    /* reading */
    uint8_t *frame;
    size_t frame_cap;
    int64_t frame_len, offset, err_off, err_declared, err_held;
    int err, oom, fd;
    uint8_t *buf;                       /* read-ahead of the file: bytes boff.. boff+blen, next at bpos */
    int64_t boff, blen, bpos;
    int why, why_arg, why_ports;        /* a D_LOST frame: capture.WHY code, its number, ports known */
    Pkt cur;
    double last_frame_t;
    int64_t frames, tcp, non_tcp, fragments, malformed, judged_segments, lost;
    int64_t fast_steps, python_steps, finished;   /* where the work went */
    /* sets: properties and sizes by index */
    uint8_t *props;
    int32_t *size;
    int64_t nsets;
    /* the memo */
    TKey *tkeys;
    TVal *tvals;
    uint32_t *thash;
    uint64_t tcap, tn;
    /* 4-tuples and connections */
    Entry *entries;
    uint64_t ecap, en;
    Conn *conns;
    int32_t nconns_cap, conn_free, live_head, live_tail, nlive, max_live_seen, ended_head, ended_tail;
    Mon *mons;
    int32_t nmons_cap, mon_free;
    Ring *rings;                        /* allocated to monitors with a pending list only */
    int32_t *ring_next, rings_cap, ring_free;
    int64_t connections;
} Judge;

/* ---------------------------------------------------------------- small helpers */

static uint64_t mix(uint64_t h) {
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ULL; h ^= h >> 33;
    return h;
}

static uint32_t hash_bytes(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = mix(h ^ w);
    }
    for (; i < n; i++) h = mix(h ^ b[i]);
    return (uint32_t)(h >> 32) | 1u;   /* never 0: 0 marks an empty slot */
}

static int bisect_right(const double *a, int n, double x) {
    int k = 0;
    while (k < n && a[k] <= x) k++;
    return k;
}

static uint32_t rd32(const uint8_t *p, int be) {
    return be ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
              : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* ---------------------------------------------------------------- the judge's life */

Judge *jd_new(Callback cb) {
    Judge *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->cb = cb;
    j->start_mode = -1;
    j->live_head = j->live_tail = j->ended_head = j->ended_tail = -1;
    j->conn_free = j->mon_free = j->ring_free = -1;
    j->tcap = 1 << 12;
    j->tkeys = malloc(j->tcap * sizeof *j->tkeys);
    j->tvals = malloc(j->tcap * sizeof *j->tvals);
    j->thash = calloc(j->tcap, sizeof *j->thash);
    j->ecap = 1 << 10;
    j->entries = calloc(j->ecap, sizeof *j->entries);
    if (!j->tkeys || !j->tvals || !j->thash || !j->entries) return NULL;
    return j;
}

void jd_free(Judge *j) {
    if (!j) return;
    free(j->frame); free(j->buf); free(j->props); free(j->size); free(j->tkeys); free(j->tvals); free(j->thash);
    free(j->entries); free(j->conns); free(j->mons); free(j->rings); free(j->ring_next); free(j);
}

void jd_config(Judge *j, int link, int be, int nano, int jobs, int share, int start_mode,
               int limit, int floors_move, double expire) {
    j->link = link; j->be = be; j->nano = nano; j->jobs = jobs; j->share = share; j->start_mode = start_mode;
    j->limit = limit; j->floors_move = floors_move; j->expire = expire;
}

void jd_set_ages(Judge *j, const double *ages, int n) {
    j->nages = n < MAXAGE ? n : MAXAGE;
    memcpy(j->ages, ages, j->nages * sizeof *ages);
}

void jd_add_floored(Judge *j, int kind, const double *need, int n) {
    int i = j->nfl++;
    j->fl_kind[i] = kind;
    j->nneed[i] = n < MAXNEED ? n : MAXNEED;
    memcpy(j->need[i], need, j->nneed[i] * sizeof *need);
}

void jd_set_iut(Judge *j, int fam, const uint8_t *addr, int port) {
    j->iut_fam = fam;
    memcpy(j->iut_addr, addr, 16);
    j->iut_port = port;
}

/* A set's properties (oracle/monitor.py: _plain_of, _props_of; as P_* bits) and size. */
int jd_set_props(Judge *j, int64_t idx, int flags, int size) {
    if (idx >= j->nsets) {
        int64_t cap = j->nsets ? j->nsets : 256;
        while (cap <= idx) cap *= 2;
        uint8_t *p = realloc(j->props, cap);
        int32_t *s = realloc(j->size, cap * sizeof *s);
        if (!p || !s) { if (p) j->props = p; if (s) j->size = s; return -1; }
        memset(p + j->nsets, 0, cap - j->nsets);
        j->props = p; j->size = s; j->nsets = cap;
    }
    j->props[idx] = (uint8_t)flags;
    j->size[idx] = size;
    return 0;
}

/* ---------------------------------------------------------------- the memo */

static int64_t tfind(const Judge *j, const TKey *k, uint32_t h) {
    uint64_t mask = j->tcap - 1;
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
        if (!j->thash[i]) return -(int64_t)i - 1;
        if (j->thash[i] == h && !memcmp(&j->tkeys[i], k, sizeof *k)) return (int64_t)i;
    }
}

static int tgrow(Judge *j) {
    uint64_t cap = j->tcap * 2;
    TKey *k = malloc(cap * sizeof *k);
    TVal *v = malloc(cap * sizeof *v);
    uint32_t *h = calloc(cap, sizeof *h);
    if (!k || !v || !h) { free(k); free(v); free(h); return -1; }
    for (uint64_t i = 0; i < j->tcap; i++) {
        if (!j->thash[i]) continue;
        uint64_t s = j->thash[i] & (cap - 1);
        while (h[s]) s = (s + 1) & (cap - 1);
        h[s] = j->thash[i]; k[s] = j->tkeys[i]; v[s] = j->tvals[i];
    }
    free(j->tkeys); free(j->tvals); free(j->thash);
    j->tkeys = k; j->tvals = v; j->thash = h; j->tcap = cap;
    return 0;
}

/* Remember one step: `key` as in Monitor._fast (its tk and ages 0 past their count), `val`
   the set after it, the origin shifts and each mark's source (-1: now); both packed by
   native.py in these structures' layouts (jd_sizeof). */
int jd_add_trans(Judge *j, const uint8_t *key, const uint8_t *val) {
    if ((j->tn + 1) * 4 > j->tcap * 3 && tgrow(j)) return -1;
    TKey k;
    memcpy(&k, key, sizeof k);
    uint32_t h = hash_bytes(&k, sizeof k);
    int64_t at = tfind(j, &k, h);
    if (at < 0) {
        at = -at - 1;
        j->thash[at] = h; j->tkeys[at] = k; j->tn++;
    }
    memcpy(&j->tvals[at], val, sizeof(TVal));
    return 0;
}

void jd_clear_trans(Judge *j) {
    memset(j->thash, 0, j->tcap * sizeof *j->thash);
    j->tn = 0;
}

/* Every set index a monitor in C refers to (so Python keeps them when its memo is cleared). */
int64_t jd_live_sets(const Judge *j, int32_t *out, int64_t cap) {
    int64_t n = 0;
    for (int32_t i = 0; i < j->nmons_cap; i++) {
        const Mon *m = &j->mons[i];
        if (m->mode != M_FAST) continue;
        if (n < cap) out[n] = m->set;
        n++;
        for (int k = 0; k < m->ncross; k++) {
            if (n < cap) out[n] = j->rings[m->ring].e[(m->chead + k) % SLOTS].set;
            n++;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- monitors */

Mon *jd_mon(Judge *j, int slot) { return &j->mons[slot]; }
Conn *jd_conn(Judge *j, int idx) { return &j->conns[idx]; }
Pkt *jd_cur(Judge *j) { return &j->cur; }
double jd_last_frame_t(Judge *j) { return j->last_frame_t; }   /* how far the capture went */
void jd_set_rto_gap(Judge *j, double gap) { j->rto_gap = gap; }
double jd_gap(Judge *j) { return j->gap; }   /* the current segment's distance from its connection's previous one */
uint8_t *jd_frame(Judge *j) { return j->frame; }
int64_t jd_frame_len(Judge *j) { return j->frame_len; }
Mon *jd_template(Judge *j, int which) { return &j->mons[which]; }

static int mon_alloc(Judge *j) {
    if (j->mon_free < 0) {
        int32_t old = j->nmons_cap, cap = old ? old * 2 : 64;
        Mon *m = realloc(j->mons, cap * sizeof *m);
        if (!m) return -1;
        j->mons = m;
        for (int32_t i = cap - 1; i >= old; i--) {
            m[i].mode = M_FREE;
            m[i].next_free = j->mon_free;
            j->mon_free = i;
        }
        j->nmons_cap = cap;
    }
    int s = j->mon_free;
    j->mon_free = j->mons[s].next_free;
    j->mons[s].ring = -1;
    j->mons[s].chead = j->mons[s].ncross = j->mons[s].cins = 0;
    return s;
}

static int ring_alloc(Judge *j, Mon *m) {
    if (m->ring >= 0) return 0;
    if (j->ring_free < 0) {
        int32_t old = j->rings_cap, cap = old ? old * 2 : 64;
        Ring *r = realloc(j->rings, (size_t)cap * sizeof *r);
        if (!r) return -1;
        j->rings = r;
        int32_t *nx = realloc(j->ring_next, (size_t)cap * sizeof *nx);
        if (!nx) return -1;
        j->ring_next = nx;
        for (int32_t i = cap - 1; i >= old; i--) { nx[i] = j->ring_free; j->ring_free = i; }
        j->rings_cap = cap;
    }
    m->ring = j->ring_free;
    j->ring_free = j->ring_next[m->ring];
    return 0;
}

static void ring_release(Judge *j, Mon *m) {
    if (m->ring < 0) return;
    j->ring_next[m->ring] = j->ring_free;
    j->ring_free = m->ring;
    m->ring = -1;
    m->chead = m->ncross = m->cins = 0;
}

/* The entries of a monitor's pending list (want: allocated if it has none), or NULL. */
Cross *jd_ring(Judge *j, int slot, int want) {
    Mon *m = &j->mons[slot];
    if (want && ring_alloc(j, m)) return NULL;
    if (!want && m->ncross == 0) ring_release(j, m);
    return m->ring < 0 ? NULL : j->rings[m->ring].e;
}

static void mon_release(Judge *j, int s) {
    ring_release(j, &j->mons[s]);
    j->mons[s].mode = M_FREE;
    j->mons[s].next_free = j->mon_free;
    j->mon_free = s;
}

/* The two templates (slots 0 and 1: a monitor starting "closed" and one starting "any"),
   which Python fills from fresh monitors before the run. */
int jd_templates(Judge *j) {
    if (mon_alloc(j) != 0 || mon_alloc(j) != 1) return -1;
    return 0;
}

/* Monitor._crossed after one more event (monitor._pending): append it with the state before
   it, then keep at most MAXCROSS incoming segments and MAXENT entries, never beginning with
   one of the IUT's own. */
static int pend_entry(Judge *j, Mon *m, const Cross *x) {
    if (x->dir == DIR_OUT && m->ncross == 0) return 0; /* it would lead: dropped at once */
    if (ring_alloc(j, m)) return -1;
    Cross *r = j->rings[m->ring].e;
    if (x->dir == DIR_OUT && (x->ev.flags & F_ACK)) {
        /* monitor._pending: it acknowledges an incoming segment's whole range, so the stack
           processed that one and all before it */
        for (int k = m->ncross - 1; k >= 0; k--) {
            const Cross *y = &r[(m->chead + k) % SLOTS];
            uint32_t len = (uint32_t)y->ev.data + !!(y->ev.flags & F_SYN) + !!(y->ev.flags & F_FIN);
            if (y->dir == DIR_IN && len && ((x->ev.ack - (y->ev.seq + len)) & 0xFFFFFFFFu) < 0x80000000u) {
                for (int d = 0; d <= k; d++) {
                    m->cins -= r[m->chead].dir == DIR_IN;
                    m->chead = (m->chead + 1) % SLOTS;
                    m->ncross--;
                }
                break;
            }
        }
    }
    if (x->dir == DIR_OUT && m->ncross == 0) {
        ring_release(j, m);
        return 0;
    }
    r[(m->chead + m->ncross++) % SLOTS] = *x;
    m->cins += x->dir == DIR_IN;
    /* the first loop of monitor._pending drops entries while over a bound; the second, the
       IUT's own entries left in front: both drop the front */
    while (m->cins > MAXCROSS || m->ncross > MAXENT || (m->ncross && r[m->chead].dir == DIR_OUT)) {
        m->cins -= r[m->chead].dir == DIR_IN;
        m->chead = (m->chead + 1) % SLOTS;
        m->ncross--;
    }
    if (m->ncross == 0) ring_release(j, m);
    return 0;
}

static int pend(Judge *j, Mon *m, int dir, int32_t wnd, const Seg *p) {
    if (dir == DIR_OUT && m->ncross == 0) return 0;
    Cross x;
    x.set = m->set; x.dl = m->dl; x.dp = m->dp; x.nm = m->nm;
    memcpy(x.marks, m->marks, sizeof m->marks);
    x.ev = *p; x.dir = dir; x.wnd = wnd;
    return pend_entry(j, m, &x);
}

/* Python took a step and appended one entry (packed as a Cross) to a ring it had read. */
int jd_pend(Judge *j, int slot, const uint8_t *entry) {
    Cross x;
    memcpy(&x, entry, sizeof x);
    return pend_entry(j, &j->mons[slot], &x);
}

/* One memoized step of the whole candidate set (Monitor.feed's fast path); 0 when there is
   none, and then nothing changed. */
static int fast(Judge *j, Mon *m, int dir) {
    const Seg *p = &j->cur.s;
    double t = p->t;
    int64_t n = m->n + 1;
    double t0 = (n == 1 && m->start_closed) ? t : m->t0;
    int syn = p->flags & F_SYN;
    int scaled = m->scaled, wscale = m->wscale, peer_ws = m->peer_wscale;
    if (syn) {
        scaled = 1;
        if (p->wscale >= 0) {
            if (dir == DIR_IN) peer_ws = 1;
            else wscale = p->wscale;
        }
    }
    int32_t wnd = -1;
    if (dir == DIR_OUT && !(p->flags & F_RST) && scaled) {
        int sc = (wscale >= 0 && peer_ws && !syn) ? wscale : 0;
        int64_t w = (int64_t)p->win << sc;
        wnd = (int32_t)(w < MAXWIN ? w : MAXWIN);
    }
    TKey k;
    memset(&k, 0, sizeof k);
    for (int i = 0; i < j->nfl; i++) {
        double fl = j->fl_kind[i] == K_KA ? m->ka_floor : j->fl_kind[i] == K_F2 ? m->f2_floor : t0;
        k.tk[i] = isnan(fl) ? -1 : (int8_t)bisect_right(j->need[i], j->nneed[i], t - fl);
    }
    uint8_t pr = j->props[m->set];
    uint32_t dl = m->dl, dp = m->dp;
    int local = (pr & P_LOCAL) || ((pr & P_FRESH) && dir == DIR_OUT && syn);
    if (local || (pr & P_PEER)) {
        uint32_t sdl = dir == DIR_IN ? p->ack : p->seq, sdp = dir == DIR_IN ? p->seq : p->ack;
        if (local) dl = sdl;
        if (pr & P_PEER) dp = sdp;
    }
    for (int i = 0; i < m->nm; i++) {
        if (m->marks[i] == t) return 0;
        k.ages[i] = (int8_t)bisect_right(j->ages, j->nages, t - m->marks[i]);
    }
    k.set = m->set; k.dir = (uint8_t)dir; k.flags = (uint8_t)p->flags; k.nm = (uint8_t)m->nm;
    k.data = (uint32_t)p->data; k.segwnd = (uint32_t)p->win; k.wnd = wnd;
    if (syn && (p->has_ts >> 1 & 3)) return 0;     /* a Fast Open SYN: stepped in Python (not in the memo key) */
    if (dir == DIR_IN && (p->has_ts & 8)) return 0; /* a PAWS-old segment (Segment.ots): Python too */
    if (syn) {              /* Segment.with_options: only a SYN carries them */
        k.ws = (uint8_t)(p->wscale >= 0 ? p->wscale + 1 : 0);
        k.mss = (uint16_t)(p->mss > 0 ? p->mss : 0);
    }
    uint32_t ack_shift = dir == DIR_IN ? dl : dp;
    k.seq = p->seq - (dir == DIR_IN ? dp : dl);
    k.ack = (p->flags & F_ACK) ? p->ack - ack_shift : p->ack;
    int64_t at = tfind(j, &k, hash_bytes(&k, sizeof k));
    if (at < 0) return 0;
    const TVal *v = &j->tvals[at];
    int32_t size = j->size[v->next];
    if (size > j->limit) return 0;            /* Python says inconclusive */
    if (pend(j, m, dir, wnd, p)) j->oom = 1;          /* jd_run stops after this packet */
    double marks[MAXM] = {0};
    for (int i = 0; i < v->nm; i++) marks[i] = v->mmap[i] < 0 ? t : m->marks[(int)v->mmap[i]];
    memcpy(m->marks, marks, sizeof marks);
    m->set = v->next; m->dl = dl + v->ddl; m->dp = dp + v->ddp; m->nm = v->nm;
    m->n = n; m->t0 = t0; m->scaled = scaled; m->wscale = wscale; m->peer_wscale = peer_ws;
    if (size > m->maxc) m->maxc = size;
    if (dir == DIR_IN && j->floors_move) {
        uint8_t q = j->props[m->set];
        if (q & P_RESET) m->ka_floor = t;
        if ((q & P_F2) && isnan(m->f2_floor) && m->f2_known) m->f2_floor = t;
    }
    return 1;
}

static int feed(Judge *j, int slot, int dir) {
    Mon *m = &j->mons[slot];
    if (m->mode == M_DONE) return 0;
    if (m->mode == M_FAST && m->started && !(j->gap > j->rto_gap) && fast(j, m, dir)) {
        j->fast_steps++;
        return 0;
    }
    j->python_steps++;
    return j->cb(CB_FEED, slot, dir) ? -1 : 0;
}

/* ---------------------------------------------------------------- connections */

static int own_share(const Judge *j, const Pkt *p);

static int judged(const Judge *j, int fam, const uint8_t *addr, int port) {
    if (!j->iut_fam) return 1;
    return fam == j->iut_fam && !memcmp(addr, j->iut_addr, fam == 4 ? 4 : 16) && (!j->iut_port || port == j->iut_port);
}

static void live_unlink(Judge *j, int c) {
    Conn *x = &j->conns[c];
    if (x->prev >= 0) j->conns[x->prev].next = x->next; else j->live_head = x->next;
    if (x->next >= 0) j->conns[x->next].prev = x->prev; else j->live_tail = x->prev;
    x->prev = x->next = -1;
    j->nlive--;
}

static void live_append(Judge *j, int c) {
    Conn *x = &j->conns[c];
    x->prev = j->live_tail; x->next = -1;
    if (j->live_tail >= 0) j->conns[j->live_tail].next = c; else j->live_head = c;
    j->live_tail = c;
    j->nlive++;
}

/* The ended list: live connections that sent FIN or RST, by last activity (the only ones
   released before the end of the capture: an open connection stays however many there are). */
static void ended_unlink(Judge *j, int c) {
    Conn *x = &j->conns[c];
    if (!x->ended) return;
    if (x->eprev >= 0) j->conns[x->eprev].enext = x->enext; else j->ended_head = x->enext;
    if (x->enext >= 0) j->conns[x->enext].eprev = x->eprev; else j->ended_tail = x->eprev;
    x->eprev = x->enext = -1;
}

static void ended_append(Judge *j, int c) {
    Conn *x = &j->conns[c];
    x->eprev = j->ended_tail; x->enext = -1;
    if (j->ended_tail >= 0) j->conns[j->ended_tail].enext = c; else j->ended_head = c;
    j->ended_tail = c;
}

/* Judge and release a live connection (Python reads its verdicts in the callback). */
static int finish(Judge *j, int c) {
    ended_unlink(j, c);
    live_unlink(j, c);
    j->entries[j->conns[c].entry].conn = -1;
    int rc = j->cb(CB_FINISH, c, 0);
    j->finished++;
    for (int e = 0; e < 2; e++)
        if (j->conns[c].mon[e] >= 0) mon_release(j, j->conns[c].mon[e]);
    j->conns[c].next = j->conn_free;
    j->conn_free = c;
    return rc ? -1 : 0;
}

static int entry_of(Judge *j, const Pkt *p) {
    int n = p->fam == 4 ? 4 : 16;
    int cmp = memcmp(p->src, p->dst, n);
    int a_first = cmp < 0 || (cmp == 0 && p->sport <= p->dport);
    Entry k;
    memset(&k, 0, sizeof k);
    memcpy(k.a, a_first ? p->src : p->dst, n);
    memcpy(k.b, a_first ? p->dst : p->src, n);
    k.pa = a_first ? p->sport : p->dport;
    k.pb = a_first ? p->dport : p->sport;
    k.fam = p->fam;
    uint32_t h = hash_bytes(&k, offsetof(Entry, incarnations));
    if ((j->en + 1) * 4 > j->ecap * 3) {
        uint64_t cap = j->ecap * 2;
        Entry *e = calloc(cap, sizeof *e);
        if (!e) return -1;
        for (uint64_t i = 0; i < j->ecap; i++) {
            if (!j->entries[i].hash) continue;
            uint64_t s = j->entries[i].hash & (cap - 1);
            while (e[s].hash) s = (s + 1) & (cap - 1);
            e[s] = j->entries[i];
            if (e[s].conn >= 0) j->conns[e[s].conn].entry = (int32_t)s;
        }
        free(j->entries);
        j->entries = e; j->ecap = cap;
    }
    uint64_t mask = j->ecap - 1;
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
        Entry *e = &j->entries[i];
        if (!e->hash) {
            k.hash = h; k.conn = -1; k.incarnations = 0;
            *e = k;
            j->en++;
            return (int)i;
        }
        if (e->hash == h && !memcmp(e, &k, offsetof(Entry, incarnations))) return (int)i;
    }
}

static int conn_open(Judge *j, int entry, const Pkt *p) {
    if (j->conn_free < 0) {
        int32_t old = j->nconns_cap, cap = old ? old * 2 : 64;
        Conn *c = realloc(j->conns, cap * sizeof *c);
        if (!c) return -1;
        j->conns = c;
        for (int32_t i = cap - 1; i >= old; i--) { c[i].next = j->conn_free; j->conn_free = i; }
        j->nconns_cap = cap;
    }
    int ci = j->conn_free;
    Conn *c = &j->conns[ci];
    j->conn_free = c->next;
    memset(c, 0, sizeof *c);
    Entry *e = &j->entries[entry];
    e->incarnations++;
    e->conn = ci;
    j->connections++;
    memcpy(c->addr[0], p->src, 16); memcpy(c->addr[1], p->dst, 16);
    c->port[0] = p->sport; c->port[1] = p->dport;
    c->fam = p->fam; c->incarnation = e->incarnations;
    c->first = p->index; c->first_t = c->last_t = p->s.t;
    c->entry = entry;
    c->eprev = c->enext = -1;
    c->same = !memcmp(p->src, p->dst, 16) && p->sport == p->dport;
    int start = j->start_mode >= 0 ? j->start_mode : (p->s.flags & F_SYN ? 0 : 1);
    for (int end = 0; end < 2; end++) {
        c->mon[end] = -1;
        if ((end == 1 && c->same) || !judged(j, c->fam, c->addr[end], c->port[end])) continue;
        int s = mon_alloc(j);
        if (s < 0) return -1;
        c = &j->conns[ci];
        Mon *m = &j->mons[s];
        *m = j->mons[start];
        m->end = end; m->conn = ci;
        m->ring = -1; m->chead = m->ncross = m->cins = 0;
        c->mon[end] = s;
    }
    c = &j->conns[ci];
    c->prev_end = -1;
    c->min_reply[0] = c->min_reply[1] = 1e300;
    live_append(j, ci);
    return ci;
}

static int judge_packet(Judge *j) {
    const Pkt *p = &j->cur;
    int entry = entry_of(j, p);
    if (entry < 0) return E_MEMORY;
    int ci = j->entries[entry].conn;
    int pure_syn = (p->s.flags & (F_SYN | F_ACK | F_RST)) == F_SYN;
    if (ci >= 0) {
        Conn *c = &j->conns[ci];
        int a = !memcmp(p->src, c->addr[0], 16) && p->sport == c->port[0] ? 0 : 1;
        if ((pure_syn && c->syn_have[a] && c->syn_seq[a] != p->s.seq) || (c->ended && p->s.t - c->last_t > j->expire)) {
            if (finish(j, ci)) return E_CALLBACK;
            ci = -1;
        } else {
            live_unlink(j, ci);
            live_append(j, ci);
        }
    }
    if (ci < 0 && (ci = conn_open(j, entry, p)) < 0) return E_MEMORY;
    Conn *c = &j->conns[ci];
    int a = !memcmp(p->src, c->addr[0], 16) && p->sport == c->port[0] ? 0 : 1;
    if (pure_syn && !c->syn_have[a]) { c->syn_have[a] = 1; c->syn_seq[a] = p->s.seq; }
    if ((p->s.flags & F_SYN) && p->s.mss > 0) c->syn_mss[a] = p->s.mss;
    if (p->s.has_ts & 1) {  /* RFC 7323 5.3: older than the newest TSval this end sent before: bit 3 (old_ts) */
        if (c->ts_have[a] && (int32_t)(p->s.tsval - c->ts_newest[a]) < 0) j->cur.s.has_ts |= 8;
        if (!c->ts_have[a] || (int32_t)(p->s.tsval - c->ts_newest[a]) > 0) c->ts_newest[a] = p->s.tsval;
        c->ts_have[a] = 1;
    }
    c->segments++;
    if (!c->lost_frame) c->ign[a] |= p->ign;     /* as judge.py feeds IgnoredOptions: until a frame is lost */
    j->gap = p->s.t - c->last_t;
    c->last_t = p->s.t;
    ended_unlink(j, ci);
    if (p->s.flags & (F_FIN | F_RST)) c->ended = 1;
    if (c->prev_end >= 0 && c->prev_end != a && p->s.t - c->prev_t < c->min_reply[a])
        c->min_reply[a] = p->s.t - c->prev_t;
    c->prev_end = a;
    c->prev_t = p->s.t;
    if (c->ended) ended_append(j, ci);
    for (int end = 0; end < 2 && !j->conns[ci].lost_frame; end++) {
        int s = j->conns[ci].mon[end];
        if (s >= 0 && feed(j, s, end == a ? DIR_OUT : DIR_IN)) return E_CALLBACK;
    }
    j->conns[ci].sent |= 1 << a;            /* after feeding: a callback reads what came before */
    if (j->nlive > j->max_live_seen) j->max_live_seen = j->nlive;
    while (j->ended_head >= 0) {
        Conn *h = &j->conns[j->ended_head];
        if (p->s.t - h->last_t > j->expire) {
            if (finish(j, j->ended_head)) return E_CALLBACK;
        } else {
            break;
        }
    }
    return 0;
}

static void mark_lost(Judge *j, int ci) {
    Conn *c = &j->conns[ci];
    if (c->lost_frame) return;
    c->lost_frame = j->frames; c->lost_why = j->why; c->lost_arg = j->why_arg;
    for (int e = 0; e < 2; e++)
        if (c->mon[e] >= 0 && j->mons[c->mon[e]].mode != M_DONE) c->lost_ends |= 1 << e;
}

/* A frame of an IPv4 TCP connection that cannot be judged (as CaptureJudge.lose): with its
   ports, its connection (opened when there is none) is followed no further; with only its
   hosts, every live connection between them. */
static int lose(Judge *j) {
    Pkt *p = &j->cur;
    if (j->why_ports) {
        if (!own_share(j, p)) return 0;
        int entry = entry_of(j, p);
        if (entry < 0) return E_MEMORY;
        int ci = j->entries[entry].conn;
        if (ci >= 0 && j->conns[ci].ended && p->s.t - j->conns[ci].last_t > j->expire) {
            if (finish(j, ci)) return E_CALLBACK;
            ci = -1;
        }
        p->index = j->tcp;
        p->s.flags = 0;
        if (ci < 0 && (ci = conn_open(j, entry, p)) < 0) return E_MEMORY;
        mark_lost(j, ci);
        return 0;
    }
    for (int ci = j->live_head; ci >= 0; ci = j->conns[ci].next) {
        Conn *c = &j->conns[ci];
        if (c->fam != 4) continue;
        int fwd = !memcmp(c->addr[0], p->src, 4) && !memcmp(c->addr[1], p->dst, 4);
        int rev = !memcmp(c->addr[0], p->dst, 4) && !memcmp(c->addr[1], p->src, 4);
        if (fwd || rev) mark_lost(j, ci);
    }
    return 0;
}

/* Judge what is still live, oldest first (the end of the capture). */
int jd_close(Judge *j) {
    while (j->live_head >= 0)
        if (finish(j, j->live_head)) return E_CALLBACK;
    return 0;
}

/* ---------------------------------------------------------------- decoding */

static void options(const uint8_t *b, int end, Seg *s, int32_t *ign) {
    int i = 20;
    while (i < end) {
        int kind = b[i];
        if (kind == 0) break;
        if (kind == 1) { i++; continue; }
        if (i + 1 >= end || b[i + 1] < 2 || i + b[i + 1] > end) break;
        int n = b[i + 1];
        if (kind == 2 && n == 4) s->mss = rd16(b + i + 2);
        else if (kind == 3 && n == 3) s->wscale = b[i + 2] < 14 ? b[i + 2] : 14;
        else if (kind == 8 && n == 10) {
            s->has_ts |= 1; s->tsval = rd32(b + i + 2, 1); s->tsecr = rd32(b + i + 6, 1); *ign |= IGN_TS;
        }
        else if (kind == 4 && n == 2) *ign |= IGN_SACK_OK;
        /* TCP Fast Open (RFC 7413 4.1; experimental 254/0xF989) as capture.py reads it, in bits 1-2 of has_ts:
         * 1 a cookie request, 2 a cookie (Segment.tfo) */
        else if (kind == 34) s->has_ts = (s->has_ts & 1) | ((n == 2 ? 1 : 2) << 1);
        else if (kind == 254 && n >= 4 && rd16(b + i + 2) == 0xF989) s->has_ts = (s->has_ts & 1) | ((n == 4 ? 1 : 2) << 1);
        else if (kind != 2 && kind != 3 && kind != 4 && kind != 8)     /* read kinds of another length: nothing */
            *ign |= kind == 5 ? IGN_SACK : kind == 19 ? IGN_MD5 : kind == 29 ? IGN_AO : kind == 30 ? IGN_MPTCP : IGN_OPTION;
        i += n;
    }
}

/* The frame's network layer, as capture.py's _ip_from_link finds it: its ethertype (0x0800
   IPv4, 0x86DD IPv6, 0 anything else) with *off where it starts; -1 for a frame too short. */
static int link_net(int link, const uint8_t *b, int64_t len, int64_t *off) {
    int etype;
    switch (link) {
    case 1:                                              /* Ethernet, 802.1Q and 802.1ad tags */
        if (len < 14) return -1;
        etype = rd16(b + 12);
        *off = 14;
        while (etype == 0x8100 || etype == 0x88A8) {
            if (len < *off + 4) return -1;
            etype = rd16(b + *off + 2);
            *off += 4;
        }
        return etype;
    case 113:                                            /* Linux cooked (SLL) */
        if (len < 16) return -1;
        *off = 16;
        return rd16(b + 14);
    case 276:                                            /* SLL2 */
        if (len < 20) return -1;
        *off = 20;
        return rd16(b);
    case 0: case 108: {                                  /* BSD loopback */
        if (len < 4) return -1;
        uint32_t fam = rd32(b, link == 108);
        if (fam > 0xFFFF) fam = rd32(b, link != 108);
        *off = 4;
        return fam == 2 ? 0x0800 : (fam == 10 || fam == 24 || fam == 28 || fam == 30) ? 0x86DD : 0;
    }
    default:                                             /* raw IP */
        if (len < 1) return -1;
        *off = 0;
        return b[0] >> 4 == 4 ? 0x0800 : b[0] >> 4 == 6 ? 0x86DD : 0;
    }
}

/* Decode one frame as oracle/capture.py's `decode` does; IPv6 goes to Python. */
static int decode(Judge *j, double t, int64_t wire) {
    const uint8_t *b = j->frame;
    int64_t len = j->frame_len, off;
    int etype;
    etype = link_net(j->link, b, len, &off);
    if (etype < 0) return D_MALFORMED;
    if (etype == 0x86DD) {                               /* decoded by Python (dpkt) */
        j->cur.s.t = t;
        return j->cb(CB_DECODE, 0, 0);
    }
    if (etype != 0x0800) return D_NOT_TCP;
    const uint8_t *net = b + off;
    int64_t nlen = len - off;
    if (nlen < 20 || net[0] >> 4 != 4) return D_MALFORMED;
    if (net[9] != 6) return D_NOT_TCP;
    int ihl = (net[0] & 15) * 4, total = rd16(net + 2), frag = rd16(net + 6);
    Pkt *q = &j->cur;
    memset(q, 0, sizeof *q);
    q->s.t = t;
    q->fam = 4;
    memcpy(q->src, net + 12, 4); memcpy(q->dst, net + 16, 4);
    j->why_ports = ihl >= 20 && nlen >= ihl + 4;
    if (j->why_ports) { q->sport = rd16(net + ihl); q->dport = rd16(net + ihl + 2); }
    int64_t wire_ip = nlen + (wire > len ? wire - len : 0);
    j->why_arg = 0;
    if (ihl < 20) { j->why = 1; j->why_arg = ihl; j->why_ports = 0; return D_LOST; }
    if (frag & 0x3FFF) { j->why = 5; if (frag & 0x1FFF) j->why_ports = 0; return D_LOST; }
    if (total > wire_ip) { j->why = 2; j->why_arg = total; return D_LOST; }
    if (total < ihl) { j->why = 6; j->why_arg = total; return D_LOST; }
    const uint8_t *tcp = net + ihl;
    int64_t tlen = nlen - ihl;
    if (tlen < 20) {
        if (tlen >= 4) { j->why = 4; return D_LOST; }
        return D_MALFORMED;
    }
    int hl = (tcp[12] >> 4) * 4, payload = total - ihl - hl;
    if (hl < 20) { j->why = 3; j->why_arg = tcp[12] >> 4; return D_LOST; }
    if (payload < 0) { j->why = 6; j->why_arg = total; return D_LOST; }
    Pkt *p = &j->cur;
    Seg *s = &p->s;
    memset(p, 0, sizeof *p);
    s->t = t;
    s->wscale = s->mss = -1;
    if (hl > 20) options(tcp, (int)(hl < tlen ? hl : tlen), s, &p->ign);
    if (tcp[13] & 0xC0) p->ign |= IGN_ECN;      /* ECE, CWR (RFC 3168) */
    if (tcp[13] & 0x20) p->ign |= IGN_URG;      /* URG (RFC 9293 3.8.5) */
    s->flags = tcp[13] & 0x1F;
    s->seq = rd32(tcp + 4, 1);
    s->ack = s->flags & F_ACK ? rd32(tcp + 8, 1) : 0;
    s->data = payload < 0xFFFF ? payload : 0xFFFF;
    s->win = rd16(tcp + 14);
    p->fam = 4;
    memcpy(p->src, net + 12, 4); memcpy(p->dst, net + 16, 4);
    p->sport = rd16(tcp); p->dport = rd16(tcp + 2);
    return D_TCP;
}

/* ---------------------------------------------------------------- the run */

static int own_share(const Judge *j, const Pkt *p) {
    if (j->jobs <= 1) return 1;
    int n = p->fam == 4 ? 4 : 16;
    int cmp = memcmp(p->src, p->dst, n);
    int a_first = cmp < 0 || (cmp == 0 && p->sport <= p->dport);
    uint8_t k[40] = {0};
    memcpy(k, a_first ? p->src : p->dst, 16);
    memcpy(k + 16, a_first ? p->dst : p->src, 16);
    uint32_t pa = a_first ? p->sport : p->dport, pb = a_first ? p->dport : p->sport;
    memcpy(k + 32, &pa, 4); memcpy(k + 36, &pb, 4);
    return (hash_bytes(k, sizeof k) >> 1) % (uint32_t)j->jobs == (uint32_t)j->share;   /* bit 0 is always set */
}

/* Copy the next n bytes of the file (read ahead with pread: the descriptor's offset is left
   alone, so processes forked by --jobs share it); fewer at its end, -1 on a read error. */
static int64_t bread(Judge *j, uint8_t *dst, int64_t n) {
    int64_t got = 0;
    while (got < n) {
        if (j->bpos == j->blen) {
            ssize_t r = pread(j->fd, j->buf, BUFSZ, (off_t)(j->boff + j->blen));
            if (r < 0) return -1;
            if (r == 0) break;
            j->boff += j->blen; j->blen = r; j->bpos = 0;
        }
        int64_t k = n - got < j->blen - j->bpos ? n - got : j->blen - j->bpos;
        memcpy(dst + got, j->buf + j->bpos, (size_t)k);
        j->bpos += k; got += k;
    }
    return got;
}

/* An ICMPv4 error (types 3, 4, 11, 12) quoting an IPv4 TCP header (its ports and SEQ), not a
   fragment: what capture.py's decode(..., icmp=True) reads as an IcmpError (RFC 9293 3.9.2.2). */
static int icmp_quotes_tcp(const uint8_t *net, int64_t nlen) {
    if (nlen < 20 || net[0] >> 4 != 4 || net[9] != 1 || (rd16(net + 6) & 0x3FFF)) return 0;
    int64_t ihl = (net[0] & 15) * 4;
    if (nlen < ihl + 8) return 0;
    const uint8_t *ic = net + ihl;
    if (ic[0] != 3 && ic[0] != 4 && ic[0] != 11 && ic[0] != 12) return 0;
    const uint8_t *q = ic + 8;
    int64_t qlen = nlen - ihl - 8;
    if (qlen < 20 || q[0] >> 4 != 4 || q[9] != 6) return 0;
    int64_t qihl = (q[0] & 15) * 4;
    return qihl >= 20 && qlen >= qihl + 8;
}

/* The 1-based number of the first frame of the pcap file on `fd` (`size` bytes, records after
   the 24-byte header) that holds an ICMPv4 error quoting TCP, 0 when none does, -1 on a read
   error. The native judge does not route ICMP errors to the connection they quote
   (CaptureJudge.icmp does): a capture holding one is judged by the Python engine
   (native.probe). Reads each record's header and at most its first 256 bytes. */
int64_t jd_scan_icmp(int fd, int64_t size, int be, int link) {
    uint8_t h[16], b[256];
    int64_t at = 24, n = 0;
    while (at + 16 <= size) {
        if (pread(fd, h, 16, (off_t)at) != 16) return -1;
        uint32_t caplen = rd32(h + 8, be);
        int64_t want = caplen < sizeof b ? caplen : (int64_t)sizeof b;
        if (want > size - at - 16) want = size - at - 16;
        ssize_t got = want > 0 ? pread(fd, b, (size_t)want, (off_t)(at + 16)) : 0;
        if (got < 0) return -1;
        n++;
        int64_t off;
        if (link_net(link, b, got, &off) == 0x0800 && icmp_quotes_tcp(b + off, got - off)) return n;
        at += 16 + (int64_t)caplen;
    }
    return 0;
}

/* Read the records of the pcap file open on `fd` after its 24-byte header (`size` bytes in
   all); 0 when the file was read to its end, else an E_* code (j->err_off: where). */
int jd_run(Judge *j, int fd, int64_t size) {
    if (!j->buf && !(j->buf = malloc(BUFSZ))) return E_MEMORY;
    j->fd = fd;
    j->boff = 24; j->blen = j->bpos = 0;
    int rc = 0;
    j->offset = 24;
    for (;;) {
        uint8_t h[16];
        int64_t got = bread(j, h, 16);
        if (got < 0) { rc = E_IO; break; }
        if (got == 0) break;
        if (got < 16) { rc = E_HEADER; j->err_off = j->offset; break; }
        uint32_t sec = rd32(h, j->be), frac = rd32(h + 4, j->be), caplen = rd32(h + 8, j->be);
        uint32_t wire = rd32(h + 12, j->be);
        if (caplen > MAXREC) { rc = E_OVERSIZED; j->err_off = j->offset; j->err_declared = caplen; break; }
        int64_t held = size - j->offset - 16;
        int64_t want = (int64_t)caplen < held ? (int64_t)caplen : (held > 0 ? held : 0);
        if ((size_t)want > j->frame_cap) {
            size_t cap = j->frame_cap ? j->frame_cap : 4096;
            while (cap < (size_t)want) cap *= 2;
            uint8_t *fr = realloc(j->frame, cap);
            if (!fr) { rc = E_MEMORY; break; }
            j->frame = fr; j->frame_cap = cap;
        }
        j->frame_len = bread(j, j->frame, want);
        if (j->frame_len < 0) { rc = E_IO; break; }
        double t;
        if (j->nano) {
            char buf[48];
            uint64_t ns = (uint64_t)sec * 1000000000ULL + frac;
            snprintf(buf, sizeof buf, "%llu.%09llu", (unsigned long long)(ns / 1000000000ULL),
                     (unsigned long long)(ns % 1000000000ULL));
            t = strtod(buf, NULL);
        } else {
            t = (double)sec + (double)frac / 1e6;
        }
        int64_t at = j->offset;
        j->offset += 16 + j->frame_len;
        j->frames++;
        if ((int64_t)caplen > j->frame_len) {        /* the file ends inside this record */
            rc = E_RECORD; j->err_off = at; j->err_declared = caplen; j->err_held = j->frame_len;
            break;
        }
        if (j->frames % TICK == 0 && j->cb(CB_TICK, 0, 0)) { rc = E_CALLBACK; break; }
        j->last_frame_t = t;
        int d = decode(j, t, wire);
        if (d < 0) { rc = E_CALLBACK; break; }
        if (d == D_NOT_TCP) j->non_tcp++;
        else if (d == D_FRAGMENT) j->fragments++;
        else if (d == D_MALFORMED) j->malformed++;
        else if (d == D_LOST) {
            if (j->why == 5) j->fragments++; else j->malformed++;
            j->lost++;
            if ((rc = lose(j))) break;
        } else {
            j->tcp++;
            j->cur.index = j->tcp - 1;
            if (own_share(j, &j->cur)) {
                j->judged_segments++;
                if ((rc = judge_packet(j))) break;
                if (j->oom) { rc = E_MEMORY; break; }
            }
        }
    }
    j->err = rc;
    return rc;
}

/* The sizes of the structures Python mirrors (native.py checks them before use). */
int64_t jd_sizeof(int which) {
    switch (which) {
    case 0: return sizeof(Seg);
    case 1: return sizeof(Pkt);
    case 2: return sizeof(Mon);
    case 3: return sizeof(Conn);
    case 4: return sizeof(TKey);
    case 5: return sizeof(TVal);
    case 6: return offsetof(Mon, mode);
    case 7: return sizeof(Ring);
    case 8: return sizeof(Cross);
    case 9: return SLOTS;
    default: return -1;
    }
}

#define GETTER(name, type) type jd_##name(const Judge *j) { return j->name; }
GETTER(frames, int64_t)
GETTER(tcp, int64_t)
GETTER(non_tcp, int64_t)
GETTER(fragments, int64_t)
GETTER(malformed, int64_t)
GETTER(lost, int64_t)
GETTER(judged_segments, int64_t)
GETTER(connections, int64_t)
GETTER(max_live_seen, int32_t)
GETTER(err_off, int64_t)
GETTER(err_declared, int64_t)
GETTER(err_held, int64_t)
GETTER(tn, uint64_t)
GETTER(fast_steps, int64_t)
GETTER(python_steps, int64_t)
GETTER(finished, int64_t)
