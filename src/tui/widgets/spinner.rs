//! The spinner shown while a request is pending; its frame advances only on ticks.

const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn frame(n: usize) -> &'static str {
    FRAMES[n % FRAMES.len()]
}
