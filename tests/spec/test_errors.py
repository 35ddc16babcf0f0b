"""Bad input is a clear SpecError naming what was wrong."""
import pytest

from synack.spec import Endpoint, Event, Segment, SpecError, State, arrive, call, get_profile, step, timeout


@pytest.mark.parametrize("fn,needle", [
    (lambda: get_profile("bsd"), "unknown profile 'bsd'"),
    (lambda: get_profile("rfc9293", "three-way"), "unknown variant 'three-way'"),
    (lambda: State.parse("ITMED_WAIT"), "unknown state 'ITMED_WAIT'"),
    (lambda: call("OPEN"), "unknown user call 'OPEN'"),
    (lambda: call("SEND", n=0), "SEND needs"),
    (lambda: timeout("2MSX"), "unknown timer '2MSX'"),
    (lambda: Segment.make("SYN", 2**32), "seq=4294967296"),
    (lambda: Segment.make("SYNN", 1), "unknown TCP flag 'SYNN'"),
    (lambda: step("rfc9293", "CLOSED", call("LISTEN")), "needs an Endpoint"),
    (lambda: step("rfc9293", Endpoint(), Event("FLY")), "unknown event kind 'FLY'"),
    (lambda: arrive((2, 1)), "needs a Segment"),
    (lambda: get_profile("rfc9293").with_params(RETRIES=-1), "unknown profile parameter"),
])
def test_bad_input(fn, needle):
    with pytest.raises(SpecError, match=None) as err:
        fn()
    assert needle in str(err.value)


def test_state_parse_accepts_common_spellings():
    assert State.parse("SYN_RCVD") is State.SYN_RECEIVED and State.parse("time_wait") is State.TIME_WAIT
