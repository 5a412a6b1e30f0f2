//! A viewer's active hall over time (rule 2).
//!
//! At any instant the active hall is the hall of the viewer's most recently opened connection
//! that is alive then. Time is counted only there, so two tabs in one hall count once and two
//! halls at once never count twice.

use std::collections::BinaryHeap;

use super::facts::{ConnFact, HallIx};
use crate::domain::time::{Millis, Span};

/// A stretch of time during which one hall was the viewer's active hall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveSpan {
    pub span: Span,
    pub hall: HallIx,
    /// Index of the connection that made the hall active.
    pub conn: u32,
}

/// The active-hall timeline as sorted, disjoint spans (half-open: only their measure matters).
/// `conns` must be in opening order.
pub fn active_spans(conns: &[ConnFact]) -> Vec<ActiveSpan> {
    // Sweep over start and end points; the heap holds the ranks (opening order) of connections
    // that have started, and a rank is dropped lazily once its connection has ended.
    let mut points: Vec<(Millis, u32)> = Vec::with_capacity(conns.len() * 2);
    for (i, c) in conns.iter().enumerate() {
        if c.end > c.start {
            points.push((c.start, i as u32));
            points.push((c.end, i as u32));
        }
    }
    points.sort_unstable();
    let mut heap: BinaryHeap<u32> = BinaryHeap::new();
    let mut out: Vec<ActiveSpan> = Vec::new();
    let mut k = 0;
    while k < points.len() {
        let t = points[k].0;
        while k < points.len() && points[k].0 == t {
            let rank = points[k].1;
            if conns[rank as usize].start == t {
                heap.push(rank);
            }
            k += 1;
        }
        while let Some(&top) = heap.peek() {
            if conns[top as usize].end <= t {
                heap.pop();
            } else {
                break;
            }
        }
        let (Some(&top), Some(&(next, _))) = (heap.peek(), points.get(k)) else {
            continue;
        };
        let hall = conns[top as usize].hall;
        match out.last_mut() {
            Some(last) if last.span.end == t && last.hall == hall && last.conn == top => {
                last.span.end = next;
            }
            _ => out.push(ActiveSpan {
                span: Span::new(t, next),
                hall,
                conn: top,
            }),
        }
    }
    out
}

/// The connection that decides the active hall at instant `t`, with both ends of each
/// connection's life included (rule 4 asks about single instants).
pub fn active_conn_at(conns: &[ConnFact], t: Millis) -> Option<usize> {
    conns.iter().rposition(|c| c.alive_at(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(hall: HallIx, start: Millis, end: Millis) -> ConnFact<'static> {
        ConnFact {
            id: "c",
            hall,
            start,
            end,
            closed: true,
        }
    }

    fn spans(v: &[ActiveSpan]) -> Vec<(Millis, Millis, HallIx)> {
        v.iter()
            .map(|a| (a.span.start, a.span.end, a.hall))
            .collect()
    }

    #[test]
    fn later_connection_wins_and_earlier_resumes() {
        let conns = [conn(0, 0, 100), conn(1, 20, 50)];
        assert_eq!(
            spans(&active_spans(&conns)),
            vec![(0, 20, 0), (20, 50, 1), (50, 100, 0)]
        );
    }

    #[test]
    fn two_tabs_in_one_hall_count_once() {
        let conns = [conn(0, 0, 100), conn(0, 10, 60)];
        let a = active_spans(&conns);
        let total: Millis = a.iter().filter(|s| s.hall == 0).map(|s| s.span.len()).sum();
        assert_eq!(total, 100);
    }

    #[test]
    fn instant_queries_include_both_ends() {
        let conns = [conn(0, 0, 100), conn(1, 100, 200)];
        assert_eq!(active_conn_at(&conns, 100), Some(1));
        assert_eq!(active_conn_at(&conns, 99), Some(0));
        assert_eq!(active_conn_at(&conns, 200), Some(1));
        assert_eq!(active_conn_at(&conns, 201), None);
    }
}
