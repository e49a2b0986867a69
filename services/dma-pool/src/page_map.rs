//! A pool's occupancy as a picture: each page's state ([`PageState`], from
//! [`Pool::page_states`](crate::Pool::page_states)) drawn as a grid of characters
//! ([`render`]), one cell per page or per run of pages with the scale printed, so
//! fragmentation can be seen at a glance (`dma:/DEV/map`, `dmastat --map DEV`).

use alloc::format;
use alloc::string::String;

/// What one page of a pool is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageState {
    /// In the free space.
    Free,
    /// Neither free nor in a buffer (the pool's own bookkeeping, if any).
    Reserved,
    /// In a buffer its owner holds.
    Live,
    /// In a buffer its owner released that is still mapped: back when the last mapping goes.
    Deferred,
    /// In a released buffer whose device may still reach it, kept out of the free space.
    Quarantined,
}

impl PageState {
    /// The cell's character.
    pub fn symbol(self) -> char {
        match self {
            PageState::Free => '.',
            PageState::Reserved => '-',
            PageState::Live => '#',
            PageState::Deferred => 'd',
            PageState::Quarantined => 'Q',
        }
    }
}

/// The legend line under the grid.
pub const LEGEND: &str = ". free  # live  d deferred  Q quarantined  - reserved";

/// Draws `states` in rows of `columns` cells, at most `max_cells` cells: each cell stands
/// for `scale` consecutive pages (the smallest scale that fits) and shows the most
/// worrying state among them (quarantined, then deferred, live, reserved, free), so a
/// single quarantined page is never hidden by its free neighbours. First line:
/// `pages N, 1 cell = S page(s), C cells`; then the grid; then [`LEGEND`].
pub fn render(states: &[PageState], columns: usize, max_cells: usize) -> String {
    let columns = columns.max(1);
    let max_cells = max_cells.max(1);
    let pages = states.len();
    let scale = pages.div_ceil(max_cells).max(1);
    let cells = pages.div_ceil(scale);
    let mut text = format!(
        "pages {pages}, 1 cell = {scale} page{}, {cells} cells\n",
        if scale == 1 { "" } else { "s" }
    );
    for (index, run) in states.chunks(scale).enumerate() {
        let worst = run.iter().copied().max().unwrap_or(PageState::Free);
        text.push(worst.symbol());
        if (index + 1).is_multiple_of(columns) {
            text.push('\n');
        }
    }
    if !cells.is_multiple_of(columns) {
        text.push('\n');
    }
    text.push_str(LEGEND);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use PageState::*;

    #[test]
    fn one_cell_per_page_when_the_pool_fits() {
        let states = [Free, Live, Live, Deferred, Quarantined, Free];
        let text = render(&states, 4, 64);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "pages 6, 1 cell = 1 page, 6 cells");
        assert_eq!(lines[1], ".##d");
        assert_eq!(lines[2], "Q.");
        assert_eq!(lines[3], LEGEND);
    }

    #[test]
    fn a_large_pool_is_scaled_and_the_worst_page_of_a_run_shows() {
        let mut states = alloc::vec![Free; 2048];
        states[1000] = Quarantined;
        states[0] = Live;
        let text = render(&states, 64, 256);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "pages 2048, 1 cell = 8 pages, 256 cells");
        let grid: String = lines[1..5].concat();
        assert_eq!(grid.len(), 256);
        assert_eq!(grid.chars().next(), Some('#'));
        assert_eq!(grid.chars().nth(1000 / 8), Some('Q'));
        assert_eq!(grid.chars().filter(|cell| *cell == '.').count(), 254);
    }

    #[test]
    fn an_empty_pool_draws_no_cells() {
        let text = render(&[], 64, 256);
        assert_eq!(
            text,
            alloc::format!("pages 0, 1 cell = 1 page, 0 cells\n{LEGEND}\n")
        );
    }
}
