//! trilat-core (skeleton; being built).
