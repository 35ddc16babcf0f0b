/* libslirp 4.7's TCP (Debian's libslirp, descended from 4.4BSD's tcp_input.c) under the
 * driver protocol (docs/driver-protocol.md).
 *
 * Which TCP is under test. slirp is a user-mode NAT: it terminates the guest's TCP
 * connections in its own BSD-derived TCP and relays each one to a host socket. The kit
 * plays the *guest* (address `peer`); the IUT is slirp's TCP facing it, which answers as
 * slirp's virtual host address (`iut`, slirp's vhost). The user calls of the protocol act
 * on the *host* side of the relay, through real loopback sockets this shim owns:
 *
 *   listen(port)        a host socket listening on 127.0.0.1:port. A guest SYN to iut:port
 *                       makes slirp connect() to 127.0.0.1:port (tcp_fconnect) and answer
 *                       SYN,ACK once that connect completes; with no listener, the host
 *                       refuses and slirp answers RST,ACK.
 *   accept              accept() on that host socket.
 *   connect(dport,sport) a host socket bound to 127.0.0.1:sport connects to a slirp
 *                       host-forward (slirp_add_hostfwd on a port of our choice, removed once
 *                       used) whose guest end is peer:dport; slirp accepts it (tcp_connect)
 *                       and sends SYN from iut:sport to the guest.
 *   send/recv           write()/read() on the host socket; slirp relays to and from its TCP.
 *   shutdown            shutdown(SHUT_WR): slirp reads EOF and sends FIN (tcp_sockclosed).
 *   close               close(): the same FIN; data the guest sends later meets the closed
 *                       host socket and slirp resets the connection.
 *   abort               SO_LINGER 0 then close(): the host RST makes slirp's read fail with
 *                       ECONNRESET, and slirp drops the connection with RST (tcp_drop).
 *   setsockopt          ENOPROTOOPT: slirp's TCP has no per-connection options (its
 *                       keep-alive switch, slirp_do_keepalive, is not exported).
 *
 * Notifications (`events`) report the host sockets, so "established" on connect means the
 * host's loopback connection to slirp is up, which happens before slirp's own handshake with
 * the guest: a relay accepts first and connects after.
 *
 * Isolation and time. As root the shim moves into a network namespace of its own (unshare)
 * with only loopback, so its host ports collide with nothing and vanish with it; otherwise it
 * uses the machine's loopback. slirp's clock is virtual (`clock_get_ns`); its TCP timers run in
 * slirp_pollfds_poll (the 2 ms delayed-ACK and 500 ms slow ticks), so `advance` steps the
 * clock to each next tick slirp_pollfds_fill asks for, polling the (real, loopback) host
 * sockets at each. Frames cross as Ethernet (slirp's interface): the shim adds and strips
 * the link header and announces the guest's MAC with a gratuitous ARP.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libslirp.h>

#include "../wire/wire.h"

static uint64_t now_ms;
static Slirp *slirp;
static struct in_addr iut_addr, peer_addr;
static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static uint8_t host_mac[6] = {0x52, 0x55, 0, 0, 0, 0};   /* slirp's: 52:55 then its IPv4 address */

/* ------------------------------------------------------------------ slirp's callbacks */
static ssize_t on_send_packet(const void *buf, size_t len, void *opaque);

static void on_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "slirp shim: guest error: %s\n", msg);
}

static int64_t on_clock(void *opaque)
{
    (void)opaque;
    return (int64_t)now_ms * 1000000;
}

struct vtimer { SlirpTimerCb cb; void *cb_opaque; int64_t expire; bool armed; struct vtimer *next; };
static struct vtimer *timers;

static void *on_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct vtimer *t = calloc(1, sizeof *t);
    (void)opaque;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->next = timers;
    timers = t;
    return t;
}

static void on_timer_free(void *timer, void *opaque)
{
    (void)opaque;
    for (struct vtimer **p = &timers; *p; p = &(*p)->next)
        if (*p == timer) {
            *p = ((struct vtimer *)timer)->next;
            free(timer);
            return;
        }
}

static void on_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    struct vtimer *t = timer;
    (void)opaque;
    t->expire = expire_ms;
    t->armed = true;
}

static void on_poll_fd(int fd, void *opaque) { (void)fd; (void)opaque; }
static void on_notify(void *opaque) { (void)opaque; }

static const SlirpCb callbacks = {
    .send_packet = on_send_packet,
    .guest_error = on_guest_error,
    .clock_get_ns = on_clock,
    .timer_new = on_timer_new,
    .timer_free = on_timer_free,
    .timer_mod = on_timer_mod,
    .register_poll_fd = on_poll_fd,
    .unregister_poll_fd = on_poll_fd,
    .notify = on_notify,
};

/* ------------------------------------------------------------------ the link */
static void guest_frame(uint16_t type, const void *payload, size_t len)
{
    uint8_t frame[14 + 65536];
    memcpy(frame, host_mac, 6);
    memcpy(frame + 6, guest_mac, 6);
    frame[12] = (uint8_t)(type >> 8);
    frame[13] = (uint8_t)type;
    memcpy(frame + 14, payload, len);
    slirp_input(slirp, frame, (int)(14 + len));
}

/* An ARP packet from the guest: gratuitous (who == whom) announces its MAC; else a reply. */
static void guest_arp(uint16_t op, struct in_addr target, const uint8_t *target_mac)
{
    uint8_t a[28] = {0, 1, 8, 0, 6, 4, 0, 0};
    a[7] = (uint8_t)op;
    memcpy(a + 8, guest_mac, 6);
    memcpy(a + 14, &peer_addr, 4);
    memcpy(a + 18, target_mac, 6);
    memcpy(a + 24, &target, 4);
    guest_frame(0x0806, a, sizeof a);
}

static ssize_t on_send_packet(const void *buf, size_t len, void *opaque)
{
    const uint8_t *f = buf;
    (void)opaque;
    if (len < 14) return (ssize_t)len;
    uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
    if (type == 0x0800) {
        wire_sent(now_ms, f + 14, len - 14);
    } else if (type == 0x0806 && len >= 14 + 28 && f[14 + 7] == 1 && !memcmp(f + 14 + 24, &peer_addr, 4)) {
        struct in_addr asker;                 /* slirp asks for the guest's MAC: answer */
        memcpy(&asker, f + 14 + 14, 4);
        guest_arp(2, asker, f + 14 + 8);
    }
    return (ssize_t)len;
}

/* ------------------------------------------------------------------ polling */
#define MAXPOLL 512
static struct pollfd pfds[MAXPOLL];
static int npfds;

static int add_poll(int fd, int events, void *opaque)
{
    (void)opaque;
    if (npfds == MAXPOLL) return -1;
    short ev = 0;
    if (events & SLIRP_POLL_IN) ev |= POLLIN;
    if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
    pfds[npfds] = (struct pollfd){.fd = fd, .events = ev};
    return npfds++;
}

static int get_revents(int idx, void *opaque)
{
    (void)opaque;
    if (idx < 0 || idx >= npfds) return 0;
    short r = pfds[idx].revents;
    int ev = 0;
    if (r & POLLIN) ev |= SLIRP_POLL_IN;
    if (r & POLLOUT) ev |= SLIRP_POLL_OUT;
    if (r & POLLPRI) ev |= SLIRP_POLL_PRI;
    if (r & POLLERR) ev |= SLIRP_POLL_ERR;
    if (r & POLLHUP) ev |= SLIRP_POLL_HUP;
    return ev;
}

static void fire_timers(void)
{
    for (int again = 1, guard = 0; again && guard < 64; guard++) {
        again = 0;
        for (struct vtimer *t = timers; t; t = t->next)
            if (t->armed && t->expire <= (int64_t)now_ms) {
                t->armed = false;
                t->cb(t->cb_opaque);
                again = 1;
                break;                       /* the callback may have changed the list */
            }
    }
}

/* One round of slirp's main loop at the current time; returns how many host fds were ready. */
static int poll_once(uint32_t *timeout)
{
    int ready;
    npfds = 0;
    slirp_pollfds_fill(slirp, timeout, add_poll, NULL);
    ready = poll(pfds, (nfds_t)npfds, 0);
    slirp_pollfds_poll(slirp, ready < 0, get_revents, NULL);
    fire_timers();
    return ready;
}

static void scan_host(void);
static int in_flight(void);

/* Let slirp and the loopback sockets settle at the current time. Loopback exchanges between
 * the shim's and slirp's host sockets normally complete inside the system calls, so a few
 * rounds of slirp's loop suffice; on a loaded machine the kernel may leave them to ksoftirqd,
 * so while any of them is still unacknowledged (`in_flight`) this waits, in real time and
 * briefly: the virtual clock does not move, so verdicts do not depend on the machine's load. */
static void settle(void)
{
    for (int waited = 0; waited < 200; waited++) {          /* at most about 200 ms */
        for (int i = 0; i < 8; i++) {
            uint32_t to = UINT32_MAX;
            if (poll_once(&to) <= 0) break;
        }
        if (!in_flight()) break;
        usleep(1000);
    }
    scan_host();
}

/* ------------------------------------------------------------------ the host side */
#define MAXSOCK 256
struct sock {
    int used, fd, listening, connecting;
    int told_accept, told_readable, told_eof, told_error;
};
static struct sock socks[MAXSOCK];

static int sock_new(int fd)
{
    for (int i = 1; i < MAXSOCK; i++)
        if (!socks[i].used) {
            memset(&socks[i], 0, sizeof socks[i]);
            socks[i].used = 1;
            socks[i].fd = fd;
            return i;
        }
    return -1;
}

static struct sock *sock_get(const char *line)
{
    int ok;
    long s = wire_int(line, "sock", &ok);
    if (!ok || s <= 0 || s >= MAXSOCK || !socks[s].used) return NULL;
    return &socks[s];
}

static const char *errname(int e)
{
    switch (e) {
    case EAGAIN: return "EAGAIN";
    case ECONNRESET: return "ECONNRESET";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EPIPE: return "EPIPE";
    case ENOTCONN: return "ENOTCONN";
    case EADDRINUSE: return "EADDRINUSE";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    default: return "EIO";
    }
}

/* Notifications from the host sockets' readiness, each reported once until the user acts. */
static void scan_host(void)
{
    for (int i = 1; i < MAXSOCK; i++) {
        struct sock *s = &socks[i];
        struct pollfd p;
        if (!s->used) continue;
        p = (struct pollfd){.fd = s->fd, .events = POLLIN | POLLOUT};
        if (poll(&p, 1, 0) <= 0) continue;
        if (s->listening) {
            if ((p.revents & POLLIN) && !s->told_accept) {
                s->told_accept = 1;
                wire_event(i, now_ms, "accepted");
            }
            continue;
        }
        if (s->connecting) {
            int err = 0;
            socklen_t el = sizeof err;
            if (!(p.revents & (POLLOUT | POLLERR | POLLHUP))) continue;
            getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
            s->connecting = 0;
            if (err) {
                s->told_error = 1;
                wire_event(i, now_ms, err == ECONNREFUSED ? "refused" : "reset");
            } else {
                wire_event(i, now_ms, "established");
            }
            continue;
        }
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            char c;
            ssize_t n = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n > 0 && !s->told_readable) {
                s->told_readable = 1;
                wire_event(i, now_ms, "readable");
            } else if (n == 0 && !s->told_eof) {
                s->told_eof = 1;
                wire_event(i, now_ms, "eof");
            } else if (n < 0 && errno != EAGAIN && !s->told_error) {
                s->told_error = 1;
                wire_event(i, now_ms, errno == ETIMEDOUT ? "timeout" : "reset");
            }
        }
    }
}

/* A TCP socket of this process with a SYN, data or FIN sent and not yet acknowledged. */
static int unacked(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_unacked > 0;
}

/* Whether loopback still carries something between the shim's sockets and slirp's. */
static int in_flight(void)
{
    for (int i = 1; i < MAXSOCK; i++)
        if (socks[i].used && !socks[i].listening && unacked(socks[i].fd)) return 1;
    for (int i = 0; i < npfds; i++)
        if (unacked(pfds[i].fd)) return 1;
    return 0;
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A slirp host-forward to the guest's `dport` on a fresh host port above Linux's ephemeral
 * range (so it never takes a port the kit asks for); removed once slirp has accepted the one
 * connection it is for (`unforward`), so ports cycle. */
#define FWD_LO 61000
#define FWD_HI 65000
static int next_fwd = FWD_LO;

static int forward_to(int dport)
{
    struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
    for (int tries = 0; tries < FWD_HI - FWD_LO; tries++) {
        int port = next_fwd;
        next_fwd = next_fwd + 1 < FWD_HI ? next_fwd + 1 : FWD_LO;
        if (slirp_add_hostfwd(slirp, 0, lo, port, peer_addr, dport) == 0) return port;
    }
    return 0;
}

static void unforward(int port)
{
    struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
    slirp_remove_hostfwd(slirp, 0, lo, port);
}

/* As root: a network namespace of our own with loopback up. */
static const char *isolate(void)
{
    struct ifreq ifr = {0};
    int fd;
    if (geteuid() != 0) return "not root: on the machine's loopback";
    if (unshare(CLONE_NEWNET) != 0) return "unshare failed: on the machine's loopback";
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    strcpy(ifr.ifr_name, "lo");
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) return "no loopback in the namespace";
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) return "cannot bring loopback up";
    close(fd);
    return NULL;
}

/* A host socket call failed: close the socket and reply with the call's errno. */
static void drop_fd(int fd)
{
    int e = errno;
    close(fd);
    wire_error(errname(e));
}

/* ------------------------------------------------------------------ requests */
static void op_init(const char *line)
{
    char iut[64] = "10.0.0.2", peer[64] = "10.0.0.1";
    SlirpConfig cfg = {0};
    struct in_addr mask, net, dhcp, dns;
    uint32_t host;
    int ok;
    long mss = wire_int(line, "mss", &ok);
    const char *why;
    wire_str(line, "iut", iut, sizeof iut);
    wire_str(line, "peer", peer, sizeof peer);
    if (slirp) return wire_error("EALREADY");
    if (!inet_aton(iut, &iut_addr) || !inet_aton(peer, &peer_addr)) return wire_error("EINVAL");
    if (!ok) mss = 1460;
    if (mss < 28 || mss > 65000) return wire_error("EINVAL");
    mask.s_addr = htonl(0xFFFFFF00);
    net.s_addr = iut_addr.s_addr & mask.s_addr;
    if ((peer_addr.s_addr & mask.s_addr) != net.s_addr || peer_addr.s_addr == iut_addr.s_addr)
        return wire_error("EINVAL");   /* slirp's guest and host share one /24 */
    /* slirp's DHCP start and DNS addresses: any two of the /24 other than iut and peer */
    host = ntohl(net.s_addr);
    dhcp.s_addr = dns.s_addr = 0;
    for (uint32_t h = 250; h > 3 && (!dhcp.s_addr || !dns.s_addr); h--) {
        struct in_addr a = {.s_addr = htonl(host | h)};
        if (a.s_addr == iut_addr.s_addr || a.s_addr == peer_addr.s_addr) continue;
        if (!dhcp.s_addr) dhcp = a;
        else dns = a;
    }
    if ((why = isolate())) fprintf(stderr, "slirp shim: %s\n", why);
    cfg.version = 4;
    cfg.restricted = 0;
    cfg.in_enabled = true;
    cfg.vnetwork = net;
    cfg.vnetmask = mask;
    cfg.vhost = iut_addr;
    cfg.in6_enabled = false;
    cfg.vdhcp_start = dhcp;
    cfg.vnameserver = dns;
    cfg.if_mtu = (size_t)mss + 40;
    cfg.if_mru = (size_t)mss + 40;
    cfg.disable_host_loopback = false;
    cfg.enable_emu = false;
    cfg.disable_dns = true;
    cfg.disable_dhcp = true;
    slirp = slirp_new(&cfg, &callbacks, NULL);
    if (!slirp) return wire_error("EINVAL");
    memcpy(host_mac + 2, &iut_addr, 4);
    guest_arp(1, peer_addr, (const uint8_t[6]){0});       /* gratuitous: slirp learns our MAC */
    settle();
    wire_reply("{\"ok\":true,\"clock\":\"virtual\",\"stack\":\"libslirp %s\"}", slirp_version_string());
}

static void op_listen(const char *line)
{
    int ok, one = 1, fd, id;
    long port = wire_int(line, "port", &ok), backlog = wire_int(line, "backlog", NULL);
    struct sockaddr_in a;
    if (!ok || port <= 0 || port > 65535) return wire_error("EINVAL");
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return wire_error(errname(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    a = loopback((int)port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, backlog > 0 ? (int)backlog : 4) != 0) {
        return drop_fd(fd);
    }
    if ((id = sock_new(fd)) < 0) {
        errno = EMFILE;
        return drop_fd(fd);
    }
    socks[id].listening = 1;
    wire_reply("{\"ok\":true,\"sock\":%d}", id);
}

static void op_accept(const char *line)
{
    struct sock *s = sock_get(line);
    int fd, id;
    if (!s || !s->listening) return wire_error("EBADF");
    fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK);
    s->told_accept = 0;
    if (fd < 0) return wire_error(errname(errno));
    if ((id = sock_new(fd)) < 0) {
        errno = EMFILE;
        return drop_fd(fd);
    }
    settle();
    wire_reply("{\"ok\":true,\"sock\":%d}", id);
}

static void op_connect(const char *line)
{
    int ok, one = 1, fd, id, hport;
    long dport = wire_int(line, "dport", &ok), sport = wire_int(line, "sport", NULL);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    if (!ok || dport <= 0 || dport > 65535 || sport < 0 || sport > 65535) return wire_error("EINVAL");
    if (!(hport = forward_to((int)dport))) return wire_error("EADDRINUSE");
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return wire_error(errname(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    a = loopback((int)sport);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        return drop_fd(fd);
    }
    a = loopback(hport);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        return drop_fd(fd);
    }
    if ((id = sock_new(fd)) < 0) {
        errno = EMFILE;
        return drop_fd(fd);
    }
    socks[id].connecting = 1;
    getsockname(fd, (struct sockaddr *)&a, &al);
    settle();                       /* slirp accepts the host connection and sends its SYN */
    unforward(hport);
    wire_reply("{\"ok\":true,\"sock\":%d,\"sport\":%u}", id, ntohs(a.sin_port));
}

static char filler[65536];

static void op_send(const char *line)
{
    struct sock *s = sock_get(line);
    int ok;
    long n = wire_int(line, "bytes", &ok);
    ssize_t w;
    if (!s || s->listening) return wire_error("EBADF");
    if (!ok || n < 0) return wire_error("EINVAL");
    if (n > (long)sizeof filler) n = sizeof filler;
    w = send(s->fd, filler, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) return wire_error(errname(errno));
    settle();
    wire_reply("{\"ok\":true,\"n\":%zd}", w);
}

static void op_recv(const char *line)
{
    static char buf[65536];
    struct sock *s = sock_get(line);
    int ok;
    long max = wire_int(line, "max", &ok);
    ssize_t r;
    if (!s || s->listening) return wire_error("EBADF");
    if (!ok || max <= 0 || max > (long)sizeof buf) max = sizeof buf;
    r = recv(s->fd, buf, (size_t)max, MSG_DONTWAIT);
    s->told_readable = 0;
    if (r < 0) return wire_error(errname(errno));
    settle();                                /* room in the host socket: slirp may write more */
    wire_reply("{\"ok\":true,\"n\":%zd,\"eof\":%s}", r, r == 0 ? "true" : "false");
}

static void op_shutdown(const char *line)
{
    struct sock *s = sock_get(line);
    if (!s || s->listening) return wire_error("EBADF");
    if (shutdown(s->fd, SHUT_WR) != 0) return wire_error(errname(errno));
    settle();
    wire_reply("{\"ok\":true}");
}

static void op_close(const char *line, int abortive)
{
    struct sock *s = sock_get(line);
    if (!s) return wire_error("EBADF");
    if (abortive && !s->listening) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(s->fd);
    s->used = 0;
    settle();
    wire_reply("{\"ok\":true}");
}

static void op_deliver(const char *line)
{
    size_t len;
    uint8_t *data = wire_hex(line, "ip", &len);
    if (!data || len < 20 || len > 65535) {
        free(data);
        return wire_error("EINVAL");
    }
    guest_frame(0x0800, data, len);
    free(data);
    settle();
    wire_reply("{\"ok\":true}");
}

/* Let `ms` pass, stopping at every tick slirp asks for and every virtual timer. */
static void op_advance(const char *line)
{
    int ok;
    long ms = wire_int(line, "ms", &ok);
    uint64_t target;
    if (!ok || ms < 0) return wire_error("EINVAL");
    target = now_ms + (uint64_t)ms;
    for (long guard = 0; now_ms < target && guard < 50000000L; guard++) {
        uint32_t to = UINT32_MAX;
        uint64_t step;
        npfds = 0;
        slirp_pollfds_fill(slirp, &to, add_poll, NULL);
        step = to ? to : 1;
        for (struct vtimer *t = timers; t; t = t->next)
            if (t->armed && (uint64_t)t->expire > now_ms && (uint64_t)t->expire - now_ms < step)
                step = (uint64_t)t->expire - now_ms;
        if (step > target - now_ms) step = target - now_ms;
        now_ms += step;
        int ready = poll(pfds, (nfds_t)npfds, 0);
        slirp_pollfds_poll(slirp, ready < 0, get_revents, NULL);
        fire_timers();
    }
    settle();
    wire_reply("{\"ok\":true,\"now_ms\":%llu}", (unsigned long long)now_ms);
}

static void op_closeplain(const char *line) { op_close(line, 0); }
static void op_abort(const char *line) { op_close(line, 1); }

static void op_setsockopt(const char *line)
{
    wire_error(sock_get(line) ? "ENOPROTOOPT" : "EBADF");   /* nothing reaches slirp's TCP */
}

static int ready(void) { return slirp != NULL; }

static const struct wire_op ops[] = {
    {"listen", op_listen}, {"accept", op_accept}, {"connect", op_connect}, {"send", op_send},
    {"recv", op_recv}, {"shutdown", op_shutdown}, {"close", op_closeplain}, {"abort", op_abort},
    {"setsockopt", op_setsockopt}, {"deliver", op_deliver}, {"advance", op_advance}, {NULL, NULL},
};

int main(void)
{
    memset(filler, 'x', sizeof filler);
    wire_serve(op_init, ready, ops);
    if (slirp) slirp_cleanup(slirp);
    return 0;
}
