//! Prompt schedules: when each session's presence prompts fire.
//! (Being written: see issue 2, section 4.)
