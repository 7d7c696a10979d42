//! Copying backup codes: arboard, or OSC 52.
