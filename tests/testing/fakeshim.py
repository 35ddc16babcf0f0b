"""A shim that follows docs/driver-protocol.md with no stack behind it (it echoes delivered
datagrams back from collect), or breaks the protocol the way argv[1] says, so the tests can
show what ShimDriver does with each kind of bad shim.

`toy-die K` and `toy-hang K` serve ToyTCP (examples/toytcp's driver) as a shim, and crash
(exit 3, with a line on stderr) or hang at the first datagram delivered after the K-th
socket opened (listen or connect) since the shim started: the row whose run opens it
crashes the "stack"."""
import json
import os
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "good"
if mode.startswith("toy-"):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "toytcp"))
    from synack.testing import DriverError
    from toydriver import ToyDriver

    die_at, opened, toy = int(sys.argv[2]), 0, ToyDriver(bug="")
    for line in sys.stdin:
        req = json.loads(line)
        op = req.pop("op")
        if op in ("listen", "connect"):
            opened += 1
        if op == "deliver" and opened >= die_at:
            if mode == "toy-hang":
                time.sleep(30)
            print(f"fakeshim: segfault in tcp_input() on connection {opened}", file=sys.stderr, flush=True)
            sys.exit(3)
        try:
            if op == "init":
                rep = {"clock": toy.init(req["iut"], req["peer"], req["mss"]).clock, "stack": "toy-as-shim"}
            elif op == "deliver":
                toy.deliver(bytes.fromhex(req["ip"]))
                rep = {}
            elif op == "collect":
                rep = {"out": [{"t_ms": t * 1000, "ip": ip.hex()} for t, ip in toy.collect()]}
            elif op == "advance":
                rep = {"now_ms": toy.advance(req["ms"] / 1000) * 1000}
            elif op == "connect":
                sock, sport = toy.connect(req["dport"], req["sport"])
                rep = {"sock": sock, "sport": sport}
            elif op in ("listen", "accept"):
                sock = toy.listen(req["port"]) if op == "listen" else toy.accept(req["sock"])
                rep = {"sock": sock} if sock is not None else {"ok": False, "error": "EAGAIN"}
            elif op == "send":
                rep = {"n": toy.send(req["sock"], req["bytes"])}
            elif op == "recv":
                n, eof = toy.recv(req["sock"], req["max"])
                rep = {"n": n, "eof": eof}
            elif op in ("shutdown", "close", "abort"):
                getattr(toy, op)(req["sock"])
                rep = {}
            elif op == "quit":
                print(json.dumps({"ok": True}), flush=True)
                break
            else:
                rep = {"ok": False, "error": "unsupported"}
        except DriverError as e:
            rep = {"ok": False, "error": e.errno}
        print(json.dumps({"ok": True, **rep}), flush=True)
    sys.exit(0)

now, out, socks = 0, [], 0
for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    if mode == "die" and op == "listen":
        print("fakeshim: crashing on purpose", file=sys.stderr)
        sys.exit(3)
    if mode == "hang" and op == "listen":
        time.sleep(30)
    if mode == "garbage" and op == "listen":
        print("hello there", flush=True)
        continue
    if mode == "nook" and op == "listen":
        print(json.dumps({"sock": 1}), flush=True)
        continue
    if op == "init":
        rep = {"ok": True, "clock": "virtual", "stack": "fake 1.0"}
    elif op == "listen":
        socks += 1
        rep = {"ok": True, "sock": socks}
    elif op == "accept":
        rep = {"ok": False, "error": "EAGAIN"}
    elif op == "deliver":
        out.append({"t_ms": now, "ip": req["ip"]})
        rep = {"ok": True}
    elif op == "collect":
        rep, out = {"ok": True, "out": out}, []
    elif op == "advance":
        now += req["ms"]
        rep = {"ok": True, "now_ms": now}
    elif op == "events":
        rep = {"ok": True, "events": [{"sock": 1, "t_ms": now, "kind": "accepted"}]}
    elif op == "setsockopt":
        rep = {"ok": False, "error": "ENOPROTOOPT"}
    elif op == "quit":
        print(json.dumps({"ok": True}), flush=True)
        break
    else:
        rep = {"ok": False, "error": "unsupported"}
    print(json.dumps(rep), flush=True)
