//! Provider simulators on 127.0.0.1.
