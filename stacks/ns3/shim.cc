// shim: drives ns-3.37's TCP (Debian libns3-dev) for synack's conformance test kit.
//
// It speaks the kit's driver protocol (WIRE.md: JSON Lines, one request in, one reply
// out) on stdin/stdout. One ns-3 node runs the internet stack; its only device is a
// point-to-point-like NetDevice of this file (ShimDevice): what IPv4 hands it to send
// is serialized to bytes and kept with the simulator's time, and a delivered datagram
// is handed to IPv4 through the device's receive callback. Time is ns-3's virtual
// time: it moves only on "advance" (Simulator::Stop + Run), so runs are fast and
// repeat exactly.
//
// ns-3's socket API has no ABORT (no SO_LINGER), no keep-alive and no
// FIN-WAIT-2/user timeouts: those requests answer "unsupported" / ENOPROTOOPT, and the
// kit reports the rows that need them as not drivable.

#include "ns3/boolean.h"
#include "ns3/channel.h"
#include "ns3/config.h"
#include "ns3/global-value.h"
#include "ns3/inet-socket-address.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-interface-address.h"
#include "ns3/ipv4.h"
#include "ns3/mac48-address.h"
#include "ns3/net-device.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/tcp-socket-base.h"
#include "ns3/tcp-socket-factory.h"
#include "ns3/uinteger.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

using namespace ns3;
using json = nlohmann::json;

static const char* kStackName = "ns-3.37 TcpSocketBase";

// ---------------------------------------------------------------- the device

struct OutPacket
{
    double tMs;
    std::string hex;
};

static std::vector<OutPacket> g_out;

static std::string
ToHex(const std::vector<uint8_t>& b)
{
    static const char* d = "0123456789abcdef";
    std::string s;
    s.reserve(b.size() * 2);
    for (uint8_t c : b)
    {
        s.push_back(d[c >> 4]);
        s.push_back(d[c & 15]);
    }
    return s;
}

static int64_t g_nominalNs = 0; // the sum of the kit's advances: the clock the kit sees

/// The time on the kit's clock: the simulator's, but never past the sum of the advances.
/// Each request runs what it scheduled one time step (1 ns) ahead (see Settle); those
/// steps are not the kit's time, and the clock must not run ahead of the trace.
static double
NowMs()
{
    return std::min(Simulator::Now().GetNanoSeconds(), g_nominalNs) / 1e6;
}

/// A link with no header and no ARP: IPv4 datagrams out to the shim's outbox, in from
/// the shim's "deliver".
class ShimDevice : public NetDevice
{
  public:
    static TypeId GetTypeId()
    {
        static TypeId tid =
            TypeId("ns3::SynackShimDevice").SetParent<NetDevice>().AddConstructor<ShimDevice>();
        return tid;
    }

    void Deliver(const std::vector<uint8_t>& ip)
    {
        Ptr<Packet> p = Create<Packet>(ip.data(), ip.size());
        if (!m_rx.IsNull())
        {
            m_rx(this, p, 0x0800, m_peerMac);
        }
    }

    void SetIfIndex(const uint32_t index) override { m_ifIndex = index; }
    uint32_t GetIfIndex() const override { return m_ifIndex; }
    Ptr<Channel> GetChannel() const override { return nullptr; }
    void SetAddress(Address address) override { m_mac = Mac48Address::ConvertFrom(address); }
    Address GetAddress() const override { return m_mac; }
    bool SetMtu(const uint16_t mtu) override
    {
        m_mtu = mtu;
        return true;
    }
    uint16_t GetMtu() const override { return m_mtu; }
    bool IsLinkUp() const override { return true; }
    void AddLinkChangeCallback(Callback<void>) override {}
    bool IsBroadcast() const override { return true; }
    Address GetBroadcast() const override { return Mac48Address::GetBroadcast(); }
    bool IsMulticast() const override { return false; }
    Address GetMulticast(Ipv4Address) const override { return Mac48Address::GetBroadcast(); }
    Address GetMulticast(Ipv6Address) const override { return Mac48Address::GetBroadcast(); }
    bool IsBridge() const override { return false; }
    bool IsPointToPoint() const override { return true; }

    bool Send(Ptr<Packet> packet, const Address&, uint16_t protocolNumber) override
    {
        if (protocolNumber != 0x0800)
        {
            return false; // IPv4 only
        }
        std::vector<uint8_t> b(packet->GetSize());
        packet->CopyData(b.data(), b.size());
        g_out.push_back({NowMs(), ToHex(b)});
        return true;
    }

    bool SendFrom(Ptr<Packet> packet, const Address&, const Address& dest, uint16_t proto) override
    {
        return Send(packet, dest, proto);
    }

    Ptr<Node> GetNode() const override { return m_node; }
    void SetNode(Ptr<Node> node) override { m_node = node; }
    bool NeedsArp() const override { return false; }
    void SetReceiveCallback(ReceiveCallback cb) override { m_rx = cb; }
    void SetPromiscReceiveCallback(PromiscReceiveCallback) override {}
    bool SupportsSendFrom() const override { return false; }

  private:
    uint32_t m_ifIndex = 0;
    uint16_t m_mtu = 1500;
    Mac48Address m_mac = Mac48Address("02:00:00:00:00:02");
    Mac48Address m_peerMac = Mac48Address("02:00:00:00:00:01");
    Ptr<Node> m_node;
    ReceiveCallback m_rx;
};

// ---------------------------------------------------------------- sockets and events

struct Sock
{
    Ptr<Socket> s;
    bool listener = false;
    std::vector<int> backlog; // accepted sockets not yet handed out by "accept"
    bool pending = false;     // "accepted" reported for the current backlog
    // State transitions (old, new) since the last look, from the "State" trace source.
    std::vector<std::pair<int, int>> moves;
    int state = TcpSocket::CLOSED;
    bool readable = false, eof = false, done = false;
    std::string err; // errno name of the error that ended the connection
};

static std::map<int, Sock> g_socks;
static std::map<Socket*, int> g_ids;
static int g_next = 1;
static json g_events = json::array();
static Ptr<Node> g_node;
static Ptr<ShimDevice> g_dev;
static Ipv4Address g_iut, g_peer;
static std::string g_op; // the request being served: classifies how a connection ended
static bool g_rstIn = false;

static void
OnState(int id, TcpSocket::TcpStates_t from, TcpSocket::TcpStates_t to)
{
    auto it = g_socks.find(id);
    if (it != g_socks.end())
    {
        it->second.moves.push_back({from, to});
        it->second.state = to;
    }
}

// ns-3 drops a connection whose retransmissions ran out (ReTxTimeout, LastAckTimeout)
// with NotifyErrorClose and without leaving its state: the end is taken from here.
static void
OnErrorClose(int id, Ptr<Socket>)
{
    auto it = g_socks.find(id);
    if (it != g_socks.end() && it->second.state != TcpSocket::CLOSED)
    {
        it->second.moves.push_back({it->second.state, TcpSocket::CLOSED});
    }
}

static int
AddSock(Ptr<Socket> s, bool listener)
{
    int id = g_next++;
    Sock& k = g_socks[id];
    k.s = s;
    k.listener = listener;
    g_ids[PeekPointer(s)] = id;
    s->TraceConnectWithoutContext("State", MakeBoundCallback(&OnState, id));
    s->SetCloseCallbacks(MakeNullCallback<void, Ptr<Socket>>(), MakeBoundCallback(&OnErrorClose, id));
    return id;
}

static bool
AcceptAll(Ptr<Socket>, const Address&)
{
    return true;
}

// ns-3 hands an accepted connection over when its handshake completes (a fork of the
// listener); the shim keeps it until "accept".
static void
NewConnection(int listener, Ptr<Socket> s, const Address&)
{
    int id = AddSock(s, false);
    g_socks[id].state = TcpSocket::ESTABLISHED;
    g_socks[id].moves.push_back({TcpSocket::SYN_RCVD, TcpSocket::ESTABLISHED});
    g_socks[listener].backlog.push_back(id);
}

static void
Emit(int id, const char* kind)
{
    g_events.push_back({{"sock", id}, {"t_ms", NowMs()}, {"kind", kind}});
}

/// How a connection that reached CLOSED from `from` ended, given what the shim did.
/// ns-3 reports both a received RST and a normal close as a "normal close", so the
/// kind comes from the state left and the request that made it.
static const char*
EndKind(int from)
{
    bool byRst = g_op == "deliver" && g_rstIn;
    switch (from)
    {
    case TcpSocket::SYN_SENT:
        return byRst ? "refused" : (g_op == "advance" ? "timeout" : "closed");
    case TcpSocket::TIME_WAIT:
    case TcpSocket::LAST_ACK:
    case TcpSocket::CLOSING:
        return byRst ? "reset" : "closed";
    default:
        return byRst ? "reset" : (g_op == "advance" ? "timeout" : "closed");
    }
}

// The user-visible notifications that follow from each socket's moves since the last
// look, in socket order.
static void
Observe()
{
    for (auto& [id, k] : g_socks)
    {
        if (k.done)
        {
            continue;
        }
        if (k.listener)
        {
            bool ready = !k.backlog.empty();
            if (ready && !k.pending)
            {
                Emit(id, "accepted");
            }
            k.pending = ready;
            continue;
        }
        for (auto [from, to] : k.moves)
        {
            if (to == TcpSocket::ESTABLISHED)
            {
                Emit(id, "established");
            }
            bool finIn = to == TcpSocket::CLOSE_WAIT || to == TcpSocket::CLOSING ||
                         (to == TcpSocket::TIME_WAIT && from == TcpSocket::FIN_WAIT_2) ||
                         (to == TcpSocket::TIME_WAIT && from == TcpSocket::FIN_WAIT_1);
            if (finIn && !k.eof)
            {
                k.eof = true;
                Emit(id, "eof");
            }
            if (to == TcpSocket::CLOSED)
            {
                const char* kind = EndKind(from);
                if (std::string(kind) == "reset")
                {
                    k.err = "ECONNRESET";
                }
                else if (std::string(kind) == "refused")
                {
                    k.err = "ECONNREFUSED";
                }
                else if (std::string(kind) == "timeout")
                {
                    k.err = "ETIMEDOUT";
                }
                Emit(id, kind);
                k.done = true;
                break;
            }
        }
        k.moves.clear();
        if (k.done)
        {
            continue;
        }
        bool r = k.s->GetRxAvailable() > 0;
        if (r && !k.readable)
        {
            Emit(id, "readable");
        }
        k.readable = r;
    }
}

/// Runs what the simulator has due for the request: events scheduled "now", and ns-3's
/// sends deferred by one time step (TcpSocketBase::Send schedules SendPendingData
/// TimeStep(1) later). So each request moves the clock by at most 1 ns.
static void
Settle()
{
    Simulator::Stop(TimeStep(1));
    Simulator::Run();
    Simulator::Stop(Seconds(0));
    Simulator::Run();
}

// ---------------------------------------------------------------- requests

static json
Fail(const std::string& e)
{
    return {{"ok", false}, {"error", e}};
}

static std::string
Errno(Ptr<Socket> s)
{
    switch (s->GetErrno())
    {
    case Socket::ERROR_AGAIN:
        return "EAGAIN";
    case Socket::ERROR_NOTCONN:
        return "ENOTCONN";
    case Socket::ERROR_MSGSIZE:
        return "EMSGSIZE";
    case Socket::ERROR_SHUTDOWN:
        return "EPIPE";
    case Socket::ERROR_ADDRINUSE:
        return "EADDRINUSE";
    case Socket::ERROR_ADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    case Socket::ERROR_INVAL:
        return "EINVAL";
    case Socket::ERROR_OPNOTSUPP:
        return "EOPNOTSUPP";
    case Socket::ERROR_NOROUTETOHOST:
        return "EHOSTUNREACH";
    default:
        return "EIO";
    }
}

static bool
ParseHex(const std::string& h, std::vector<uint8_t>& out)
{
    if (h.size() % 2)
    {
        return false;
    }
    out.clear();
    for (size_t i = 0; i < h.size(); i += 2)
    {
        int v = 0;
        for (int j = 0; j < 2; j++)
        {
            char c = h[i + j];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
            {
                return false;
            }
            v = v * 16 + d;
        }
        out.push_back(uint8_t(v));
    }
    return true;
}

static Ptr<Socket>
NewTcpSocket()
{
    return Socket::CreateSocket(g_node, TcpSocketFactory::GetTypeId());
}

static json
Init(const json& r)
{
    if (g_node)
    {
        return Fail("EINVAL");
    }
    std::string iut = r.value("iut", "10.0.0.2"), peer = r.value("peer", "10.0.0.1");
    int mss = r.value("mss", 1460);
    if (mss < 64 || mss > 65495)
    {
        return Fail("EINVAL");
    }
    g_iut = Ipv4Address(iut.c_str());
    g_peer = Ipv4Address(peer.c_str());
    // Real checksums: the kit's datagrams carry them, and judges check ours.
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(mss));
    g_node = CreateObject<Node>();
    InternetStackHelper internet;
    internet.SetIpv6StackInstall(false);
    internet.Install(g_node);
    g_dev = CreateObject<ShimDevice>();
    g_dev->SetMtu(uint16_t(std::min(mss + 40, 65535)));
    g_node->AddDevice(g_dev);
    Ptr<Ipv4> ipv4 = g_node->GetObject<Ipv4>();
    uint32_t ifi = ipv4->AddInterface(g_dev);
    ipv4->AddAddress(ifi, Ipv4InterfaceAddress(g_iut, Ipv4Mask("255.255.255.0")));
    ipv4->SetUp(ifi);
    return {{"ok", true}, {"clock", "virtual"}, {"stack", kStackName}};
}

static Sock*
Find(const json& r)
{
    auto it = g_socks.find(r.value("sock", -1));
    return it == g_socks.end() ? nullptr : &it->second;
}

static json
Dispatch(const json& r, const std::string& op)
{
    if (op == "listen")
    {
        Ptr<Socket> s = NewTcpSocket();
        int port = r.value("port", 0);
        if (s->Bind(InetSocketAddress(g_iut, uint16_t(port))) != 0 || s->Listen() != 0)
        {
            std::string e = Errno(s);
            s->Close();
            return Fail(e);
        }
        int id = AddSock(s, true);
        s->SetAcceptCallback(MakeCallback(&AcceptAll), MakeBoundCallback(&NewConnection, id));
        return {{"ok", true}, {"sock", id}};
    }
    if (op == "accept")
    {
        Sock* k = Find(r);
        if (!k || !k->listener)
        {
            return Fail("EBADF");
        }
        if (k->backlog.empty())
        {
            return Fail("EAGAIN");
        }
        int id = k->backlog.front();
        k->backlog.erase(k->backlog.begin());
        k->pending = !k->backlog.empty();
        return {{"ok", true}, {"sock", id}};
    }
    if (op == "connect")
    {
        Ptr<Socket> s = NewTcpSocket();
        int sport = r.value("sport", 0);
        int rc = sport ? s->Bind(InetSocketAddress(g_iut, uint16_t(sport))) : s->Bind();
        if (rc != 0)
        {
            std::string e = Errno(s);
            s->Close();
            return Fail(e);
        }
        int id = AddSock(s, false);
        g_socks[id].state = TcpSocket::CLOSED;
        if (s->Connect(InetSocketAddress(g_peer, uint16_t(r.value("dport", 0)))) != 0)
        {
            g_socks[id].done = true;
            return Fail(Errno(s));
        }
        Address a;
        s->GetSockName(a);
        return {{"ok", true}, {"sock", id}, {"sport", InetSocketAddress::ConvertFrom(a).GetPort()}};
    }
    if (op == "send")
    {
        Sock* k = Find(r);
        if (!k || k->listener)
        {
            return Fail("EBADF");
        }
        if (!k->err.empty())
        {
            return Fail(k->err);
        }
        int n = r.value("bytes", 0);
        if (n < 0)
        {
            return Fail("EINVAL");
        }
        uint32_t room = k->s->GetTxAvailable();
        uint32_t take = std::min<uint32_t>(uint32_t(n), room);
        if (n > 0 && take == 0)
        {
            return Fail("EAGAIN");
        }
        int sent = k->s->Send(Create<Packet>(take), 0);
        if (sent < 0)
        {
            return Fail(Errno(k->s));
        }
        return {{"ok", true}, {"n", sent}};
    }
    if (op == "recv")
    {
        Sock* k = Find(r);
        if (!k || k->listener)
        {
            return Fail("EBADF");
        }
        int max = r.value("max", 65535);
        Ptr<Packet> p = k->s->Recv(uint32_t(std::max(max, 0)), 0);
        if (p && p->GetSize() > 0)
        {
            return {{"ok", true}, {"n", p->GetSize()}, {"eof", false}};
        }
        if (p) // ns-3 returns an empty packet for end of stream
        {
            return {{"ok", true}, {"n", 0}, {"eof", true}};
        }
        if (!k->err.empty())
        {
            return Fail(k->err);
        }
        if (k->eof)
        {
            return {{"ok", true}, {"n", 0}, {"eof", true}};
        }
        return Fail(Errno(k->s) == "EIO" ? "EAGAIN" : Errno(k->s));
    }
    if (op == "shutdown")
    {
        Sock* k = Find(r);
        if (!k)
        {
            return Fail("EBADF");
        }
        if (k->s->ShutdownSend() != 0)
        {
            return Fail(Errno(k->s));
        }
        return {{"ok", true}};
    }
    if (op == "close")
    {
        Sock* k = Find(r);
        if (!k)
        {
            return Fail("EBADF");
        }
        if (k->s->Close() != 0)
        {
            return Fail(Errno(k->s));
        }
        return {{"ok", true}};
    }
    if (op == "setsockopt")
    {
        Sock* k = Find(r);
        if (!k)
        {
            return Fail("EBADF");
        }
        std::string name = r.value("name", "");
        int v = r.value("value", 0);
        if (name == "nodelay")
        {
            k->s->SetAttribute("TcpNoDelay", BooleanValue(v != 0));
        }
        else if (name == "maxseg")
        {
            if (v <= 0)
            {
                return Fail("EINVAL");
            }
            k->s->SetAttribute("SegmentSize", UintegerValue(uint32_t(v)));
        }
        else
        {
            return Fail("ENOPROTOOPT"); // no keep-alive, FIN-WAIT-2 or user timeout in ns-3
        }
        return {{"ok", true}};
    }
    if (op == "deliver")
    {
        std::vector<uint8_t> b;
        if (!r.contains("ip") || !r["ip"].is_string() || !ParseHex(r["ip"].get<std::string>(), b) ||
            b.size() < 20 || (b[0] >> 4) != 4 || size_t((b[2] << 8) | b[3]) != b.size())
        {
            return Fail("EINVAL");
        }
        size_t ihl = (b[0] & 15) * 4;
        g_rstIn = b[9] == 6 && b.size() >= ihl + 14 && (b[ihl + 13] & 0x04);
        g_dev->Deliver(b);
        return {{"ok", true}};
    }
    if (op == "advance")
    {
        double ms = r.value("ms", 0.0);
        if (!(ms >= 0))
        {
            return Fail("EINVAL");
        }
        g_nominalNs += int64_t(ms * 1e6);
        int64_t left = g_nominalNs - Simulator::Now().GetNanoSeconds();
        if (left > 0)
        {
            Simulator::Stop(NanoSeconds(left));
            Simulator::Run();
        }
        return {{"ok", true}, {"now_ms", NowMs()}};
    }
    if (op == "collect")
    {
        json out = json::array();
        for (auto& p : g_out)
        {
            out.push_back({{"t_ms", p.tMs}, {"ip", p.hex}});
        }
        g_out.clear();
        return {{"ok", true}, {"out", out}};
    }
    if (op == "events")
    {
        json ev = g_events;
        g_events = json::array();
        return {{"ok", true}, {"events", ev}};
    }
    return Fail("unsupported"); // abort among them: ns-3's sockets have no ABORT call
}

static json
Handle(const json& r, bool& quit)
{
    std::string op = r.value("op", "");
    if (op == "quit")
    {
        quit = true;
        return {{"ok", true}};
    }
    if (op == "init")
    {
        json rep = Init(r);
        Settle();
        return rep;
    }
    if (!g_node)
    {
        return Fail("ENOTCONN"); // every other request needs init first
    }
    g_op = op;
    json rep = Dispatch(r, op);
    Settle();
    Observe();
    g_rstIn = false;
    return rep;
}

int
main()
{
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line))
    {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
        {
            continue;
        }
        json rep;
        bool quit = false;
        try
        {
            json r = json::parse(line);
            rep = r.is_object() ? Handle(r, quit) : Fail("EINVAL");
        }
        catch (const json::exception&)
        {
            rep = Fail("EINVAL");
        }
        std::cout << rep.dump() << "\n" << std::flush;
        if (quit)
        {
            break;
        }
    }
    Simulator::Destroy();
    return 0;
}
