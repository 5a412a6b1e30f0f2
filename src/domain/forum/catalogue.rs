//! The catalogue of official НМО specialty names, per education level.
//! (Being written: see issue 2, section 1.)

#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub higher: Vec<String>,
    pub secondary: Vec<String>,
}

impl Catalogue {
    /// The catalogue shipped in `config/specialties.toml`, embedded in the binary.
    pub fn shipped() -> Catalogue {
        Catalogue::default()
    }
}
