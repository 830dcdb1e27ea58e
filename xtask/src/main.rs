//! Project tasks: build plugins, demo, test.

fn main() {}
