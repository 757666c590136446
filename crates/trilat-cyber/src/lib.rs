//! trilat-cyber (skeleton; being built).
