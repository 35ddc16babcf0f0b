// Command shim drives gVisor's netstack TCP (Debian golang-inet-netstack-dev, the
// inet.af/netstack fork of gVisor's tcpip) for synack's conformance test kit.
//
// It speaks the kit's driver protocol (WIRE.md: JSON Lines, one request in, one reply
// out) on stdin/stdout. The stack runs on a channel link endpoint (whole IPv4
// datagrams in with InjectInbound, out from the channel) and on a virtual clock of
// this file's own (tcpip.Clock): time moves only on "advance", from one timer
// deadline to the next, so runs are fast and repeat exactly.
//
// netstack processes segments and timers in goroutines of its own. After every
// request the shim waits until none of them can run (quiesce), so that a reply
// reflects everything the stack did with the request, and every packet it sent is
// stamped with the virtual time at which it was sent.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"inet.af/netstack/tcpip"
	"inet.af/netstack/tcpip/buffer"
	"inet.af/netstack/tcpip/header"
	"inet.af/netstack/tcpip/link/channel"
	"inet.af/netstack/tcpip/network/ipv4"
	"inet.af/netstack/tcpip/stack"
	"inet.af/netstack/tcpip/transport/tcp"
	"inet.af/netstack/waiter"
)

const stackName = "gVisor netstack (inet.af/netstack 0.0~git20211120)"

// ---- virtual clock ----

// vclock is a tcpip.Clock whose time moves only in advance(); unlike faketime's
// ManualClock it tells the next deadline, so advance can let the stack's goroutines
// settle after each timer before looking for the next one (a timer a callback
// arms is then honoured within the same advance).
type vclock struct {
	mu     sync.Mutex
	now    int64 // nanoseconds since the shim started
	seq    uint64
	timers map[*vtimer]struct{}
}

type vtimer struct {
	c   *vclock
	f   func()
	at  int64
	seq uint64
	on  bool
}

func newClock() *vclock { return &vclock{timers: map[*vtimer]struct{}{}} }

var epoch = time.Unix(1600000000, 0)

func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return epoch.Add(time.Duration(c.now))
}

func (c *vclock) NowMonotonic() tcpip.MonotonicTime {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m tcpip.MonotonicTime
	// A non-zero origin: netstack treats the zero MonotonicTime as "never".
	return m.Add(time.Duration(c.now) + time.Second)
}

func (c *vclock) AfterFunc(d time.Duration, f func()) tcpip.Timer {
	t := &vtimer{c: c, f: f}
	t.Reset(d)
	return t
}

func (t *vtimer) Reset(d time.Duration) {
	c := t.c
	c.mu.Lock()
	delete(c.timers, t)
	t.on = false
	if d <= 0 {
		c.mu.Unlock()
		go t.f() // as a real timer: never on the caller's stack (it may hold locks)
		return
	}
	at := c.now + int64(d)
	if at < c.now { // netstack arms idle timers with math.MaxInt64
		at = math.MaxInt64
	}
	c.seq++
	t.at, t.seq, t.on = at, c.seq, true
	c.timers[t] = struct{}{}
	c.mu.Unlock()
}

func (t *vtimer) Stop() bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	was := t.on
	t.on = false
	delete(c.timers, t)
	return was
}

// next returns the earliest armed deadline.
func (c *vclock) next() (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	best, ok := int64(math.MaxInt64), false
	for t := range c.timers {
		if t.at < best {
			best, ok = t.at, true
		}
	}
	return best, ok
}

// fireAt moves the clock to `at` and starts, in arming order, the timers due then.
func (c *vclock) fireAt(at int64) {
	c.mu.Lock()
	c.now = at
	var due []*vtimer
	for t := range c.timers {
		if t.at <= at {
			due = append(due, t)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].seq < due[j].seq })
	for _, t := range due {
		t.on = false
		delete(c.timers, t)
	}
	c.mu.Unlock()
	for _, t := range due {
		go t.f()
		quiesce()
	}
}

func (c *vclock) nowMs() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return float64(c.now) / 1e6
}

// ---- quiescence ----

var stackBuf = make([]byte, 1<<20)

// busy tells whether a goroutine other than the caller is running or runnable.
func busy() bool {
	n := runtime.Stack(stackBuf, true)
	first := true
	for _, line := range bytes.Split(stackBuf[:n], []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("goroutine ")) {
			continue
		}
		if first { // the caller's own goroutine comes first
			first = false
			continue
		}
		if bytes.Contains(line, []byte("[running")) || bytes.Contains(line, []byte("[runnable")) {
			return true
		}
	}
	return false
}

// quiesce yields until the stack's goroutines have all blocked (bounded: 5 s of
// real time), then takes what the stack sent into the outbox at the current time.
func quiesce() {
	deadline := time.Now().Add(5 * time.Second)
	for idle := 0; idle < 3 && time.Now().Before(deadline); {
		runtime.Gosched()
		if busy() {
			idle = 0
		} else {
			idle++
		}
	}
	drain()
}

// ---- the stack ----

type outPkt struct {
	T  float64 `json:"t_ms"`
	IP string  `json:"ip"`
}

type event struct {
	Sock int     `json:"sock"`
	T    float64 `json:"t_ms"`
	Kind string  `json:"kind"`
}

type sock struct {
	ep       tcpip.Endpoint
	wq       *waiter.Queue
	listener bool
	// what was reported already
	established, pending, readable, eof, done bool
	err                                       tcpip.Error // the hard error, read once from the stack
}

var (
	clk     *vclock
	st      *stack.Stack
	link    *channel.Endpoint
	iutAddr tcpip.Address
	peer    tcpip.Address
	outbox  []outPkt
	events  []event
	socks   = map[int]*sock{}
	nextID  = 1
)

func drain() {
	if link == nil {
		return
	}
	for {
		p, ok := link.Read()
		if !ok {
			return
		}
		var b []byte
		for _, v := range p.Pkt.Views() {
			b = append(b, v...)
		}
		outbox = append(outbox, outPkt{clk.nowMs(), hex.EncodeToString(b)})
	}
}

// seededReader is a deterministic stand-in for the stack's secure RNG, so that
// ports, ISNs and hash seeds repeat from run to run.
type seededReader struct{ r *rand.Rand }

func (s seededReader) Read(p []byte) (int, error) { return s.r.Read(p) }

func ip4(s string) (tcpip.Address, error) {
	ip := net.ParseIP(s).To4()
	if ip == nil {
		return "", fmt.Errorf("not an IPv4 address: %q", s)
	}
	return tcpip.Address(ip), nil
}

func initStack(iut, peerS string, mss int, seed int64) error {
	if st != nil {
		return fmt.Errorf("already initialised")
	}
	a, err := ip4(iut)
	if err != nil {
		return err
	}
	p, err := ip4(peerS)
	if err != nil {
		return err
	}
	iutAddr, peer = a, p
	clk = newClock()
	st = stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
		Clock:              clk,
		RandSource:         rand.NewSource(seed),
		SecureRNG:          seededReader{rand.New(rand.NewSource(seed + 1))},
	})
	// The MTU sets the MSS netstack announces: MSS + 20 (IPv4) + 20 (TCP).
	link = channel.New(4096, uint32(mss+40), "")
	if e := st.CreateNIC(1, link); e != nil {
		return fmt.Errorf("CreateNIC: %s", e)
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: iutAddr, PrefixLen: 24}}
	if e := st.AddProtocolAddress(1, pa, stack.AddressProperties{}); e != nil {
		return fmt.Errorf("AddProtocolAddress: %s", e)
	}
	st.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: 1}})
	return nil
}

func errno(e tcpip.Error) string {
	switch e.(type) {
	case *tcpip.ErrWouldBlock:
		return "EAGAIN"
	case *tcpip.ErrConnectionRefused:
		return "ECONNREFUSED"
	case *tcpip.ErrConnectionReset:
		return "ECONNRESET"
	case *tcpip.ErrConnectionAborted, *tcpip.ErrAborted:
		return "ECONNABORTED"
	case *tcpip.ErrTimeout:
		return "ETIMEDOUT"
	case *tcpip.ErrClosedForSend:
		return "EPIPE"
	case *tcpip.ErrNotConnected:
		return "ENOTCONN"
	case *tcpip.ErrPortInUse, *tcpip.ErrAlreadyBound:
		return "EADDRINUSE"
	case *tcpip.ErrBadLocalAddress:
		return "EADDRNOTAVAIL"
	case *tcpip.ErrInvalidEndpointState, *tcpip.ErrInvalidOptionValue:
		return "EINVAL"
	case *tcpip.ErrConnectStarted:
		return "EINPROGRESS"
	case *tcpip.ErrAlreadyConnecting:
		return "EALREADY"
	case *tcpip.ErrAlreadyConnected:
		return "EISCONN"
	case *tcpip.ErrUnknownProtocolOption, *tcpip.ErrNotSupported:
		return "ENOPROTOOPT"
	case *tcpip.ErrNoRoute, *tcpip.ErrNetworkUnreachable:
		return "EHOSTUNREACH"
	case *tcpip.ErrNoPortAvailable:
		return "EAGAIN"
	case *tcpip.ErrNoBufferSpace:
		return "ENOBUFS"
	}
	return "EIO"
}

func addSock(ep tcpip.Endpoint, wq *waiter.Queue, listener bool) int {
	id := nextID
	nextID++
	socks[id] = &sock{ep: ep, wq: wq, listener: listener}
	return id
}

// state returns the socket's TCP state. In the error state it first takes the stack's
// hard error and keeps it: netstack hands that error out only once (to LastError, Read
// or Write, whichever asks first), and the shim, as the application, needs it for
// every later call and for the event that ends the connection.
func (s *sock) state() tcp.EndpointState {
	st := tcp.EndpointState(s.ep.State())
	if st == tcp.StateError && s.err == nil {
		s.err = s.ep.LastError()
	}
	return st
}

// hardError is the error that ended the connection, or nil.
func (s *sock) hardError() tcpip.Error {
	s.state()
	return s.err
}

// observe appends the user-visible notifications that follow from each socket's
// state since the last look (in socket order, so runs repeat).
func observe() {
	ids := make([]int, 0, len(socks))
	for id := range socks {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	now := clk.nowMs()
	emit := func(id int, kind string) { events = append(events, event{id, now, kind}) }
	for _, id := range ids {
		s := socks[id]
		if s.done {
			continue
		}
		state := s.state()
		if s.listener {
			ready := s.ep.Readiness(waiter.ReadableEvents)&waiter.ReadableEvents != 0
			if ready && !s.pending && state == tcp.StateListen {
				emit(id, "accepted")
			}
			s.pending = ready
			continue
		}
		if !s.established && connected(state) {
			s.established = true
			emit(id, "established")
		}
		if connected(state) || state == tcp.StateClose || state == tcp.StateError {
			var cw countWriter
			res, e := s.ep.Read(&cw, tcpip.ReadOptions{Peek: true})
			r := e == nil && res.Count > 0
			if r && !s.readable {
				emit(id, "readable")
			}
			s.readable = r
		}
		switch state {
		case tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing, tcp.StateTimeWait:
			if !s.eof {
				s.eof = true
				emit(id, "eof")
			}
		case tcp.StateError:
			kind := "closed"
			switch s.hardError().(type) {
			case *tcpip.ErrConnectionReset:
				kind = "reset"
			case *tcpip.ErrConnectionRefused:
				kind = "refused"
			case *tcpip.ErrTimeout:
				kind = "timeout"
			}
			emit(id, kind)
			s.done = true
		case tcp.StateClose:
			emit(id, "closed")
			s.done = true
		}
	}
}

// connected mirrors netstack's unexported EndpointState.connected: the states
// after the handshake in which the endpoint still has a peer.
func connected(s tcp.EndpointState) bool {
	switch s {
	case tcp.StateEstablished, tcp.StateFinWait1, tcp.StateFinWait2, tcp.StateTimeWait,
		tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing:
		return true
	}
	return false
}

type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// ---- requests ----

type request struct {
	Op      string  `json:"op"`
	Iut     *string `json:"iut"`
	Peer    *string `json:"peer"`
	Mss     *int    `json:"mss"`
	Seed    *int64  `json:"seed"`
	Port    int     `json:"port"`
	Backlog *int    `json:"backlog"`
	Sock    int     `json:"sock"`
	Dport   int     `json:"dport"`
	Sport   int     `json:"sport"`
	Bytes   int     `json:"bytes"`
	Max     *int    `json:"max"`
	Name    string  `json:"name"`
	Value   int     `json:"value"`
	IP      string  `json:"ip"`
	Ms      float64 `json:"ms"`
}

type reply map[string]interface{}

func fail(e string) reply { return reply{"ok": false, "error": e} }

var filler = bytes.Repeat([]byte("synack-filler-"), 1<<12)

func handle(r *request) (rep reply, quit bool) {
	// A panic inside netstack on this goroutine (a user call) becomes an EIO reply with
	// the panic as its detail, so one bad call does not end the session; the stack's
	// own goroutines are not covered (their panics end the shim, and the kit says so).
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "shim: netstack panicked in %q: %v\n%s", r.Op, p, debug.Stack())
			rep, quit = reply{"ok": false, "error": "EIO", "detail": fmt.Sprintf("netstack panicked: %v", p)}, false
			quiesce()
			observe()
		}
	}()
	if r.Op == "quit" {
		return reply{"ok": true}, true
	}
	if r.Op == "init" {
		iut, pr, mss, seed := "10.0.0.2", "10.0.0.1", 1460, int64(1)
		if r.Iut != nil {
			iut = *r.Iut
		}
		if r.Peer != nil {
			pr = *r.Peer
		}
		if r.Mss != nil {
			mss = *r.Mss
		}
		if r.Seed != nil {
			seed = *r.Seed
		}
		if mss < 64 || mss > 65495 {
			return fail("EINVAL"), false
		}
		if err := initStack(iut, pr, mss, seed); err != nil {
			fmt.Fprintln(os.Stderr, "shim: init:", err)
			return fail("EINVAL"), false
		}
		quiesce()
		return reply{"ok": true, "clock": "virtual", "stack": stackName}, false
	}
	if st == nil {
		return fail("ENOTCONN"), false // every other request needs init first
	}
	rep = dispatch(r)
	quiesce()
	observe()
	return rep, false
}

func dispatch(r *request) reply {
	switch r.Op {
	case "listen":
		var wq waiter.Queue
		ep, e := st.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
		if e != nil {
			return fail(errno(e))
		}
		if e := ep.Bind(tcpip.FullAddress{Addr: iutAddr, Port: uint16(r.Port)}); e != nil {
			ep.Close()
			return fail(errno(e))
		}
		backlog := 4
		if r.Backlog != nil {
			backlog = *r.Backlog
		}
		if e := ep.Listen(backlog); e != nil {
			ep.Close()
			return fail(errno(e))
		}
		return reply{"ok": true, "sock": addSock(ep, &wq, true)}
	case "accept":
		s, ok := socks[r.Sock]
		if !ok || !s.listener {
			return fail("EBADF")
		}
		nep, nwq, e := s.ep.Accept(nil)
		if e != nil {
			return fail(errno(e))
		}
		id := addSock(nep, nwq, false)
		s.pending = false
		return reply{"ok": true, "sock": id}
	case "connect":
		var wq waiter.Queue
		ep, e := st.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
		if e != nil {
			return fail(errno(e))
		}
		if r.Sport != 0 {
			if e := ep.Bind(tcpip.FullAddress{Addr: iutAddr, Port: uint16(r.Sport)}); e != nil {
				ep.Close()
				return fail(errno(e))
			}
		}
		e = ep.Connect(tcpip.FullAddress{NIC: 1, Addr: peer, Port: uint16(r.Dport)})
		if _, started := e.(*tcpip.ErrConnectStarted); e != nil && !started {
			ep.Close()
			return fail(errno(e))
		}
		la, _ := ep.GetLocalAddress()
		return reply{"ok": true, "sock": addSock(ep, &wq, false), "sport": la.Port}
	case "send":
		s, ok := socks[r.Sock]
		if !ok || s.listener {
			return fail("EBADF")
		}
		if err := s.hardError(); err != nil {
			return fail(errno(err))
		}
		n := r.Bytes
		if n < 0 || n > len(filler) {
			return fail("EINVAL")
		}
		w, e := s.ep.Write(bytes.NewReader(filler[:n]), tcpip.WriteOptions{})
		if e != nil {
			return fail(errno(e))
		}
		return reply{"ok": true, "n": w}
	case "recv":
		s, ok := socks[r.Sock]
		if !ok || s.listener {
			return fail("EBADF")
		}
		max := 65535
		if r.Max != nil {
			max = *r.Max
		}
		s.state() // latch a hard error before Read takes it
		var cw countWriter
		res, e := s.ep.Read(&tcpip.LimitedWriter{W: &cw, N: int64(max)}, tcpip.ReadOptions{})
		switch e.(type) {
		case nil:
			return reply{"ok": true, "n": res.Count, "eof": false}
		case *tcpip.ErrClosedForReceive:
			if s.err != nil {
				return fail(errno(s.err))
			}
			return reply{"ok": true, "n": 0, "eof": true}
		}
		if s.err != nil {
			return fail(errno(s.err))
		}
		return fail(errno(e))
	case "shutdown":
		s, ok := socks[r.Sock]
		if !ok {
			return fail("EBADF")
		}
		if e := s.ep.Shutdown(tcpip.ShutdownWrite); e != nil {
			return fail(errno(e))
		}
		return reply{"ok": true}
	case "close", "abort":
		s, ok := socks[r.Sock]
		if !ok {
			return fail("EBADF")
		}
		if r.Op == "abort" {
			s.ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true, Timeout: 0})
		}
		s.ep.Close()
		return reply{"ok": true}
	case "setsockopt":
		s, ok := socks[r.Sock]
		if !ok {
			return fail("EBADF")
		}
		return setsockopt(s.ep, r.Name, r.Value)
	case "deliver":
		b, err := hex.DecodeString(r.IP)
		if err != nil || len(b) < header.IPv4MinimumSize || b[0]>>4 != 4 ||
			int(binary.BigEndian.Uint16(b[2:4])) != len(b) {
			return fail("EINVAL")
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Data: buffer.View(b).ToVectorisedView()})
		link.InjectInbound(ipv4.ProtocolNumber, pkt)
		return reply{"ok": true}
	case "advance":
		if r.Ms < 0 {
			return fail("EINVAL")
		}
		until := clk.now + int64(r.Ms*1e6)
		for i := 0; i < 1000000; i++ {
			quiesce()
			observe()
			at, ok := clk.next()
			if !ok || at > until {
				break
			}
			clk.fireAt(at)
		}
		clk.mu.Lock()
		clk.now = until
		clk.mu.Unlock()
		quiesce()
		return reply{"ok": true, "now_ms": clk.nowMs()}
	case "collect":
		drain()
		out := outbox
		outbox = nil
		if out == nil {
			out = []outPkt{}
		}
		return reply{"ok": true, "out": out}
	case "events":
		ev := events
		events = nil
		if ev == nil {
			ev = []event{}
		}
		return reply{"ok": true, "events": ev}
	}
	return fail("unsupported")
}

// setsockopt maps the kit's option names to netstack's, in Linux's units
// (keepidle/keepintvl/linger2 in seconds, user_timeout in milliseconds).
func setsockopt(ep tcpip.Endpoint, name string, v int) reply {
	var e tcpip.Error
	sec := time.Duration(v) * time.Second
	switch name {
	case "keepalive":
		ep.SocketOptions().SetKeepAlive(v != 0)
	case "keepidle":
		o := tcpip.KeepaliveIdleOption(sec)
		e = ep.SetSockOpt(&o)
	case "keepintvl":
		o := tcpip.KeepaliveIntervalOption(sec)
		e = ep.SetSockOpt(&o)
	case "keepcnt":
		e = ep.SetSockOptInt(tcpip.KeepaliveCountOption, v)
	case "nodelay":
		ep.SocketOptions().SetDelayOption(v == 0)
	case "maxseg":
		e = ep.SetSockOptInt(tcpip.MaxSegOption, v)
	case "linger2":
		o := tcpip.TCPLingerTimeoutOption(sec)
		e = ep.SetSockOpt(&o)
	case "user_timeout":
		o := tcpip.TCPUserTimeoutOption(time.Duration(v) * time.Millisecond)
		e = ep.SetSockOpt(&o)
	default:
		return fail("ENOPROTOOPT")
	}
	if e != nil {
		return fail(errno(e))
	}
	return reply{"ok": true}
}

func main() {
	runtime.GOMAXPROCS(1) // one goroutine at a time: runs repeat exactly
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<22)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		line := bytes.TrimSpace(in.Bytes())
		if len(line) == 0 {
			continue
		}
		var r request
		var rep reply
		quit := false
		if err := json.Unmarshal(line, &r); err != nil || r.Op == "" {
			rep = fail("EINVAL")
		} else {
			rep, quit = handle(&r)
		}
		if err := enc.Encode(rep); err != nil {
			os.Exit(1)
		}
		out.Flush()
		if quit {
			return
		}
	}
}

var _ io.Writer = (*countWriter)(nil)
