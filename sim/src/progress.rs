//! Progress bars for long runs (indicatif), silent when asked to be quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Makes progress bars on standard error, or hidden ones when quiet.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    quiet: bool,
}

impl Progress {
    /// Visible bars.
    #[must_use]
    pub fn visible() -> Progress {
        Progress { quiet: false }
    }

    /// Hidden bars: nothing is drawn.
    #[must_use]
    pub fn quiet() -> Progress {
        Progress { quiet: true }
    }

    /// Whether bars are hidden.
    #[must_use]
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// A bar counting to `len`, labelled `label`.
    #[must_use]
    pub fn bar(&self, label: &str, len: u64) -> ProgressBar {
        if self.quiet {
            return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:>24} [{bar:40}] {human_pos}/{human_len} ({elapsed}, eta {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_owned());
        bar
    }

    /// Prints a status line on standard error unless quiet.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}
