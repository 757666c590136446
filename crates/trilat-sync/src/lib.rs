//! trilat-sync (skeleton; being built).
