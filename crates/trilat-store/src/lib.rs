//! trilat-store (skeleton; being built).
