//! The QR code widget.
