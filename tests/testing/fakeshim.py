"""A shim that follows docs/driver-protocol.md with no stack behind it (it echoes delivered
datagrams back from collect), or breaks the protocol the way argv[1] says, so the tests can
show what ShimDriver does with each kind of bad shim."""
import json
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "good"
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
