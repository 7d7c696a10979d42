//! Saving backup codes to a file.
