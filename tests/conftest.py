"""Test-session setup shared by every test module."""
import signal

# A shell starts a background job (`cmd &`) with SIGINT ignored, and an ignored signal stays
# ignored across exec: the synack processes the Ctrl-C tests start would then never see the
# SIGINT they are sent. Those tests are about synack's handling of Ctrl-C, not about the
# disposition the suite inherited, so the suite restores Python's own handler (children then
# start with the default disposition, and Python installs its KeyboardInterrupt handler).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
