//! trilat-geo (skeleton; being built).
