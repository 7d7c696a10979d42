//! A list longer than its room: which items show so that the chosen one does. Worked out from the
//! state at each render (render never mutates), the chosen item kept as near the middle as the list
//! allows, so moving never jumps a whole screen.

use std::ops::Range;

use crossterm::event::KeyCode;

/// Items one PgUp or PgDn moves over.
pub const PAGE_STEP: usize = 5;

/// The items to draw, given each item's rows, the chosen item and the rows there are.
pub fn window(heights: &[u16], chosen: usize, rows: u16) -> Range<usize> {
    let Some(last) = heights.len().checked_sub(1) else { return 0..0 };
    let chosen = chosen.min(last);
    let mut used = heights[chosen];
    let (mut first, mut end) = (chosen, chosen + 1);
    // Half of the room left above the chosen item, then the rest below, then above again.
    let above = rows.saturating_sub(used) / 2;
    while first > 0 && used - heights[chosen] + heights[first - 1] <= above {
        first -= 1;
        used += heights[first];
    }
    while end <= last && used + heights[end] <= rows {
        used += heights[end];
        end += 1;
    }
    while first > 0 && used + heights[first - 1] <= rows {
        first -= 1;
        used += heights[first];
    }
    first..end
}

/// Where ↑↓ j/k, PgUp/PgDn (and Space) and Home/End move the choice in a list of `len`; `None` for
/// any other key.
pub fn moved(key: KeyCode, chosen: usize, len: usize) -> Option<usize> {
    let last = len.saturating_sub(1);
    let to = match key {
        KeyCode::Up | KeyCode::Char('k') => chosen.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => chosen + 1,
        KeyCode::PageUp => chosen.saturating_sub(PAGE_STEP),
        KeyCode::PageDown | KeyCode::Char(' ') => chosen + PAGE_STEP,
        KeyCode::Home => 0,
        KeyCode::End => last,
        _ => return None,
    };
    Some(to.min(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chosen_item_shows_near_the_middle() {
        let heights = [2; 20];
        assert_eq!(window(&heights, 0, 10), 0..5, "at the top: the first items");
        assert_eq!(window(&heights, 3, 10), 1..6);
        assert_eq!(window(&heights, 10, 10), 8..13);
        assert_eq!(window(&heights, 19, 10), 15..20, "at the end: the room is filled");
        assert_eq!(window(&heights, 99, 10), 15..20, "a choice past the end is the last");
        assert_eq!(window(&[], 0, 10), 0..0);
        assert_eq!(window(&[2, 3, 2], 1, 4), 1..2, "what fits, with the chosen one");
        assert_eq!(window(&[30], 0, 4), 0..1, "too tall: shown cut");
    }

    #[test]
    fn keys_move_within_the_list() {
        assert_eq!(moved(KeyCode::Down, 0, 3), Some(1));
        assert_eq!(moved(KeyCode::Char('j'), 2, 3), Some(2), "stays on the last");
        assert_eq!(moved(KeyCode::Char('k'), 0, 3), Some(0));
        assert_eq!(moved(KeyCode::PageDown, 1, 20), Some(1 + PAGE_STEP));
        assert_eq!(moved(KeyCode::PageUp, 3, 20), Some(0));
        assert_eq!(moved(KeyCode::End, 0, 20), Some(19));
        assert_eq!(moved(KeyCode::Home, 7, 20), Some(0));
        assert_eq!(moved(KeyCode::Char('x'), 0, 3), None);
    }
}
