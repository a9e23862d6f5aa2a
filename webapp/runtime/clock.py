"""The clock seam lives in `webapp.clock`, below the runtime and the handlers (which read it
too); this name stays importable for the modules that reach it through the runtime."""

from webapp.clock import (
    AMSTERDAM,
    Clock,
    SystemClock,
    VirtualClock,
    get_clock,
    install_into_spiffworkflow,
    now,
    set_clock,
    to_local,
    use_clock,
    using_clock,
)

__all__ = ["AMSTERDAM", "Clock", "SystemClock", "VirtualClock", "get_clock", "install_into_spiffworkflow", "now",
           "set_clock", "to_local", "use_clock",
           "using_clock"]
