/* lwIP 2.1.3 (Debian's liblwip) under the driver protocol (docs/driver-protocol.md), sans-IO.
 *
 * The stack runs on this one thread with the raw TCP API; tcpip_init is never called, so no
 * tcpip thread exists and the unix port's core-locking checks stay off. Its one netif has no
 * link layer: `output` queues each IPv4 datagram the stack sends for `collect`, and `deliver`
 * hands a datagram to `ip_input`. Time is virtual: this program defines `sys_now`, which
 * the library calls through its PLT, so the executable's definition is the one it gets; `advance` moves the
 * clock from one due timeout to the next (`sys_timeouts_sleeptime`) running
 * `sys_check_timeouts` at each, so every 250 ms TCP tick runs at its own time.
 *
 * Receive window: data is counted on arrival and acknowledged to the stack (`tcp_recved`)
 * only when the user reads it, so unread data keeps the window closed as a socket would,
 * and `close` with unread data resets the connection (lwIP's LWIP_TCP_RST_ON_UNACKED_DATA
 * path in tcp_close_shutdown), as Linux does.
 */
#include <stdint.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "../wire/wire.h"

static u32_t now_ms;

/* The stack's clock (overrides the unix port's real-time one). */
u32_t sys_now(void) { return now_ms; }

#define MAXSOCK 256
#define MAXPENDING 64

struct sock {
    int used;
    struct tcp_pcb *pcb;       /* NULL once lwIP freed it (reset, abort, timeout) or we let go */
    int listening;
    int pending[MAXPENDING];   /* accepted sockets not yet taken by `accept` */
    int npending;
    size_t rx;                 /* bytes received and not yet read */
    int eof;                   /* a FIN arrived */
    int connecting;            /* SYN-SENT, for telling "refused" from "reset" */
    const char *error;         /* errno name reported once the pcb is gone */
    int ka, ka_idle, ka_intvl, ka_cnt, nodelay; /* options a listener passes to what it accepts */
};
static struct sock socks[MAXSOCK];
static struct netif nif;
static ip4_addr_t peer_addr;
static int initialized;
static char filler[65535];

static int sock_new(void)
{
    for (int i = 1; i < MAXSOCK; i++)
        if (!socks[i].used) {
            memset(&socks[i], 0, sizeof socks[i]);
            socks[i].used = 1;
            return i;
        }
    return -1;
}

static struct sock *sock_get(const char *line, int *id)
{
    int ok;
    long s = wire_int(line, "sock", &ok);
    if (!ok || s <= 0 || s >= MAXSOCK || !socks[s].used) return NULL;
    if (id) *id = (int)s;
    return &socks[s];
}

/* ------------------------------------------------------------------ the link */
static err_t link_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
    static uint8_t buf[65536];
    (void)n; (void)dst;
    u16_t len = pbuf_copy_partial(p, buf, p->tot_len, 0);
    wire_sent(now_ms, buf, len);
    return ERR_OK;
}

#if LWIP_IPV6
static err_t link_output6(struct netif *n, struct pbuf *p, const ip6_addr_t *dst)
{
    (void)n; (void)p; (void)dst;   /* IPv4 only: the kit speaks IPv4 */
    return ERR_OK;
}
#endif

static u16_t link_mtu = 1500;

static err_t link_init(struct netif *n)
{
    n->name[0] = 's';
    n->name[1] = 'k';
    n->output = link_output;
#if LWIP_IPV6
    n->output_ip6 = link_output6;
#endif
    n->mtu = link_mtu;
    n->flags = NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

/* ------------------------------------------------------------------ callbacks */
static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    int id = (int)(intptr_t)arg;
    (void)pcb; (void)err;
    if (!p) {
        socks[id].eof = 1;
        wire_event(id, now_ms, "eof");
        return ERR_OK;
    }
    socks[id].rx += p->tot_len;
    pbuf_free(p);
    wire_event(id, now_ms, "readable");
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    int id = (int)(intptr_t)arg;
    struct sock *s = &socks[id];
    s->pcb = NULL;
    if (err == ERR_RST) {
        s->error = s->connecting ? "ECONNREFUSED" : "ECONNRESET";
        wire_event(id, now_ms, s->connecting ? "refused" : "reset");
    } else if (err == ERR_ABRT) {          /* the stack gave up: retransmission or keep-alive */
        s->error = "ETIMEDOUT";
        wire_event(id, now_ms, "timeout");
    } else {
        s->error = "ENOTCONN";
        wire_event(id, now_ms, "closed");
    }
}

static void apply_opts(struct tcp_pcb *pcb, const struct sock *s)
{
    if (s->ka) ip_set_option(pcb, SOF_KEEPALIVE);
    if (s->ka_idle) pcb->keep_idle = (u32_t)s->ka_idle * 1000;
    if (s->ka_intvl) pcb->keep_intvl = (u32_t)s->ka_intvl * 1000;
    if (s->ka_cnt) pcb->keep_cnt = (u32_t)s->ka_cnt;
    if (s->nodelay) tcp_nagle_disable(pcb);
}

static void watch(struct tcp_pcb *pcb, int id)
{
    tcp_arg(pcb, (void *)(intptr_t)id);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
    int lid = (int)(intptr_t)arg, id;
    struct sock *l = &socks[lid];
    if (err != ERR_OK || !newpcb) return ERR_VAL;
    if (l->npending == MAXPENDING || (id = sock_new()) < 0) return ERR_MEM;   /* lwIP aborts it */
    socks[id].pcb = newpcb;
    watch(newpcb, id);
    apply_opts(newpcb, l);
    l->pending[l->npending++] = id;
    wire_event(lid, now_ms, "accepted");
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    int id = (int)(intptr_t)arg;
    (void)pcb; (void)err;
    socks[id].connecting = 0;
    wire_event(id, now_ms, "established");
    return ERR_OK;
}

/* ------------------------------------------------------------------ requests */
static void op_init(const char *line)
{
    char iut[64] = "10.0.0.2", peer[64] = "10.0.0.1";
    ip4_addr_t ip, mask, gw;
    int ok;
    long mss = wire_int(line, "mss", &ok);
    wire_str(line, "iut", iut, sizeof iut);
    wire_str(line, "peer", peer, sizeof peer);
    if (initialized) return wire_error("EALREADY");
    if (!ip4addr_aton(iut, &ip) || !ip4addr_aton(peer, &peer_addr)) return wire_error("EINVAL");
    if (ok && (mss < 64 || mss > 1460)) return wire_error("EINVAL");   /* TCP_MSS is 1460 */
    if (ok) link_mtu = (u16_t)(mss + 40);
    lwip_init();
    IP4_ADDR(&mask, 0, 0, 0, 0);    /* every address is on the link: the peer is reached directly */
    ip4_addr_set_zero(&gw);
    netif_add(&nif, &ip, &mask, &gw, NULL, link_init, ip_input);
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
    initialized = 1;
    wire_reply("{\"ok\":true,\"clock\":\"virtual\",\"stack\":\"lwIP %s\"}", LWIP_VERSION_STRING);
}

static void op_listen(const char *line)
{
    int ok, id;
    long port = wire_int(line, "port", &ok), backlog = wire_int(line, "backlog", NULL);
    struct tcp_pcb *pcb, *lpcb;
    err_t err;
    if (!ok || port <= 0 || port > 65535) return wire_error("EINVAL");
    if ((id = sock_new()) < 0) return wire_error("EMFILE");
    pcb = tcp_new();
    if (tcp_bind(pcb, IP_ANY_TYPE, (u16_t)port) != ERR_OK) {
        tcp_abort(pcb);
        socks[id].used = 0;
        return wire_error("EADDRINUSE");
    }
    lpcb = tcp_listen_with_backlog_and_err(pcb, (u8_t)(backlog > 0 && backlog < 255 ? backlog : 4), &err);
    if (!lpcb) {
        tcp_abort(pcb);
        socks[id].used = 0;
        return wire_error("ENOMEM");
    }
    socks[id].pcb = lpcb;
    socks[id].listening = 1;
    tcp_arg(lpcb, (void *)(intptr_t)id);
    tcp_accept(lpcb, on_accept);
    wire_reply("{\"ok\":true,\"sock\":%d}", id);
}

static void op_accept(const char *line)
{
    struct sock *s = sock_get(line, NULL);
    int id;
    if (!s || !s->listening) return wire_error("EBADF");
    if (!s->npending) return wire_error("EAGAIN");
    id = s->pending[0];
    memmove(s->pending, s->pending + 1, (size_t)--s->npending * sizeof s->pending[0]);
    wire_reply("{\"ok\":true,\"sock\":%d}", id);
}

static void op_connect(const char *line)
{
    int ok, id;
    long dport = wire_int(line, "dport", &ok), sport = wire_int(line, "sport", NULL);
    struct tcp_pcb *pcb;
    if (!ok || dport <= 0 || dport > 65535 || sport < 0 || sport > 65535) return wire_error("EINVAL");
    if ((id = sock_new()) < 0) return wire_error("EMFILE");
    pcb = tcp_new();
    if (sport && tcp_bind(pcb, IP_ANY_TYPE, (u16_t)sport) != ERR_OK) {
        tcp_abort(pcb);
        socks[id].used = 0;
        return wire_error("EADDRINUSE");
    }
    socks[id].pcb = pcb;
    socks[id].connecting = 1;
    watch(pcb, id);
    ip_addr_t dst;
    ip_addr_copy_from_ip4(dst, peer_addr);
    if (tcp_connect(pcb, &dst, (u16_t)dport, on_connected) != ERR_OK) {
        tcp_err(pcb, NULL);
        tcp_abort(pcb);
        socks[id].used = 0;
        return wire_error("EADDRNOTAVAIL");
    }
    wire_reply("{\"ok\":true,\"sock\":%d,\"sport\":%u}", id, pcb->local_port);
}

static void op_send(const char *line)
{
    struct sock *s = sock_get(line, NULL);
    int ok;
    long n = wire_int(line, "bytes", &ok);
    u16_t room;
    if (!s || s->listening) return wire_error("EBADF");
    if (!ok || n < 0) return wire_error("EINVAL");
    if (!s->pcb) return wire_error(s->error ? s->error : "EPIPE");
    room = tcp_sndbuf(s->pcb);
    if (n > room) n = room;
    if (n > (long)sizeof filler) n = sizeof filler;
    while (n > 0) {
        err_t err = tcp_write(s->pcb, filler, (u16_t)n, TCP_WRITE_FLAG_COPY);
        if (err == ERR_OK) break;
        if (err != ERR_MEM) return wire_error("EPIPE");      /* ERR_CONN: not in a sending state */
        n /= 2;                                               /* the segment queue is full: take less */
    }
    if (n == 0) return wire_error("EAGAIN");
    tcp_output(s->pcb);
    wire_reply("{\"ok\":true,\"n\":%ld}", n);
}

static void op_recv(const char *line)
{
    struct sock *s = sock_get(line, NULL);
    int ok;
    long max = wire_int(line, "max", &ok);
    size_t n;
    if (!s || s->listening) return wire_error("EBADF");
    if (!ok || max < 0) max = 65535;
    n = s->rx < (size_t)max ? s->rx : (size_t)max;
    if (n == 0 && !s->eof) {
        if (!s->pcb && s->error) {
            const char *e = s->error;
            s->error = "ENOTCONN";     /* the error is reported once, as a socket does */
            return wire_error(e);
        }
        return wire_error("EAGAIN");
    }
    s->rx -= n;
    if (s->pcb && n) tcp_recved(s->pcb, (u16_t)n);
    wire_reply("{\"ok\":true,\"n\":%zu,\"eof\":%s}", n, s->rx == 0 && s->eof ? "true" : "false");
}

static void op_shutdown(const char *line)
{
    struct sock *s = sock_get(line, NULL);
    if (!s || s->listening) return wire_error("EBADF");
    if (!s->pcb) return wire_error("ENOTCONN");
    /* ERR_CONN outside SYN-RECEIVED, ESTABLISHED and CLOSE-WAIT: ENOTCONN, as lwIP's own
     * sockets layer reports it (err_to_errno) */
    if (tcp_shutdown(s->pcb, 0, 1) != ERR_OK) return wire_error("ENOTCONN");
    wire_reply("{\"ok\":true}");
}

/* The user lets go of the socket: lwIP owns the pcb from here (its default receive callback
 * discards what still arrives), and nothing more is reported for it. */
static void release(int id)
{
    struct sock *s = &socks[id];
    if (s->listening)
        for (int i = 0; i < s->npending; i++) {
            struct sock *c = &socks[s->pending[i]];
            if (c->pcb) {
                tcp_err(c->pcb, NULL);
                tcp_abort(c->pcb);
            }
            c->used = 0;
        }
    s->used = 0;
}

static void op_close(const char *line)
{
    int id;
    struct sock *s = sock_get(line, &id);
    if (!s) return wire_error("EBADF");
    if (s->pcb) {
        struct tcp_pcb *pcb = s->pcb;
        if (!s->listening) {
            tcp_arg(pcb, NULL);
            tcp_recv(pcb, NULL);
            tcp_err(pcb, NULL);
        }
        if (tcp_close(pcb) != ERR_OK) {      /* no memory for the FIN: lwIP's advice is to abort */
            tcp_abort(pcb);
        }
    }
    release(id);
    wire_reply("{\"ok\":true}");
}

static void op_abort(const char *line)
{
    int id;
    struct sock *s = sock_get(line, &id);
    if (!s) return wire_error("EBADF");
    if (s->pcb) {
        if (s->listening) {
            tcp_close(s->pcb);
        } else {
            tcp_err(s->pcb, NULL);
            tcp_abort(s->pcb);
        }
    }
    release(id);
    wire_reply("{\"ok\":true}");
}

static void op_setsockopt(const char *line)
{
    struct sock *s = sock_get(line, NULL);
    char name[32];
    int ok;
    long v = wire_int(line, "value", &ok);
    if (!s) return wire_error("EBADF");
    if (!wire_str(line, "name", name, sizeof name) || !ok || v < 0) return wire_error("EINVAL");
    if (!strcmp(name, "keepalive")) s->ka = v != 0;
    else if (!strcmp(name, "keepidle")) s->ka_idle = (int)v;
    else if (!strcmp(name, "keepintvl")) s->ka_intvl = (int)v;
    else if (!strcmp(name, "keepcnt")) s->ka_cnt = (int)v;
    else if (!strcmp(name, "nodelay")) s->nodelay = v != 0;
    else return wire_error("ENOPROTOOPT");   /* maxseg, linger2, user_timeout: no lwIP knob */
    if (s->pcb && !s->listening) {
        if (!strcmp(name, "keepalive") && !v) ip_reset_option(s->pcb, SOF_KEEPALIVE);
        if (!strcmp(name, "nodelay") && !v) tcp_nagle_enable(s->pcb);
        apply_opts(s->pcb, s);
    } else if (s->pcb && !strcmp(name, "keepalive")) {
        if (v) ip_set_option(s->pcb, SOF_KEEPALIVE);
        else ip_reset_option(s->pcb, SOF_KEEPALIVE);
    }
    wire_reply("{\"ok\":true}");
}

static void op_deliver(const char *line)
{
    size_t len;
    uint8_t *data = wire_hex(line, "ip", &len);
    struct pbuf *p;
    if (!data || len < 20 || len > 65535) {
        free(data);
        return wire_error("EINVAL");
    }
    /* PBUF_RAM, one contiguous block of the datagram's size: Debian's liblwip 2.1.3 sizes its
     * PBUF_POOL blocks for a 592-byte buffer (memp_pools[MEMP_PBUF_POOL]->size 616) while
     * pbuf_alloc() fills a pool pbuf up to PBUF_POOL_BUFSIZE (1536), so a datagram over 592
     * bytes in a pool pbuf overflows its block (heap corruption; found by the kit's sizes) */
    p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
    if (!p) {
        free(data);
        return wire_error("ENOBUFS");
    }
    pbuf_take(p, data, (u16_t)len);
    free(data);
    if (nif.input(p, &nif) != ERR_OK) pbuf_free(p);
    wire_reply("{\"ok\":true}");
}

/* Let `ms` pass: run every timeout at the time it is due. */
static void op_advance(const char *line)
{
    int ok;
    long ms = wire_int(line, "ms", &ok);
    u32_t target;
    if (!ok || ms < 0) return wire_error("EINVAL");
    target = now_ms + (u32_t)ms;
    sys_check_timeouts();
    for (long guard = 0; guard < 100000000L; guard++) {
        u32_t sleep = sys_timeouts_sleeptime();
        if (sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE || sleep >= target - now_ms) break;
        now_ms += sleep ? sleep : 1;
        sys_check_timeouts();
    }
    now_ms = target;
    sys_check_timeouts();
    wire_reply("{\"ok\":true,\"now_ms\":%u}", now_ms);
}

static int ready(void) { return initialized; }

static const struct wire_op ops[] = {
    {"listen", op_listen}, {"accept", op_accept}, {"connect", op_connect}, {"send", op_send},
    {"recv", op_recv}, {"shutdown", op_shutdown}, {"close", op_close}, {"abort", op_abort},
    {"setsockopt", op_setsockopt}, {"deliver", op_deliver}, {"advance", op_advance}, {NULL, NULL},
};

int main(void)
{
    memset(filler, 'x', sizeof filler);
    wire_serve(op_init, ready, ops);
    return 0;
}
