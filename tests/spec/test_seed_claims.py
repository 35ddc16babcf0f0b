"""The seeds' factual claims (../shared/seeds/, Chinese tutorials), each checked against the spec.

Each test names the seed file and line. `WRONG` tests show what RFC 9293 (or Linux) does instead.
"""
from drive import Endpoint, State, arrive, call, est, handshake, one, seg, timeout
from synack.spec import SpecError, get_profile, machine

P, L = "rfc9293", "linux"
S000, S001, S002, S003, S004 = ("000_38ad5db1e6ebd643.txt", "001_100edbb0310f1f0f.txt", "002_799d6de8438d34a4.txt",
                                "003_20eed8aff1fc07f9.txt", "004_fa8b68dcb9df0723.txt")


def close_sequence():
    a, b = est(100, 300), est(300, 100)
    fin = one(P, a, call("CLOSE"))
    ack = one(P, b, arrive(fin.sends[0]))
    return a, b, fin, ack


def test_000_L14_WRONG_the_ack_of_a_fin_carries_seq_plus_one_in_its_ack_field_not_its_seq():
    # 000:14 "序号为报文4的序号加1" (its sequence number is the FIN's plus one). RFC 9293 3.10.7.4 eighth:
    # the ACK number is RCV.NXT = FIN's SEQ + 1; the ACK's own SEQ is the sender's SND.NXT.
    a, b, fin, ack = close_sequence()
    assert ack.sends[0].ack == fin.sends[0].seq + 1
    assert ack.sends[0].seq == b.snd_nxt != fin.sends[0].seq + 1


def test_000_L28_synrcvd_plus_ack_is_established():
    a, b, _ = handshake(P)
    assert b.state is State.ESTABLISHED


def test_000_L34_finwait1_rcv_fin_ack_goes_straight_to_time_wait():
    fw1 = one(P, est(100, 300), call("CLOSE")).endpoint
    assert one(P, fw1, arrive(seg("FIN,ACK", 300, 101))).endpoint.state is State.TIME_WAIT


def test_000_L34_WRONG_tcp_fin_timeout_is_not_the_msl():
    # 000:34 says the MSL can be read from /proc/sys/net/ipv4/tcp_fin_timeout. In Linux TIME-WAIT is the
    # constant TCP_TIMEWAIT_LEN (60 s); tcp_fin_timeout bounds an orphaned FIN-WAIT-2.
    lin = get_profile(L)
    assert "TCP_TIMEWAIT_LEN" in lin.sources["time_wait"] and "FIN-WAIT-2" in lin.sources["fin_timeout"]
    fw2_rows = [r for r in machine(L).rows if r.event == "FIN-WAIT-2"]
    assert fw2_rows and all(r.states == (State.FIN_WAIT_2,) and r.guard == "ORPHAN" for r in fw2_rows)


def test_000_L35_simultaneous_close_passes_through_closing():
    a1, b1 = one(P, est(100, 300), call("CLOSE")), one(P, est(300, 100), call("CLOSE"))
    assert one(P, a1.endpoint, arrive(b1.sends[0])).endpoint.state is State.CLOSING


def test_000_L57_so_linger_zero_sends_rst_and_skips_time_wait():
    t = one(P, est(100, 300), call("ABORT"))
    assert t.endpoint.state is State.CLOSED and t.sends[0].flags & seg("RST", 0).flags


def test_001_L10_WRONG_ack_is_seq_plus_segment_length_not_always_plus_one():
    # 001:10,20 "Ack=Seq+1". RFC 9293 3.4: the ACK is RCV.NXT, which advances by SEG.LEN.
    t = one(P, est(300, 100), arrive(seg("ACK", 100, 300, data=10)))
    assert t.sends[0].ack == 110


def test_001_L27_WRONG_the_isn_is_not_usually_1():
    # 001:27 "Seq=X (X一般为1)": 1 is Wireshark's relative number; the ISN is any 32-bit value (RFC 9293 3.4.1).
    t = one(P, Endpoint(), call("CONNECT", isn=0xFFFFFFFF))
    assert t.sends[0].seq == 0xFFFFFFFF and t.endpoint.snd_nxt == 0        # wraps around
    a, b, segs = handshake(P, 0xFFFFFFFF, 7)
    assert segs[1].ack == 0 and a.state is State.ESTABLISHED


def test_001_L35_third_segment_numbers():
    a, b, (syn, synack, ack) = handshake(P, 1000, 5000)
    assert (ack.seq, ack.ack) == (synack.ack, synack.seq + 1) == (1001, 5001)


def test_001_L38_WRONG_the_server_leaves_syn_received_not_syn_sent():
    ls = one(P, Endpoint(), call("LISTEN")).endpoint
    assert one(P, ls, arrive(seg("SYN", 1), isn=9)).endpoint.state is State.SYN_RECEIVED


def test_001_L95_fourth_segment_numbers():
    a, b, fin, ack = close_sequence()
    fw2 = one(P, fin.endpoint, arrive(ack.sends[0])).endpoint
    fin2 = one(P, ack.endpoint, call("CLOSE"))
    last = one(P, fw2, arrive(fin2.sends[0]))
    assert (last.sends[0].seq, last.sends[0].ack) == (fin.sends[0].seq + 1, fin2.sends[0].seq + 1)


def test_001_L123_WRONG_the_fin_is_retransmitted_on_the_rto_not_after_one_msl():
    la = one(P, one(P, est(100, 300), arrive(seg("FIN,ACK", 300, 100))).endpoint, call("CLOSE")).endpoint
    assert one(P, la, timeout("RTO")).sends[0].flags & seg("FIN", 0).flags
    p = get_profile(P)
    assert p.params["rto_initial"] < p.params["msl"] / 60


def test_001_L124_time_wait_re_acks_a_repeated_fin_and_restarts_2msl():
    tw = one(P, one(P, est(100, 300), call("CLOSE")).endpoint, arrive(seg("FIN,ACK", 300, 101))).endpoint
    t = one(P, tw, arrive(seg("FIN,ACK", 300, 101)))
    assert t.endpoint.state is State.TIME_WAIT and t.sends and "restart 2MSL" in t.signals


def test_001_L131_WRONG_capture_numbers_the_ack_of_fin_2445_is_2446():
    # 001:131 prints Ack=2246 for the ACK of FIN Seq=2445; the FIN takes one sequence number.
    t = one(P, est(558, 2445), arrive(seg("FIN,ACK", 2445, 558)))
    assert t.sends[0].ack == 2446


def test_002_L9_WRONG_the_server_enters_close_wait_on_the_fin_and_last_ack_on_its_own_fin():
    t = one(P, est(300, 100), arrive(seg("FIN,ACK", 100, 300)))
    assert t.endpoint.state is State.CLOSE_WAIT
    assert one(P, t.endpoint, call("CLOSE")).endpoint.state is State.LAST_ACK


def test_002_L20_WRONG_linux_sends_9_keepalive_probes_not_10():
    lin = get_profile(L).params
    assert (lin["ka_idle"], lin["ka_interval"], lin["KA.PROBES"]) == (7200, 75, 9)


def test_003_L28_synrcvd_rst_returns_to_listen():
    sr = one(P, one(P, Endpoint(), call("LISTEN")).endpoint, arrive(seg("SYN", 1), isn=9)).endpoint
    assert one(P, sr, arrive(seg("RST", 2))).endpoint.state is State.LISTEN


def test_003_L47_simultaneous_open_exchanges_four_segments():
    a, b = one(P, Endpoint(), call("CONNECT", isn=1)), one(P, Endpoint(), call("CONNECT", isn=5))
    a2, b2 = one(P, a.endpoint, arrive(b.sends[0])), one(P, b.endpoint, arrive(a.sends[0]))
    a3, b3 = one(P, a2.endpoint, arrive(b2.sends[0])), one(P, b2.endpoint, arrive(a2.sends[0]))
    sent = a.sends + b.sends + a2.sends + b2.sends + a3.sends + b3.sends
    assert len(sent) == 4 and a3.endpoint.state is b3.endpoint.state is State.ESTABLISHED


def test_003_L104_WRONG_linux_syn_backoff_starts_at_1s_and_retries_6_times():
    lin = get_profile(L)
    assert lin.params["rto_initial"] == 1.0 and lin.params["SYN.RETRIES"] == 6


def test_003_L119_fin_consumes_a_sequence_number():
    t = one(P, est(100, 300), call("CLOSE"))
    assert t.endpoint.snd_nxt == 101


def test_003_L196_three_segment_close_with_a_delayed_ack():
    from synack.spec import step
    b = est(300, 100)
    delayed = [t for t in step(P, b, arrive(seg("FIN,ACK", 100, 300))) if "fin.est.delayed" in t.rows]
    assert delayed and delayed[0].sends == ()
    fin = one(P, delayed[0].endpoint, call("CLOSE"))
    assert fin.sends[0].ack == 101 and not fin.endpoint.ack_owed          # the FIN carries the ACK


def test_003_L264_time_wait_is_twice_the_msl():
    p = get_profile(P).params
    assert p["time_wait"] == 2 * p["msl"]


def test_004_L2_WRONG_itmed_wait_is_not_a_state():
    try:
        State.parse("ITMED_WAIT")
    except SpecError:
        return
    raise AssertionError("ITMED_WAIT accepted")


def test_004_L5_rfc793_suggests_msl_of_two_minutes():
    assert get_profile(P).params["msl"] == 120
