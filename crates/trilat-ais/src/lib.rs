//! trilat-ais (skeleton; being built).
