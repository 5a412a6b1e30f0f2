//! НМО codes: generation, imported pools and issuance.
//! (Being written: see issue 2, section 5.)
